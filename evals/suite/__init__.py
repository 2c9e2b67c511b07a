"""`forage eval`: run suites through the agent, score, summarize, gate and report.

Modules: events, plots, report, runner, scoring, site, strategies, summary.
"""
