"""Vectors and stores: embedding, FAISS/BM25 local index, PostgreSQL + pgvector."""
