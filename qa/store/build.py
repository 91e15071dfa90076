"""The local passage store, build side: update or prune the index folder of qa/store/local.py.

Every build writes a new version folder under a lock, fsyncs it, then switches `CURRENT`
atomically, so a killed build leaves the previous index untouched. The files are read and
embedded by the ingest pipeline (qa/ingest/pipeline.py), as for the Postgres store.
"""

from __future__ import annotations

import json
import os
import shutil
import time
import uuid
from contextlib import ExitStack
from dataclasses import asdict, replace
from pathlib import Path

import numpy as np

from qa.documents import Document, Passage
from qa.errors import IndexBusy, IndexMissing, QAError
from qa.ingest.pipeline import (
    Progress,
    Skipped,
    UpdateReport,
    chunking_settings,
    discover,
    finish_report,
    read_files,
)
from qa.store import ann
from qa.store.cache import FILE as CACHE_FILE
from qa.store.cache import EmbeddingCache
from qa.store.calibration import calibrate
from qa.store.embedding import Embedder, cache_id, cached_queries, embed_in_batches
from qa.store.lexical import VERSION as LEXICAL_VERSION
from qa.store.lexical import LexicalIndex, lexical_text
from qa.store.local import (
    CURRENT,
    FORMAT_VERSION,
    LocalIndex,
    file_sha256,
    index_exists,
    indexed_doc_ids,
    load_index,
)


class IndexLock:
    """An exclusive, non-blocking lock on index/.lock: a second builder is refused."""

    def __init__(self, index_dir: Path) -> None:
        self.path = index_dir / ".lock"

    def __enter__(self) -> IndexLock:
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
    embedding_cache: bool = True,
) -> UpdateReport:
    """Bring the index in line with the files under `paths`: embed only new or changed
    documents, drop documents whose source file is gone, keep everything else.
    `vector_index` is the FAISS index kind (`qa/store/ann.py`; auto: by size).
    `embedding_cache`: keep vectors by text in the index folder (qa/store/cache.py), so that
    no text is embedded twice, even across builds or after an interrupted one."""
    started = time.perf_counter()
    index_dir.mkdir(parents=True, exist_ok=True)
    with IndexLock(index_dir), ExitStack() as stack:
        cache = None
        if embedding_cache:
            cache = stack.enter_context(
                EmbeddingCache(index_dir / CACHE_FILE, cache_id(embedder), embedder.dimension)
            )
        return _update(
            paths,
            index_dir,
            embedder,
            cache,
            started,
            chunk_tokens=chunk_tokens,
            chunk_overlap=chunk_overlap,
            max_file_mb=max_file_mb,
            max_pdf_pages=max_pdf_pages,
            rebuild=rebuild,
            on_progress=on_progress,
            vector_index=vector_index,
        )


def _update(
    paths: list[Path],
    index_dir: Path,
    embedder: Embedder,
    cache: EmbeddingCache | None,
    started: float,
    *,
    chunk_tokens: int,
    chunk_overlap: int,
    max_file_mb: float,
    max_pdf_pages: int,
    rebuild: bool,
    on_progress: Progress | None,
    vector_index: str,
) -> UpdateReport:
    root = index_dir.resolve().parent
    chunking = chunking_settings(embedder.max_tokens, chunk_tokens, chunk_overlap)
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
    reads = read_files(
        files,
        root,
        chunking,
        embedder.count_tokens,
        is_unchanged=lambda doc_id, digest: bool(
            old and doc_id in old.documents and old.documents[doc_id].sha256 == digest
        ),
        max_file_mb=max_file_mb,
        max_pdf_pages=max_pdf_pages,
    )
    for read in reads:
        doc_id = read.doc_id
        seen.add(doc_id)
        previous = old.documents.get(doc_id) if old else None
        if read.unchanged:
            keep[doc_id] = (previous, old_rows.get(doc_id, []))
            report.unchanged.append(doc_id)
            continue
        if read.document is None:
            reason = read.reason or ""
            if previous:  # nothing already indexed is lost
                keep[doc_id] = (previous, old_rows.get(doc_id, []))
                reason += " (the previously indexed version is kept)"
            report.skipped.append(Skipped(str(read.path), reason))
            continue
        doc = read.document
        fresh[doc_id] = (doc, read.passages)
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
    new_vectors, new_sentences = embed_in_batches(embedder, new_passages, on_progress, cache)
    if cache is not None and cache.hits:
        report.notes.append(
            f"{cache.hits} of the {cache.hits + cache.misses} texts to embed were already in "
            f"{index_dir / CACHE_FILE}; the others were embedded"
        )
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
    report = finish_report(report, len(new_passages), len(passages), started)
    same_kind = old and ann.kind_of(old.vectors) == ann.choose(vector_index, len(passages))
    if old and not report.changed and not rebuilt_because and same_kind and old.current:
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
        cached_queries(embedder, cache),
    )
    if cache is not None:  # room for this index's texts and as many again
        cache.prune(2 * (len(passages) + len(sentence_vectors)))
    return replace(report, version=version)


