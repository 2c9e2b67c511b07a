"""The suites `forage eval` runs: generators that write seeded cases (files, pages, PDFs) to disk.

Modules: base, codeqa, cross_source, gather, haystack, history, keys, niah, registry, safety, variables, words.
"""
