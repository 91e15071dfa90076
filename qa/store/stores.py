"""Where the passages live: the local FAISS folder (default) or PostgreSQL + pgvector.

`open_store(settings)` picks the backend: `postgres` when QA_DATABASE_URL is set, else
`local`. A store hands out `Snapshot`s, the read side that questions are answered from
(a loaded index version), and takes updates (add, change, remove documents). The QA API
holds one snapshot and swaps it when `live_version()` says another process changed the
store, so an app instance sees documents that others added without restarting.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Protocol

import numpy as np

from qa.config import Settings
from qa.documents import Document, Hit, Passage
from qa.errors import IndexMissing
from qa.filters import Filters
from qa.ingest.pipeline import Progress, UpdateReport
from qa.store.build import remove_documents, update_index
from qa.store.embedding import Embedder
from qa.store.local import current_version, index_exists, load_index

# Which rows a search may return, as `rows_admitted` gives it: a row mask (the local index),
# the filters themselves (a database runs them in SQL), or None (every row).
Admitted = np.ndarray | Filters | None


class Snapshot(Protocol):
    """One consistent version of the store, as retrieval and answering read it. Rows are
    positions in `passages`; `allowed` is whatever `rows_admitted` returned (a row mask
    for the local index, the filters themselves for a database that runs them in SQL)."""

    documents: Mapping[str, Document]
    passages: list[Passage]
    manifest: dict  # "calibration" (abstention thresholds), "model", ...

    @property
    def version(self) -> str: ...

    @property
    def term_idf(self) -> dict[str, dict[str, float]]: ...

    def rows_admitted(self, filters: Filters | None) -> Admitted: ...

    def dense_search(
        self,
        query_vector: np.ndarray,
        k: int,
        unit: str = "passage",
        allowed: Admitted = None,
        language: str | None = None,
    ) -> list[tuple[int, float]]: ...

    def lexical_search(
        self, question: str, k: int, allowed: Admitted = None
    ) -> list[tuple[int, float]]: ...

    def hits(self, query_vector: np.ndarray, rows: list[int]) -> list[Hit]: ...

    def passage_sentence_vectors(self, passage: Passage) -> np.ndarray: ...


class Store(Protocol):
    """A backend: versions to read, documents to add and remove."""

    def live_version(self) -> str | None:
        """The version readers should be on; None when nothing is indexed yet."""

    def load(self, expected_model: str) -> Snapshot: ...

    def usable(self, expected_model: str) -> bool:
        """Whether a snapshot can be loaded and used as things are (False: ensure_index
        builds, which reuses what it can: an outdated calibration or BM25 index is redone from
        the stored vectors and texts)."""

    def refresh(self, embedder: Embedder) -> bool:
        """Redo what an older qa derived from the stored vectors alone (the abstention
        calibration), reading no document; True when something was redone."""

    def update(
        self,
        paths: list[Path],
        embedder: Embedder,
        settings: Settings,
        *,
        rebuild: bool = False,
        on_progress: Progress | None = None,
    ) -> UpdateReport: ...

    def remove(self, doc_ids: list[str], embedder: Embedder) -> UpdateReport: ...


class LocalStore:
    """The FAISS + BM25 folder of qa/store/local.py; nothing to install, fastest on one machine."""

    def __init__(self, index_dir: Path, vector_index: str = "auto") -> None:
        self.index_dir = index_dir
        self.vector_index = vector_index  # FAISS index kind, qa/store/ann.py

    def live_version(self) -> str | None:
        return current_version(self.index_dir)

    def load(self, expected_model: str) -> Snapshot:
        if not current_version(self.index_dir):
            raise IndexMissing(f"No index in {self.index_dir}/. Build it with `qa index`.")
        return load_index(self.index_dir, expected_model=expected_model)

    def usable(self, expected_model: str) -> bool:
        from qa.errors import IndexError_

        if not index_exists(self.index_dir):
            return False
        try:
            return load_index(self.index_dir, expected_model=expected_model).current
        except IndexError_:
            return False

    def refresh(self, embedder: Embedder) -> bool:
        return False  # an outdated folder is not `usable`: ensure_index updates it from the corpus

    def update(self, paths, embedder, settings, *, rebuild=False, on_progress=None):
        return update_index(
            paths,
            self.index_dir,
            embedder,
            chunk_tokens=settings.chunk_tokens,
            chunk_overlap=settings.chunk_overlap,
            max_file_mb=settings.max_file_mb,
            max_pdf_pages=settings.max_pdf_pages,
            rebuild=rebuild,
            on_progress=on_progress,
            vector_index=settings.vector_index,
        )

    def remove(self, doc_ids: list[str], embedder: Embedder) -> UpdateReport:
        return remove_documents(self.index_dir, doc_ids, embedder, self.vector_index)


def open_store(settings: Settings, dimension_of=None) -> Store:
    """The backend that the settings select. `dimension_of` gives the embedding size (the
    database creates its vector columns with it) without loading the model needlessly."""
    if settings.database_url:
        from qa.store.postgres import PgStore

        return PgStore(settings.database_url, settings.index_dir.resolve().parent, dimension_of)
    return LocalStore(settings.index_dir, settings.vector_index)
