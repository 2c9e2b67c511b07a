"""`forage eval`: run suites through the agent, score, summarize, gate and report.

Modules: plots, report, runner, scoring, site, strategies, summary.
"""
