"""The local passage store, read side: a loaded index version (FAISS + BM25 + passages).

qa/store/build.py writes versions, incrementally.

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

import hashlib
import json
from functools import cached_property
from pathlib import Path

import numpy as np

from qa.documents import Document, Hit, Metadata, Passage
from qa.errors import IndexIncompatible, IndexMissing
from qa.filters import Filters
from qa.ingest.pipeline import CLEANING_VERSION
from qa.store import ann
from qa.store.calibration import VERSION as CALIBRATION_VERSION
from qa.store.lexical import VERSION as LEXICAL_VERSION
from qa.store.lexical import LexicalIndex, term_idf

FORMAT_VERSION = 4
CURRENT = "CURRENT"


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
        return term_idf(self.passages)

    @property
    def model(self) -> str:
        return self.manifest["model"]

    @property
    def version(self) -> str:
        return self.path.name

    @property
    def current(self) -> bool:
        """Whether the calibration, the BM25 index and the cleaning are of the current kind;
        else the next update redoes them (calibration and BM25 from the stored vectors and
        texts; documents cleaned anew are embedded again, from the cache where unchanged)."""
        return (
            self.manifest.get("calibration", {}).get("version") == CALIBRATION_VERSION
            and self.manifest.get("lexical_version") == LEXICAL_VERSION
            and self.manifest.get("chunking", {}).get("cleaning_version") == CLEANING_VERSION
        )

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
        if file_sha256(f) != expected["sha256"]:
            raise IndexIncompatible(f"{f} is damaged (checksum differs). {REBUILD_HINT}")
    try:
        documents = {}
        for line in (path / "documents.jsonl").read_text(encoding="utf-8").splitlines():
            d = json.loads(line)
            d["meta"] = Metadata(**d["meta"])
            d["page_starts"] = tuple(d["page_starts"])
            d["page_labels"] = tuple(d["page_labels"])
            d["sections"] = tuple(map(tuple, d.get("sections", ())))
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


def indexed_doc_ids(index_dir: Path) -> list[str]:
    """Documents of the live index, from its manifest alone (readable even when the rest of
    the index is damaged or of another format)."""
    name = current_version(index_dir)
    try:
        manifest = json.loads((index_dir / (name or "") / "manifest.json").read_text("utf-8"))
        return list(manifest.get("documents", {}))
    except (OSError, ValueError, AttributeError):
        return []


def file_sha256(path: Path) -> str:
    """Checksum of an index file: a flipped bit is caught at load, not deep inside FAISS."""

    digest = hashlib.sha256()
    with path.open("rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()
