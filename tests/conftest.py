"""Shared fixtures: the real model (loaded once per session), real indexes, real PDFs."""

from __future__ import annotations

from qa.threads import set_thread_defaults

set_thread_defaults()  # the test process is an entry point like `qa`: before numpy loads

import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from qa.api import QA
from qa.config import Settings
from qa.store.embedding import get_embedder

ROOT = Path(__file__).resolve().parent.parent
CORPUS = ROOT / "corpus"


@pytest.fixture(scope="session")
def embedder():
    """The real default model, loaded once for the whole session."""
    return get_embedder(Settings().model)


class CountingEmbedder:
    """The real embedder, counting the passages it is asked to embed."""

    def __init__(self, inner) -> None:
        self.inner = inner
        self.name, self.dimension, self.max_tokens = inner.name, inner.dimension, inner.max_tokens
        self.embedded: list[str] = []

    def embed_passages(self, texts):
        self.embedded.extend(texts)
        return self.inner.embed_passages(texts)

    def __getattr__(self, name):
        if name == "embed_passages_with_sentences" and hasattr(
            self.inner, "embed_passages_with_sentences"
        ):

            def pooled(texts, spans):
                self.embedded.extend(texts)
                return self.inner.embed_passages_with_sentences(texts, spans)

            return pooled
        raise AttributeError(name)

    def embed_queries(self, texts) -> np.ndarray:
        return self.inner.embed_queries(texts)

    def count_tokens(self, text: str) -> int:
        return self.inner.count_tokens(text)


def make_qa(root: Path, embedder, docs: dict[str, str | bytes] | None = None, **settings) -> QA:
    """A project folder under `root` with `corpus/` (the given files, or a copy of the real
    corpus) and an index dir; returns a QA over it (the index is not built yet)."""
    corpus = root / "corpus"
    if docs is None:
        shutil.copytree(CORPUS, corpus)
    else:
        corpus.mkdir(parents=True)
        for name, content in docs.items():
            path = corpus / name
            path.parent.mkdir(parents=True, exist_ok=True)
            if isinstance(content, bytes):
                path.write_bytes(content)
            else:
                path.write_text(content, encoding="utf-8")
    s = Settings(corpus_dir=corpus, index_dir=root / "index", **settings)
    return QA(s, embedder=embedder)


@pytest.fixture(scope="session")
def corpus_qa(tmp_path_factory, embedder) -> QA:
    """The shipped corpus, indexed once for the session."""
    qa = make_qa(tmp_path_factory.mktemp("corpus-project"), embedder)
    qa.build()
    return qa


def write_pdf(
    path: Path,
    pages: list[str],
    *,
    title: str | None = None,
    password: str | None = None,
    header: str | None = None,
    outline: dict[int, list[tuple[int, str]]] | None = None,
) -> Path:
    """A real PDF with the given text on each page (DejaVu font, so any Unicode works).
    With `header`, every page gets a running header and its page number in the footer.
    `outline`: page number (from 1) -> (level from 1, title) bookmarks that open there."""
    from fpdf import FPDF

    pdf = FPDF()
    font = Path("/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf")
    if font.exists():
        pdf.add_font("DejaVu", "", str(font))
        pdf.set_font("DejaVu", size=11)
    else:  # core font: Latin-1 text only
        pdf.set_font("helvetica", size=11)
    if title:
        pdf.set_title(title)
    if password is not None:
        pdf.set_encryption(owner_password="owner-secret", user_password=password)
    for n, text in enumerate(pages, start=1):
        pdf.set_auto_page_break(True, margin=25)
        pdf.add_page()
        if header:
            pdf.cell(0, 8, header, new_x="LMARGIN", new_y="NEXT")
        for level, name in (outline or {}).get(n, []):
            pdf.start_section(name, level=level - 1)
        pdf.multi_cell(0, 6, text)
        if header:
            pdf.set_auto_page_break(False)
            pdf.set_y(-20)
            pdf.cell(0, 8, str(n), align="C")
    pdf.output(str(path))
    return path


def free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_server(
    root: Path, env: dict[str, str] | None = None, timeout: float = 300, args: tuple[str, ...] = ()
):
    """`qa serve` in a subprocess in `root`, the way a user starts it (with more `args`, such
    as `--host`); returns (process, url) once the port answers on 127.0.0.1, or fails with the
    server's output."""
    import os
    import socket
    import subprocess
    import sys
    import time

    port = free_port()
    log = (root / "serve.log").open("w")
    proc = subprocess.Popen(
        [sys.executable, "-m", "qa.cli", "serve", "--port", str(port), *args],
        cwd=root,
        stdout=log,
        stderr=subprocess.STDOUT,
        env={**os.environ, **(env or {})},
    )
    deadline = time.time() + timeout
    while time.time() < deadline:
        if proc.poll() is not None:
            raise AssertionError("qa serve exited:\n" + (root / "serve.log").read_text())
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return proc, f"http://127.0.0.1:{port}/"
        except OSError:
            time.sleep(0.5)
    proc.kill()
    raise AssertionError("qa serve did not start:\n" + (root / "serve.log").read_text())


