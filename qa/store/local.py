"""The local passage store: FAISS vectors + passages + documents + manifest, built incrementally.

Layout (every build writes a new version folder, then switches `CURRENT` atomically, so a
killed build leaves the previous index untouched):

    index/
      CURRENT                 name of the live version folder
      .lock                   held while a build runs
      v-<time>-<rand>/
        documents.jsonl       cleaned text and metadata per document
        passages.jsonl        one passage per line, row i = FAISS id i
        vectors.faiss         inner product over normalised vectors = cosine; exact, or
                              approximate for large indexes (qa/store/ann.py)
        sentences.npy         a vector per sentence of each passage, in passage order (float16)
        lexical/              BM25 over the same passages (bm25s files)
        manifest.json         written last: format, model, chunking, files and sizes
"""

from __future__ import annotations

import json
import os
import shutil
import time
import uuid
from collections.abc import Callable
from dataclasses import asdict, dataclass, field, replace
from functools import cached_property
from pathlib import Path

import numpy as np

from qa.documents import Document, Hit, Metadata, Passage
from qa.errors import DocumentError, IndexBusy, IndexIncompatible, IndexMissing, QAError
from qa.filters import Filters
from qa.ingest.chunking import chunk_document
from qa.ingest.pipeline import Skipped, discover, fingerprint, read_document
from qa.store import ann
from qa.store.calibration import VERSION as CALIBRATION_VERSION
from qa.store.calibration import calibrate
from qa.store.embedding import Embedder, embed_with_sentences
from qa.store.lexical import LexicalIndex
from qa.text import idf_by_language

FORMAT_VERSION = 4
CLEANING_VERSION = 3  # bump when cleaning or chunking output changes: forces re-embedding
CURRENT = "CURRENT"
Progress = Callable[[int, int], None]


@dataclass(frozen=True)
class UpdateReport:
    added: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    skipped: list[Skipped] = field(default_factory=list)
    embedded_passages: int = 0
    total_passages: int = 0
    rebuilt_because: str | None = None
    notes: list[str] = field(default_factory=list)  # e.g. encodings that were detected
    seconds: float = 0.0
    version: str | None = None

    @property
    def changed(self) -> bool:
        return bool(self.added or self.updated or self.removed)


