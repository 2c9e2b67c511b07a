"""Fault cases: each one injects a fault on one surface and reports what the user saw and what was kept.

Modules: harness, model_api, registry.
"""
