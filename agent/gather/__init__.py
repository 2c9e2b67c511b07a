"""Gathering: source specs, the one Document builder and trust rule, what one call leaves behind.

Modules: calls, documents, sources.
"""
