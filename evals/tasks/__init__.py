"""The suites `forage eval` runs: generators that write seeded cases (files, pages, PDFs) to disk.

Modules: base, codeqa, cross_source, faults, gather, haystack, history, keys, niah, registry, safety, variables, words.
"""
