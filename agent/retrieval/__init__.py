"""Retrieval: chunk, rank (BM25, symbols, paths, dense vectors), index in Chroma, select what fits.

Modules: background, blocks, bm25, chroma_index, chunking, compact, embeddings, excerpts, indexing, lexicon, minilm, plan, priors, ranking, select, skipping, symbols, units.
"""
