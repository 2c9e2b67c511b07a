"""Local files inside the roots: walk, read safely, bundle, search; office documents and git checkouts.

Modules: bundle, disk_readers, front, git, next_page, office, safe_read, search, text, walk.
"""
