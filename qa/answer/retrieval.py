"""Question -> ranked passages: dense (FAISS) and lexical (BM25) rankings fused by RRF.

Reciprocal rank fusion needs no score calibration between the two retrievers (cosines and
BM25 scores live on different scales), which is why it is used here rather than a convex
combination of scores. Every hit keeps its cosine similarity as `score`, the scale that
abstention is calibrated on.

In a collection of several languages the dense ranking is made per passage language and
merged on one scale (cosine plus the calibrated language offset, see qa/store/calibration.py):
a multilingual model's cosines run lower across languages, so a plain ranking would put
every passage in the question's language first.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np

from qa.documents import Hit
from qa.store.stores import Admitted, Snapshot

RRF_K = 60  # the constant of Cormack et al. (2009); dampens the weight of top ranks
CANDIDATES = 50  # per retriever, before fusion


def reciprocal_rank_fusion(rankings: Sequence[Sequence[int]], k: int = RRF_K) -> list[int]:
    """Ids ordered by sum of 1/(k + rank) over the rankings that contain them; ties keep
    the order of first appearance."""
    scores: dict[int, float] = {}
    for ranking in rankings:
        for rank, item in enumerate(ranking, start=1):
            scores[item] = scores.get(item, 0.0) + 1.0 / (k + rank)
    return sorted(scores, key=lambda i: -scores[i])


def dense_ranking(
    store: Snapshot,
    query: np.ndarray,
    n: int,
    unit: str = "passage",
    allowed: Admitted = None,
    offsets: Mapping[str, float] | None = None,
) -> list[int]:
    """The n nearest rows; with language `offsets` (every passage language of the store ->
    what to add to its cosines), the n nearest of each language, merged by offset cosine."""
    if not offsets:
        return [row for row, _ in store.dense_search(query, n, unit, allowed)]
    scored = [
        (cosine + offset, row)
        for language, offset in offsets.items()
        for row, cosine in store.dense_search(query, n, unit, allowed, language)
    ]
    scored.sort(key=lambda sr: -sr[0])
    return [row for _, row in scored[:n]]


def retrieve(
    store: Snapshot,
    query: np.ndarray,
    question: str,
    k: int,
    *,
    unit: str = "passage",
    allowed: Admitted = None,
    offsets: Mapping[str, float] | None = None,
    names_elsewhere: Sequence[str] = (),
) -> list[Hit]:
    """The k best passages for the question (and its embedding `query`), best first, each
    scored by cosine; with `allowed` (what the store's `rows_admitted` gave), only among
    those; with language `offsets`, dense candidates of every language compete fairly.
    `names_elsewhere`: what the places the question names are called in the collection's
    other languages (qa/answer/places.py), searched for lexically as well."""
    n = max(CANDIDATES, 2 * k)
    dense = dense_ranking(store, query, n, unit, allowed, offsets)
    words = " ".join([question, *names_elsewhere])
    lexical = [row for row, _ in store.lexical_search(words, n, allowed)]
    fused = reciprocal_rank_fusion([dense, lexical])[:k]
    return store.hits(query, fused)
