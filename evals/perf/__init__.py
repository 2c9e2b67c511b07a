"""Benchmarks: ratios against baselines measured in the same run (`make bench`).

Modules: bench_ask, bench_index, bench_mcp, bench_pack, bench_pdf, bench_query, bench_retrieval, bench_safety, bench_web, common, table.
"""
