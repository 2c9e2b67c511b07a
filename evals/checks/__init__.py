"""Checks on real material: code QA recall, extraction, the safety suite, the live Gemini check.

Modules: codeqa, commits, extraction, history, live_gemini, safety, safety_fixtures.
Subpackages: faults.
"""
