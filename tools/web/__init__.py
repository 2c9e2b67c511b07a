"""The web: the network policy, policy-checked fetches, rendering in Chromium, pages and whole sites.

Modules: crawl, fetch, hidden_marks, netpolicy, page, render, site_index.
"""
