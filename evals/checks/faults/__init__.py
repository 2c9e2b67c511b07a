"""Fault cases: each one injects a fault on one surface and reports what the user saw and what was kept.

Modules: edge, harness, machine, model_api, nothing_gathered, registry, resume, state, tools.
"""
