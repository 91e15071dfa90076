"""Which FAISS index holds the passage vectors: exact search for ordinary collections,
approximate search (IVF or HNSW) once exact search gets too slow.

Exact search reads every vector for every question, and with the default dense unit
(`sentence`) every sentence vector too, held in memory as float32: at 20k passages (~100k
sentences) that is ~35 ms p95 and ~240 MB on 2 shared cores, at 50k already ~90 ms and
~620 MB (`bench/scale.py --library`). Below `AUTO_LIMIT` nothing beats its recall, so it
stays the choice there.
Past it, `auto` picks an inverted-file index (IVF, flat storage): at 1M structured vectors
`bench/scale.py` measured recall@10 0.98-0.997 against exact search at under 45 ms p95 in
1.4 GB, built in 70 s, where HNSW (M=32) took 9 minutes to build and reached 0.86. Both approximate kinds store the vectors
uncompressed, so `reconstruct` (used by incremental updates) returns them exactly.
"""

from __future__ import annotations

import math

import numpy as np

KINDS = ("auto", "flat", "ivf", "hnsw")
AUTO_LIMIT = 20_000  # passages; at and past this `auto` means IVF
HNSW_M = 32  # graph links per vector
HNSW_EF_CONSTRUCTION = 64
HNSW_EF_SEARCH = 128
IVF_NPROBE = 128  # lists searched per question: recall@10 >= 0.98 at 1M in bench/scale.py


def choose(kind: str, n: int) -> str:
    """The concrete kind for a setting and a number of passages."""
    if kind not in KINDS:
        raise ValueError(f"unknown vector index {kind!r}; use one of {', '.join(KINDS)}")
    if kind == "auto":
        kind = "flat" if n < AUTO_LIMIT else "ivf"
    if kind == "ivf" and ivf_lists(n) < 2:
        return "flat"  # too few vectors to train lists on
    return kind


def ivf_lists(n: int) -> int:
    """About 2·√n inverted lists (a power of two; FAISS suggests 1-16·√n): few enough to
    train k-means on 64 vectors per list in a minute at 1M vectors; at least 39 training
    vectors per list."""
    lists = 2 ** max(0, round(math.log2(max(1.0, 2 * math.sqrt(n)))))
    return max(1, min(lists, n // 39))


def build(vectors: np.ndarray, kind: str):
    """A FAISS inner-product index (cosine on normalised vectors) holding `vectors` in row
    order; `kind` is flat, ivf, hnsw or auto."""
    import faiss

    vectors = np.ascontiguousarray(vectors, dtype=np.float32)
    n, d = vectors.shape
    kind = choose(kind, n)
    if kind == "flat":
        index = faiss.IndexFlatIP(d)
    elif kind == "hnsw":
        index = faiss.IndexHNSWFlat(d, HNSW_M, faiss.METRIC_INNER_PRODUCT)
        index.hnsw.efConstruction = HNSW_EF_CONSTRUCTION
    else:
        index = faiss.index_factory(d, f"IVF{ivf_lists(n)},Flat", faiss.METRIC_INNER_PRODUCT)
        sample = vectors
        if n > 64 * index.nlist:  # k-means needs a sample, not everything
            rows = np.random.default_rng(0).choice(n, 64 * index.nlist, replace=False)
            sample = vectors[np.sort(rows)]
        index.train(sample)
    if n:
        index.add(vectors)
    configure(index)
    return index


def configure(index) -> None:
    """Search settings, and the id map IVF needs for `reconstruct`; call after loading."""
    import faiss

    if isinstance(index, faiss.IndexHNSW):
        index.hnsw.efSearch = HNSW_EF_SEARCH
    elif isinstance(index, faiss.IndexIVF):
        index.nprobe = min(IVF_NPROBE, index.nlist)
        index.make_direct_map()


def search_params(index, selector):
    """FAISS search parameters that restrict a search to `selector`'s ids, of the class
    the index kind expects, keeping its configured search depth."""
    import faiss

    if isinstance(index, faiss.IndexHNSW):
        return faiss.SearchParametersHNSW(sel=selector, efSearch=index.hnsw.efSearch)
    if isinstance(index, faiss.IndexIVF):
        return faiss.SearchParametersIVF(sel=selector, nprobe=index.nprobe)
    return faiss.SearchParameters(sel=selector)


def kind_of(index) -> str:
    import faiss

    if isinstance(index, faiss.IndexHNSW):
        return "hnsw"
    if isinstance(index, faiss.IndexIVF):
        return "ivf"
    return "flat"
