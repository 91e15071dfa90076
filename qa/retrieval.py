"""Question -> ranked passages (dense retrieval over the passage store)."""

from __future__ import annotations

from typing import Protocol

import numpy as np

from .documents import Hit
from .embedding import Embedder


class PassageStore(Protocol):
    """What retrieval needs from a store; the local FAISS index is one implementation."""

    def search(self, query_vectors: np.ndarray, k: int) -> list[list[Hit]]: ...


def retrieve(store: PassageStore, embedder: Embedder, question: str, k: int) -> list[Hit]:
    """The k passages most similar to the question, best first, with cosine scores."""
    query = embedder.embed_queries([question])
    return store.search(query, k)[0]
