"""Gathering: source specs, Documents built from what readers return, the in-process pack path.

Modules: calls, direct, documents, sources.
"""