def stop_server(proc) -> None:
    proc.terminate()
    try:
        proc.wait(timeout=30)
    except Exception:
        proc.kill()


def shipped_settings() -> dict[str, str]:
    """The title and example questions `make run` gives the shipped corpus (Makefile)."""
    import re

    makefile = (ROOT / "Makefile").read_text(encoding="utf-8")
    title = re.search(r"^SHIPPED_TITLE \?= (.+)$", makefile, re.M).group(1)
    examples = re.search(r"^SHIPPED_EXAMPLES \?= (.+)$", makefile, re.M).group(1)
    return {"QA_APP_TITLE": title.strip(), "QA_EXAMPLES": examples.strip()}


@pytest.fixture(scope="session")
def served_corpus(tmp_path_factory, embedder):
    """One app for the session, started on a copy of the real corpus with no index yet, as
    `make run` serves it. Tests may add documents to it but never remove the shipped ones."""
    root = tmp_path_factory.mktemp("served")
    make_qa(root, embedder)
    proc, url = start_server(root, env=shipped_settings())
    yield url, root
    stop_server(proc)


@pytest.fixture(scope="session")
def pg_server():
    """A real PostgreSQL 18 + pgvector server for the session (qa/store/db.py: as `nobody` when
    root, Unix socket only, fsync off), in a throwaway folder."""
    import tempfile

    from qa.store import db

    data_dir = Path(tempfile.mkdtemp(prefix="qa-test-pg-")) / "data"
    data_dir.parent.chmod(0o755)
    server = db.start_server(data_dir)
    yield server
    db.remove_server(data_dir)
    shutil.rmtree(data_dir.parent, ignore_errors=True)


@pytest.fixture
def pg_url(pg_server):
    """A fresh, empty database on the session server; dropped afterwards."""
    import uuid

    import psycopg

    name = f"t_{uuid.uuid4().hex[:12]}"
    admin = pg_server.url.replace("/qa?", "/postgres?")
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f"CREATE DATABASE {name}")
    yield pg_server.url.replace("/qa?", f"/{name}?")
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f"DROP DATABASE {name} WITH (FORCE)")


def save_tiny_cross_encoder(folder: Path, layers: int, labels: dict[int, str] | None = None):
    """A randomly initialised BERT classifier with MiniLM's tokenizer, saved where a
    CrossEncoder loads it: for tests of the wiring, its outputs are noise by construction.
    `labels` (id -> name) for a classifier, one output (a score) without."""
    import torch
    from transformers import BertConfig, BertForSequenceClassification, BertTokenizerFast

    from qa.store.embedding import resolve_model_path

    tokenizer = BertTokenizerFast.from_pretrained(resolve_model_path("all-MiniLM-L6-v2"))
    torch.manual_seed(0)
    named = {"id2label": labels, "label2id": {v: k for k, v in labels.items()}} if labels else {}
    config = BertConfig(
        vocab_size=tokenizer.vocab_size,
        hidden_size=32,
        num_hidden_layers=layers,
        num_attention_heads=2,
        intermediate_size=64,
        num_labels=len(labels) if labels else 1,
        **named,
    )
    BertForSequenceClassification(config).save_pretrained(folder)
    tokenizer.save_pretrained(folder)


def hits_of(texts: list[str], score: float):
    """One retrieved hit per text, each its own one-page document d0, d1, ... ranked in
    order, all with the same retrieval score."""
    from qa.documents import Hit, Passage

    return [
        Hit(Passage(f"d{i}#0-{len(t)}", f"d{i}", 0, len(t), 1, 1, t), score, i + 1)
        for i, t in enumerate(texts)
    ]


def run_in_time(code: str, stdin: str = "", seconds: float = 30) -> str:
    """The output of `code` run in a fresh interpreter; a run over `seconds` fails the test
    (a pattern that backtracks runs in C and cannot be interrupted where it runs)."""
    done = subprocess.run(
        [sys.executable, "-c", code], input=stdin, capture_output=True, text=True, timeout=seconds
    )
    assert done.returncode == 0, done.stderr
    return done.stdout