class LocalIndex:
    """A loaded index version. Immutable: a rebuild produces a new one."""

    def __init__(
        self,
        path: Path,
        manifest: dict,
        documents: dict[str, Document],
        passages: list[Passage],
        vectors,
        lexical: LexicalIndex,
        sentence_vectors: np.ndarray,
    ) -> None:
        self.path = path
        self.manifest = manifest
        self.documents = documents
        self.passages = passages
        self.vectors = vectors  # a faiss index; row i is passages[i]
        self.lexical = lexical  # BM25; row i is passages[i]
        self.sentence_vectors = sentence_vectors  # rows of passage i: sentence_start[i]...
        counts = np.array([len(p.sentences) for p in passages], dtype=np.int64)
        self.sentence_start = np.concatenate([[0], np.cumsum(counts)])
        self.row_of = {p.passage_id: i for i, p in enumerate(passages)}
        self._last_best: tuple[bytes, np.ndarray] | None = None
        self._language_masks: dict[str, np.ndarray] = {}

    @cached_property
    def term_idf(self) -> dict[str, dict[str, float]]:
        return idf_by_language([p.text for p in self.passages], [p.language for p in self.passages])

    @property
    def model(self) -> str:
        return self.manifest["model"]

    @property
    def version(self) -> str:
        return self.path.name

    @property
    def calibrated(self) -> bool:
        """Whether the calibration is of the current kind; else the next update redoes it
        (from the stored vectors, nothing is embedded again)."""
        return self.manifest.get("calibration", {}).get("version") == CALIBRATION_VERSION

    def rows_admitted(self, filters: Filters | None) -> np.ndarray | None:
        """Boolean mask of the passages whose document the filters admit (None: all)."""
        if filters is None or not filters.active:
            return None
        admitted = {d for d, doc in self.documents.items() if filters.admits(doc)}
        return np.fromiter((p.doc_id in admitted for p in self.passages), bool, len(self.passages))

    def dense_search(
        self,
        query_vector: np.ndarray,
        k: int,
        unit: str = "passage",
        allowed: np.ndarray | None = None,
        language: str | None = None,
    ) -> list[tuple[int, float]]:
        """(row, cosine) of the k nearest passages, best first: by the passage vector, or
        (unit="sentence") by the passage's best-matching sentence. With `allowed` (a mask
        over rows), only those passages are searched; with `language`, only its passages."""
        if language is not None:
            in_language = self._language_mask(language)
            allowed = in_language if allowed is None else allowed & in_language
        n = len(self.passages) if allowed is None else int(allowed.sum())
        if not n:
            return []
        k = max(1, min(k, n))
        if unit == "sentence" and self.approximate:
            # Every sentence cannot be scored at this size: the passages the approximate
            # index finds by their own vector are ranked by their best sentence.
            found = self._passage_search(query_vector, SENTENCE_POOL * k, allowed)
            rows = [r for r, _ in found]
            best = self._best_sentence_cosines(query_vector, rows)
            order = np.argsort(-best, kind="stable")[:k]
            return [(rows[i], float(best[i])) for i in order]
        if unit == "sentence":
            best = self._all_best_sentence_cosines(query_vector)
            if allowed is not None:
                best = np.where(allowed, best, -np.inf)
            top = np.argpartition(-best, k - 1)[:k]
            top = top[np.argsort(-best[top], kind="stable")]
            return [(int(i), float(best[i])) for i in top]
        return self._passage_search(query_vector, k, allowed)

    @property
    def approximate(self) -> bool:
        """Whether the passage vectors are in an approximate (large-index) FAISS index."""
        return ann.kind_of(self.vectors) != "flat"

    def _passage_search(
        self, query_vector: np.ndarray, k: int, allowed: np.ndarray | None = None
    ) -> list[tuple[int, float]]:
        query = np.ascontiguousarray(query_vector.reshape(1, -1), dtype=np.float32)
        params = None
        if allowed is not None:
            import faiss

            # a bitmap is built in a millisecond at 1M rows, a batch selector's hash set is not
            bits = np.packbits(allowed, bitorder="little")
            selector = faiss.IDSelectorBitmap(len(allowed), faiss.swig_ptr(bits))
            params = ann.search_params(self.vectors, selector)
        scores, ids = self.vectors.search(query, min(k, len(self.passages)), params=params)
        return [(int(i), float(s)) for i, s in zip(ids[0], scores[0], strict=True) if i >= 0]

    def _language_mask(self, language: str) -> np.ndarray:
        """Boolean mask of the passages in a language (kept: asked at every question)."""
        masks = self._language_masks
        if language not in masks:
            masks[language] = np.fromiter(
                (p.language == language for p in self.passages), bool, len(self.passages)
            )
        return masks[language]

    @cached_property
    def _sentence_matrix(self) -> np.ndarray:
        return np.ascontiguousarray(self.sentence_vectors, dtype=np.float32)

    def _all_best_sentence_cosines(self, query_vector: np.ndarray) -> np.ndarray:
        """`_best_sentence_cosines` of every passage, kept for the last query: a question
        in a collection of several languages searches each language in turn."""
        key = query_vector.tobytes()
        last = self._last_best
        if last is not None and last[0] == key:
            return last[1]
        best = self._best_sentence_cosines(query_vector)
        self._last_best = (key, best)
        return best

    def _best_sentence_cosines(
        self, query_vector: np.ndarray, rows: list[int] | None = None
    ) -> np.ndarray:
        """Per passage (all, or the given rows), the highest cosine of any of its sentences
        (-1 when it has none)."""
        if rows is not None and (self.approximate or len(rows) < len(self.passages) // 8):
            best = np.full(len(rows), -1.0, dtype=np.float32)
            query = query_vector.astype(np.float32)
            for i, r in enumerate(rows):
                block = self.sentence_vectors[self.sentence_start[r] : self.sentence_start[r + 1]]
                if len(block):
                    best[i] = float(np.max(block.astype(np.float32) @ query))
            return best
        cosines = self._sentence_matrix @ query_vector.astype(np.float32)
        best = np.full(len(self.passages), -1.0, dtype=np.float32)
        has = np.diff(self.sentence_start) > 0
        if len(cosines):
            starts = self.sentence_start[:-1][has]
            best[has] = np.maximum.reduceat(cosines, starts)
        return best if rows is None else best[rows]

    def sentences_of(self, rows: list[int]) -> np.ndarray:
        """Stacked sentence vectors of the given passage rows, in order (float32)."""
        if not rows:
            return np.zeros((0, self.vectors.d), dtype=np.float32)
        parts = [
            self.sentence_vectors[self.sentence_start[r] : self.sentence_start[r + 1]] for r in rows
        ]
        return np.vstack(parts).astype(np.float32)

    def passage_sentence_vectors(self, passage: Passage) -> np.ndarray:
        return self.sentences_of([self.row_of[passage.passage_id]])

    def lexical_search(
        self, question: str, k: int, allowed: np.ndarray | None = None
    ) -> list[tuple[int, float]]:
        return self.lexical.search(question, k, allowed)

    def hits(self, query_vector: np.ndarray, rows: list[int]) -> list[Hit]:
        """Hits for given rows, in that order, scored by their similarity with the query:
        the higher of the passage's cosine and its best sentence's."""
        if not rows:
            return []
        cosines = self.reconstruct(rows) @ query_vector
        best_sentence = self._best_sentence_cosines(query_vector, rows)
        scores = np.maximum(cosines, best_sentence)
        return [
            Hit(self.passages[r], float(c), rank)
            for rank, (r, c) in enumerate(zip(rows, scores, strict=True), start=1)
        ]

    def reconstruct(self, rows: list[int]) -> np.ndarray:
        if not rows:
            return np.zeros((0, self.vectors.d), dtype=np.float32)
        return self.vectors.reconstruct_batch(np.asarray(rows, dtype=np.int64)).astype(np.float32)


# --- loading --------------------------------------------------------------------------

REBUILD_HINT = "Rebuild it with `qa index --rebuild`."
SENTENCE_POOL = 4  # approximate index, unit "sentence": passages rescored per passage asked for


def current_version(index_dir: Path) -> str | None:
    try:
        return (index_dir / CURRENT).read_text(encoding="utf-8").strip() or None
    except FileNotFoundError:
        return None


def index_exists(index_dir: Path) -> bool:
    name = current_version(index_dir)
    return bool(name) and (index_dir / name / "manifest.json").exists()


def load_index(index_dir: Path, expected_model: str | None = None) -> LocalIndex:
    """Load the live version; damaged or incompatible indexes fail with a clear message."""
    import faiss

    name = current_version(index_dir)
    if not name:
        raise IndexMissing(f"No index in {index_dir}/. Build it with `qa index`.")
    path = index_dir / name
    try:
        manifest = json.loads((path / "manifest.json").read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise IndexMissing(f"The index in {index_dir}/ is incomplete. {REBUILD_HINT}") from None
    except (json.JSONDecodeError, UnicodeDecodeError):
        raise IndexIncompatible(f"{path}/manifest.json is damaged. {REBUILD_HINT}") from None
    if manifest.get("format_version") != FORMAT_VERSION:
        raise IndexIncompatible(
            f"The index in {index_dir}/ has format {manifest.get('format_version')!r}; this "
            f"version of qa reads format {FORMAT_VERSION}. {REBUILD_HINT}"
        )
    if expected_model and manifest.get("model") != expected_model:
        raise IndexIncompatible(
            f"The index in {index_dir}/ was built with model {manifest.get('model')!r}, but "
            f"the model setting is {expected_model!r}. Set QA_MODEL={manifest.get('model')} "
            f"or rebuild with `qa index --rebuild`."
        )
    for fname, expected in manifest.get("files", {}).items():
        f = path / fname
        if not f.exists() or f.stat().st_size != expected["size"]:
            raise IndexIncompatible(f"{f} is missing or damaged (size differs). {REBUILD_HINT}")
        if _sha256(f) != expected["sha256"]:
            raise IndexIncompatible(f"{f} is damaged (checksum differs). {REBUILD_HINT}")
    try:
        documents = {}
        for line in (path / "documents.jsonl").read_text(encoding="utf-8").splitlines():
            d = json.loads(line)
            d["meta"] = Metadata(**d["meta"])
            d["page_starts"] = tuple(d["page_starts"])
            d["page_labels"] = tuple(d["page_labels"])
            documents[d["doc_id"]] = Document(**d)
        passages = []
        for line in (path / "passages.jsonl").read_text(encoding="utf-8").splitlines():
            p = json.loads(line)
            p["text"] = documents[p["doc_id"]].text[p["start"] : p["end"]]
            p["sentences"] = tuple(tuple(span) for span in p["sentences"])
            passages.append(Passage(**p))
        vectors = faiss.read_index(str(path / "vectors.faiss"))
        ann.configure(vectors)
        lexical = LexicalIndex.load(path / "lexical", len(passages))
        # A large index reads only the sentence vectors of the passages it scores.
        mmap = "r" if ann.kind_of(vectors) != "flat" else None
        sentence_vectors = np.load(path / "sentences.npy", allow_pickle=False, mmap_mode=mmap)
    except (OSError, ValueError, KeyError, TypeError, RuntimeError) as exc:
        raise IndexIncompatible(
            f"The index in {path} is damaged ({type(exc).__name__}: {str(exc)[:200]}). "
            f"{REBUILD_HINT}"
        ) from None
    n_sentences = sum(len(p.sentences) for p in passages)
    if (
        vectors.ntotal != len(passages)
        or vectors.d != manifest.get("dimension")
        or sentence_vectors.shape != (n_sentences, vectors.d)
    ):
        raise IndexIncompatible(
            f"The index in {path} is inconsistent ({vectors.ntotal} vectors for "
            f"{len(passages)} passages). {REBUILD_HINT}"
        )
    return LocalIndex(path, manifest, documents, passages, vectors, lexical, sentence_vectors)


# --- building -------------------------------------------------------------------------


class _Lock:
    """An exclusive, non-blocking lock on index/.lock: a second builder is refused."""

    def __init__(self, index_dir: Path) -> None:
        self.path = index_dir / ".lock"

    def __enter__(self) -> _Lock:
        import fcntl

        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.fh = self.path.open("a+")
        try:
            fcntl.flock(self.fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            self.fh.close()
            raise IndexBusy(
                f"Another process is updating the index in {self.path.parent}/; "
                "wait for it to finish and try again."
            ) from None
        return self

    def __exit__(self, *exc) -> None:
        import fcntl

        fcntl.flock(self.fh, fcntl.LOCK_UN)
        self.fh.close()


def doc_id_for(path: Path, root: Path) -> str:
    """Stable id: the path relative to the project root (absolute outside it)."""
    path = path.resolve()
    try:
        return path.relative_to(root.resolve()).as_posix()
    except ValueError:
        return path.as_posix()


def _chunking_settings(embedder: Embedder, chunk_tokens: int, overlap: int) -> dict:
    return {
        "max_tokens": min(chunk_tokens, embedder.max_tokens),
        "overlap": overlap,
        "cleaning_version": CLEANING_VERSION,
    }


def update_index(
    paths: list[Path],
    index_dir: Path,
    embedder: Embedder,
    *,
    chunk_tokens: int = 200,
    chunk_overlap: int = 1,
    max_file_mb: float = 50.0,
    max_pdf_pages: int = 2000,
    rebuild: bool = False,
    on_progress: Progress | None = None,
    vector_index: str = "auto",
) -> UpdateReport:
    """Bring the index in line with the files under `paths`: embed only new or changed
    documents, drop documents whose source file is gone, keep everything else.
    `vector_index` is the FAISS index kind (`qa/store/ann.py`; auto: by size)."""
    started = time.perf_counter()
    root = index_dir.resolve().parent
    chunking = _chunking_settings(embedder, chunk_tokens, chunk_overlap)
    with _Lock(index_dir):
        old, rebuilt_because = _reusable_index(index_dir, embedder, chunking, rebuild)
        if rebuilt_because:  # keep every document the index had, wherever it came from
            paths = list(paths) + [
                root / doc_id for doc_id in indexed_doc_ids(index_dir) if (root / doc_id).is_file()
            ]
        files, skipped = discover(paths)
        report = UpdateReport(skipped=skipped, rebuilt_because=rebuilt_because)
        keep: dict[str, tuple[Document, list[int]]] = {}  # doc -> rows in the old index
        fresh: dict[str, tuple[Document, list[Passage]]] = {}
        old_rows: dict[str, list[int]] = {}
        if old:
            for row, p in enumerate(old.passages):
                old_rows.setdefault(p.doc_id, []).append(row)
        seen: set[str] = set()
        for path in files:
            doc_id = doc_id_for(path, root)
            if doc_id in seen:
                continue
            seen.add(doc_id)
            previous = old.documents.get(doc_id) if old else None
            try:
                digest = fingerprint(path)
                if previous and previous.sha256 == digest:
                    keep[doc_id] = (previous, old_rows.get(doc_id, []))
                    report.unchanged.append(doc_id)
                    continue
                doc = read_document(
                    path, doc_id, digest, max_file_mb=max_file_mb, max_pdf_pages=max_pdf_pages
                )
            except Exception as exc:  # one bad file never stops the batch
                if isinstance(exc, DocumentError):
                    reason = str(exc)
                elif isinstance(exc, OSError):
                    reason = f"{path.name}: {exc}"
                else:
                    reason = (
                        f"{path.name}: unexpected {type(exc).__name__} while reading it "
                        f"({str(exc)[:200]}); please report this with the file"
                    )
                if previous:  # nothing already indexed is lost
                    keep[doc_id] = (previous, old_rows.get(doc_id, []))
                    reason += " (the previously indexed version is kept)"
                report.skipped.append(Skipped(str(path), reason))
                continue
            passages = chunk_document(
                doc, chunking["max_tokens"], chunk_overlap, embedder.count_tokens
            )
            fresh[doc_id] = (doc, passages)
            if doc.encoding and doc.encoding not in ("utf-8", "utf-8-sig", "ascii"):
                report.notes.append(f"{doc_id}: text decoded as {doc.encoding}")
            (report.updated if previous else report.added).append(doc_id)
        if old:
            for doc_id in old.documents:
                if doc_id in seen or doc_id in keep:
                    continue
                if (root / doc_id).exists():  # not under the given paths: left as it is
                    keep[doc_id] = (old.documents[doc_id], old_rows.get(doc_id, []))
                else:
                    report.removed.append(doc_id)

        new_passages = [p for _, ps in fresh.values() for p in ps]
        new_vectors, new_sentences = _embed(embedder, new_passages, on_progress)
        documents: list[Document] = []
        passages: list[Passage] = []
        blocks: list[np.ndarray] = []
        sentence_blocks: list[np.ndarray] = []
        for doc, rows in keep.values():
            documents.append(doc)
            passages.extend(old.passages[r] for r in rows)  # type: ignore[union-attr]
            blocks.append(old.reconstruct(rows))  # type: ignore[union-attr]
            sentence_blocks.append(old.sentences_of(rows))  # type: ignore[union-attr]
        documents.extend(doc for doc, _ in fresh.values())
        passages.extend(new_passages)
        vectors = np.vstack([*blocks, new_vectors])
        sentence_vectors = np.vstack([*sentence_blocks, new_sentences])
        report = _finish(report, len(new_passages), len(passages), started)
        same_kind = old and ann.kind_of(old.vectors) == ann.choose(vector_index, len(passages))
        if old and not report.changed and not rebuilt_because and same_kind and old.calibrated:
            return replace(report, version=old.version)
        version = _write_version(
            index_dir,
            embedder,
            chunking,
            documents,
            passages,
            vectors,
            sentence_vectors,
            vector_index,
        )
        return replace(report, version=version)


def remove_documents(
    index_dir: Path, doc_ids: list[str], embedder: Embedder, vector_index: str = "auto"
) -> UpdateReport:
    """Drop documents from the index without touching their files or embedding anything:
    a new version holds the remaining passages with their stored vectors."""
    started = time.perf_counter()
    with _Lock(index_dir):
        if not index_exists(index_dir):
            raise IndexMissing(f"No index in {index_dir}/. Build it with `qa index`.")
        old = load_index(index_dir, expected_model=embedder.name)
        unknown = [d for d in doc_ids if d not in old.documents]
        if unknown:
            raise QAError(
                f"No document {', '.join(map(repr, unknown))} in the index; "
                "see the library list for what is indexed."
            )
        gone = set(doc_ids)
        rows = [i for i, p in enumerate(old.passages) if p.doc_id not in gone]
        documents = [d for d in old.documents.values() if d.doc_id not in gone]
        passages = [old.passages[r] for r in rows]
        version = _write_version(
            index_dir,
            embedder,
            old.manifest["chunking"],
            documents,
            passages,
            old.reconstruct(rows),
            old.sentences_of(rows),
            vector_index,
        )
        report = UpdateReport(removed=list(doc_ids), unchanged=[d.doc_id for d in documents])
        report = _finish(report, 0, len(passages), started)
        return replace(report, version=version)


def _finish(report: UpdateReport, embedded: int, total: int, started: float) -> UpdateReport:
    seconds = time.perf_counter() - started
    return replace(report, embedded_passages=embedded, total_passages=total, seconds=seconds)


def indexed_doc_ids(index_dir: Path) -> list[str]:
    """Documents of the live index, from its manifest alone (readable even when the rest of
    the index is damaged or of another format)."""
    name = current_version(index_dir)
    try:
        manifest = json.loads((index_dir / (name or "") / "manifest.json").read_text("utf-8"))
        return list(manifest.get("documents", {}))
    except (OSError, ValueError, AttributeError):
        return []


def _reusable_index(
    index_dir: Path, embedder: Embedder, chunking: dict, rebuild: bool
) -> tuple[LocalIndex | None, str | None]:
    """The current index if its vectors can be reused, else why a full rebuild happens."""
    if not index_exists(index_dir):
        return None, None
    if rebuild:
        return None, "--rebuild was asked for"
    try:
        old = load_index(index_dir)
    except QAError as exc:
        return None, f"the existing index could not be read ({exc})"
    if old.model != embedder.name:
        return None, f"the model changed from {old.model!r} to {embedder.name!r}"
    if old.manifest.get("chunking") != chunking:
        return None, "the chunking settings changed"
    return old, None


def _embed(
    embedder: Embedder, passages: list[Passage], on_progress: Progress | None
) -> tuple[np.ndarray, np.ndarray]:
    """Passage and sentence vectors, in batches so that progress can be shown."""
    batch = 16
    vectors = [np.zeros((0, embedder.dimension), dtype=np.float32)]
    sentences = [np.zeros((0, embedder.dimension), dtype=np.float32)]
    if on_progress:
        on_progress(0, len(passages))
    for i in range(0, len(passages), batch):
        part = passages[i : i + batch]
        pv, sv = embed_with_sentences(embedder, [p.text for p in part], [p.sentences for p in part])
        vectors.append(pv)
        sentences.append(sv)
        if on_progress:
            on_progress(min(i + batch, len(passages)), len(passages))
    return np.vstack(vectors), np.vstack(sentences)


def _write_version(
    index_dir: Path,
    embedder: Embedder,
    chunking: dict,
    documents: list[Document],
    passages: list[Passage],
    vectors: np.ndarray,
    sentence_vectors: np.ndarray,
    vector_index: str = "auto",
) -> str:
    """Write a complete version folder, fsync it, then point CURRENT at it."""
    import faiss

    index_dir.mkdir(parents=True, exist_ok=True)
    name = f"v-{time.strftime('%Y%m%dT%H%M%S')}-{uuid.uuid4().hex[:8]}"
    tmp = index_dir / f".tmp-{name}"
    tmp.mkdir()
    with (tmp / "documents.jsonl").open("w", encoding="utf-8") as f:
        for d in documents:
            f.write(json.dumps(asdict(d), ensure_ascii=False) + "\n")
    with (tmp / "passages.jsonl").open("w", encoding="utf-8") as f:
        for p in passages:
            row = asdict(p)
            del row["text"]  # it is documents[doc_id].text[start:end]
            row["sentences"] = [list(span) for span in p.sentences]
            f.write(json.dumps(row, ensure_ascii=False) + "\n")
    if not len(vectors):
        vectors = np.zeros((0, embedder.dimension), dtype=np.float32)
    dense = ann.build(vectors, vector_index)
    faiss.write_index(dense, str(tmp / "vectors.faiss"))
    LexicalIndex.build([p.text for p in passages]).save(tmp / "lexical")
    np.save(tmp / "sentences.npy", sentence_vectors.astype(np.float16), allow_pickle=False)
    files = {
        f.relative_to(tmp).as_posix(): {"size": f.stat().st_size, "sha256": _sha256(f)}
        for f in sorted(tmp.rglob("*"))
        if f.is_file()
    }
    manifest = {
        "calibration": calibrate(
            _vectors_by_language(passages, vectors, sentence_vectors),
            embedder.embed_queries,
            embedder.name,
        ),
        "format_version": FORMAT_VERSION,
        "model": embedder.name,
        "dimension": embedder.dimension,
        "chunking": chunking,
        "documents": {d.doc_id: {"sha256": d.sha256, "title": d.meta.title} for d in documents},
        "passages": len(passages),
        "vector_index": ann.kind_of(dense),
        "files": files,
        "created": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        "versions": _library_versions(),
    }
    (tmp / "manifest.json").write_text(json.dumps(manifest, indent=2), encoding="utf-8")
    _fsync_dir(tmp)
    os.rename(tmp, index_dir / name)
    pointer = index_dir / f".{CURRENT}.tmp"
    with pointer.open("w", encoding="utf-8") as f:
        f.write(name + "\n")
        f.flush()
        os.fsync(f.fileno())
    os.replace(pointer, index_dir / CURRENT)
    _fsync_dir(index_dir)
    _remove_old_versions(index_dir, keep={name})
    return name


def _sha256(path: Path) -> str:
    """Checksum of an index file: a flipped bit is caught at load, not deep inside FAISS."""
    import hashlib

    digest = hashlib.sha256()
    with path.open("rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _vectors_by_language(
    passages: list[Passage], vectors: np.ndarray, sentence_vectors: np.ndarray
) -> dict[str, np.ndarray]:
    """Passage and sentence vectors grouped by the passage's language."""
    rows: dict[str, list[int]] = {}
    sentence_rows: dict[str, list[int]] = {}
    at = 0
    for i, p in enumerate(passages):
        rows.setdefault(p.language, []).append(i)
        sentence_rows.setdefault(p.language, []).extend(range(at, at + len(p.sentences)))
        at += len(p.sentences)
    return {
        lang: np.vstack([vectors[rows[lang]], sentence_vectors[sentence_rows[lang]]])
        for lang in rows
    }


def _fsync_dir(path: Path) -> None:
    for f in path.rglob("*"):
        if f.is_file():
            with f.open("rb") as fh:
                os.fsync(fh.fileno())
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _remove_old_versions(index_dir: Path, keep: set[str], spare: int = 1) -> None:
    """Delete superseded versions and leftovers of killed builds, sparing the newest
    `spare` old versions so a reader that is still loading one is not cut off."""
    versions = sorted(
        (p for p in index_dir.glob("v-*") if p.is_dir() and p.name not in keep),
        key=lambda p: p.stat().st_mtime,
        reverse=True,
    )
    for p in versions[spare:] + list(index_dir.glob(".tmp-v-*")):
        shutil.rmtree(p, ignore_errors=True)


def _library_versions() -> dict[str, str]:
    from importlib.metadata import PackageNotFoundError, version

    out = {}
    for pkg in ("qa", "faiss-cpu", "sentence-transformers", "pypdf"):
        try:
            out[pkg] = version(pkg)
        except PackageNotFoundError:
            pass
    return out