def remove_documents(
    index_dir: Path, doc_ids: list[str], embedder: Embedder, vector_index: str = "auto"
) -> UpdateReport:
    """Drop documents from the index without touching their files or embedding anything:
    a new version holds the remaining passages with their stored vectors."""
    started = time.perf_counter()
    with IndexLock(index_dir):
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
        report = finish_report(report, 0, len(passages), started)
        return replace(report, version=version)


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


def _write_version(
    index_dir: Path,
    embedder: Embedder,
    chunking: dict,
    documents: list[Document],
    passages: list[Passage],
    vectors: np.ndarray,
    sentence_vectors: np.ndarray,
    vector_index: str = "auto",
    embed_queries=None,
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
    by_id = {d.doc_id: d for d in documents}
    lexical = LexicalIndex.build(
        [lexical_text(by_id[p.doc_id].heading_at(p.start), p.text) for p in passages]
    )
    lexical.save(tmp / "lexical")
    np.save(tmp / "sentences.npy", sentence_vectors.astype(np.float16), allow_pickle=False)
    files = {
        f.relative_to(tmp).as_posix(): {"size": f.stat().st_size, "sha256": file_sha256(f)}
        for f in sorted(tmp.rglob("*"))
        if f.is_file()
    }
    manifest = {
        "calibration": calibrate(
            _vectors_by_language(passages, vectors, sentence_vectors),
            embed_queries or embedder.embed_queries,
            embedder.name,
            _vectors_by_document(passages, vectors, sentence_vectors),
        ),
        "format_version": FORMAT_VERSION,
        "lexical_version": LEXICAL_VERSION,
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


def _rows_by(passages: list[Passage], key) -> tuple[dict, dict]:
    """key -> its passages' rows, and key -> their sentences' rows."""
    rows: dict[str, list[int]] = {}
    sentence_rows: dict[str, list[int]] = {}
    at = 0
    for i, p in enumerate(passages):
        rows.setdefault(key(p), []).append(i)
        sentence_rows.setdefault(key(p), []).extend(range(at, at + len(p.sentences)))
        at += len(p.sentences)
    return rows, sentence_rows


def _vectors_by_language(
    passages: list[Passage], vectors: np.ndarray, sentence_vectors: np.ndarray
) -> dict[str, list[np.ndarray]]:
    """Passage and sentence vectors grouped by the passage's language, as blocks (one
    language: the arrays themselves, nothing copied)."""
    rows, sentence_rows = _rows_by(passages, lambda p: p.language)
    if len(rows) == 1:
        return {next(iter(rows)): [vectors, sentence_vectors]}
    return {lang: [vectors[rows[lang]], sentence_vectors[sentence_rows[lang]]] for lang in rows}


def _vectors_by_document(
    passages: list[Passage], vectors: np.ndarray, sentence_vectors: np.ndarray
):
    """(doc_id, its passage and sentence vectors), one document at a time."""
    rows, sentence_rows = _rows_by(passages, lambda p: p.doc_id)
    for doc_id, own in rows.items():
        yield doc_id, np.vstack([vectors[own], sentence_vectors[sentence_rows[doc_id]]])


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
