"""Gathering: source specs, Documents built from what readers return, the in-process pack path.

Modules: direct, documents, sources.
"""
