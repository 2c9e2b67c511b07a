"""The suites `forage eval` runs, by name. Each generator writes its cases to disk, seeded.

Modules: base (Case, Suite, Gate, Needle, BuildContext), registry (SUITES, GENERATED, expand),
haystack, keys, and one module per suite: codeqa, cross_source, gather, niah, safety, variables, words.
"""
