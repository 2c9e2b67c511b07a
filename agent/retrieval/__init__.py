"""Retrieval: chunk, rank (BM25, symbols, paths, dense vectors), index in Chroma, select what fits.

Modules: background, bm25, chroma_index, chunking, embeddings, excerpts, lexicon, minilm, ranking, select, symbols.
"""
