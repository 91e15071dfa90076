"""Question to answer: retrieval, reranking, scoring, extractive and LLM answers."""
