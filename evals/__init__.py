"""Evaluations: generated suites, checks on real material, and benchmarks.

Subpackages: checks, perf, suite, tasks.
"""
