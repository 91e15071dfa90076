"""Question -> ranked passages: dense (FAISS) and lexical (BM25) rankings fused by RRF.

Reciprocal rank fusion needs no score calibration between the two retrievers (cosines and
BM25 scores live on different scales), which is why it is used here rather than a convex
combination of scores. Every hit keeps its cosine similarity as `score`, the scale that
abstention is calibrated on.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

import numpy as np

from .documents import Hit

RRF_K = 60  # the constant of Cormack et al. (2009); dampens the weight of top ranks
CANDIDATES = 50  # per retriever, before fusion


class PassageStore(Protocol):
    """What retrieval needs from a store; the local FAISS + BM25 index is one implementation.
    Rows are the store's passage positions."""

    def dense_search(
        self,
        query_vector: np.ndarray,
        k: int,
        unit: str = "passage",
        allowed: np.ndarray | None = None,
    ) -> list[tuple[int, float]]: ...

    def lexical_search(
        self, question: str, k: int, allowed: np.ndarray | None = None
    ) -> list[tuple[int, float]]: ...

    def hits(self, query_vector: np.ndarray, rows: list[int]) -> list[Hit]: ...


def reciprocal_rank_fusion(rankings: Sequence[Sequence[int]], k: int = RRF_K) -> list[int]:
    """Ids ordered by sum of 1/(k + rank) over the rankings that contain them; ties keep
    the order of first appearance."""
    scores: dict[int, float] = {}
    for ranking in rankings:
        for rank, item in enumerate(ranking, start=1):
            scores[item] = scores.get(item, 0.0) + 1.0 / (k + rank)
    return sorted(scores, key=lambda i: -scores[i])


def retrieve(
    store: PassageStore,
    query: np.ndarray,
    question: str,
    k: int,
    unit: str = "passage",
    allowed: np.ndarray | None = None,
) -> list[Hit]:
    """The k best passages for the question (and its embedding `query`), best first, each
    scored by cosine; with `allowed` (a mask over the store's rows), only among those."""
    n = max(CANDIDATES, 2 * k)
    dense = [row for row, _ in store.dense_search(query, n, unit, allowed)]
    lexical = [row for row, _ in store.lexical_search(question, n, allowed)]
    fused = reciprocal_rank_fusion([dense, lexical])[:k]
    return store.hits(query, fused)
