"""Packing: route (full or select), the fidelity ladder, tagged blocks under a budget, the manifest.

Modules: ladder, packing, routing.
"""
