"""Benchmark 4: add one document to a large index; only its chunks are embedded.

A generated corpus (`synth.py`: the corpus repeated with variations) is indexed from
scratch (the baseline, same run); then one new document is added and the index updated
as `qa index` does, and loaded again as the next question would. Time to ready = update +
load. Target: <= 5% of the full build, with only the new document's chunks embedded.

    nice .venv/bin/python bench/incremental.py                       # 28 copies, ~2,000 chunks
    nice .venv/bin/python bench/incremental.py --copies 282          # ~20,000 chunks (long)
"""

from __future__ import annotations

import tempfile
import time
from pathlib import Path

from qa.store.build import update_index
from qa.store.embedding import get_embedder
from qa.store.local import load_index

from _common import MINILM, as_in_a_new_process, emit, parser, table
from build import TimedEmbedder
from synth import sources, vary, write_copies


def main() -> None:
    p = parser(__doc__.splitlines()[0])
    p.add_argument("--model", default=MINILM, help=f"embedding model (default {MINILM})")
    p.add_argument("--copies", type=int, default=28, help="varied corpus copies, 71 chunks each")
    p.add_argument("--vector-index", default="auto", help="QA_VECTOR_INDEX (default auto)")
    args = p.parse_args()
    embedder = get_embedder(args.model)
    embedder.embed_passages(["warm up"])
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        corpus, index_dir = root / "corpus", root / "index"
        write_copies(corpus, args.copies)
        full = TimedEmbedder(embedder)
        as_in_a_new_process()
        started = time.perf_counter()
        built = update_index([corpus], index_dir, full, vector_index=args.vector_index)
        full_s = time.perf_counter() - started

        import random

        new = corpus / "new-document.txt"
        new.write_text(vary(sources()[0].read_text(encoding="utf-8"), random.Random(-1)))
        timed = TimedEmbedder(embedder)
        as_in_a_new_process()  # `qa index` adding the document is a new process
        started = time.perf_counter()
        report = update_index([corpus], index_dir, timed, vector_index=args.vector_index)
        update_s = time.perf_counter() - started
        started = time.perf_counter()
        index = load_index(index_dir)
        load_s = time.perf_counter() - started
        new_chunks = sum(p.doc_id.endswith("new-document.txt") for p in index.passages)
    ready = update_s + load_s
    rows = [
        {
            "step": "full build (baseline)",
            "seconds": full_s,
            "passages embedded": built.embedded_passages,
            "in model s": sum(full.seconds.values()),
            "share of full build": 1.0,
        },
        {
            "step": "add one document: update",
            "seconds": update_s,
            "passages embedded": report.embedded_passages,
            "in model s": sum(timed.seconds.values()),
            "share of full build": update_s / full_s,
        },
        {"step": "load the new version", "seconds": load_s, "share of full build": load_s / full_s},
        {"step": "time to ready", "seconds": ready, "share of full build": ready / full_s},
    ]
    note = (
        f"\n{report.total_passages} passages after the update; the new document has "
        f"{new_chunks} chunks and {report.embedded_passages} passages were embedded "
        f"({'only its own' if report.embedded_passages == new_chunks else 'NOT only its own'}); "
        f"model {args.model}; vector index {index.manifest['vector_index']}; target <= 5%"
    )
    result = {"rows": rows, "model": args.model, "passages": report.total_passages}
    emit(args, "incremental update", result, table(rows) + note)


if __name__ == "__main__":
    main()
