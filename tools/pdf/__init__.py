"""PDFs: open and repair, extract pages in worker processes with limits, cache by content hash.

Modules: cache, extract, hidden, limits, opening, outline, pages, pool, search, worker.
"""
