"""Paths -> source files to index (with reasons for what is skipped), and file -> Document."""

from __future__ import annotations

import hashlib
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field, replace
from functools import lru_cache
from pathlib import Path

from qa.documents import Document, Passage
from qa.errors import DocumentError, EmptyDocument, UnsupportedFile
from qa.ingest.chunking import chunk_document
from qa.ingest.cleaning import clean
from qa.ingest.language import detect_language
from qa.ingest.loaders import SUPPORTED_SUFFIXES, is_supported, load
from qa.ingest.metadata import is_sidecar, read_metadata, sidecar_path
from qa.ingest.sections import locate, page_offsets

CLEANING_VERSION = 15  # bump when cleaning or chunking output changes: forces re-embedding
Progress = Callable[[int, int], None]


@dataclass(frozen=True)
class Skipped:
    path: str
    reason: str


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


def discover(paths: list[Path]) -> tuple[list[Path], list[Skipped]]:
    """Supported files under the given files and folders, in a stable order.

    Hidden files, metadata sidecars and README files of a folder are not documents; other
    unsupported files are reported as skipped, never silently ignored."""
    found: list[Path] = []
    skipped: list[Skipped] = []
    for root in paths:
        if not root.exists():
            skipped.append(Skipped(str(root), "no such file or folder"))
            continue
        candidates = [root] if root.is_file() else sorted(p for p in root.rglob("*") if p.is_file())
        for p in candidates:
            rel_parts = p.relative_to(root).parts if p != root else (p.name,)
            if any(part.startswith(".") for part in rel_parts) or is_sidecar(p):
                continue
            if p != root and p.name.lower() in {"readme.md", "readme.txt", "readme"}:
                continue
            if is_supported(p):
                found.append(p)
            else:
                skipped.append(
                    Skipped(
                        str(p),
                        f"unsupported file type {p.suffix or '(none)'} "
                        f"(supported: {', '.join(SUPPORTED_SUFFIXES)})",
                    )
                )
    unique = list(dict.fromkeys(p.resolve() for p in found))
    return unique, skipped


def fingerprint(path: Path) -> str:
    """SHA-256 of the file and of its metadata sidecar: a change to either re-indexes it."""
    digest = hashlib.sha256()
    for part in (path, sidecar_path(path)):
        if part.exists():
            with part.open("rb") as f:
                for block in iter(lambda: f.read(1 << 20), b""):
                    digest.update(block)
        digest.update(b"\0")
    return digest.hexdigest()


def read_document(
    path: Path,
    doc_id: str,
    sha256: str | None = None,
    *,
    max_file_mb: float = 50.0,
    max_pdf_pages: int = 2000,
) -> Document:
    """Load, describe and clean one file. Raises DocumentError with a message to show."""
    if not is_supported(path):
        raise UnsupportedFile(
            f"{path.name}: file type {path.suffix or '(none)'} is not supported; "
            f"use one of {', '.join(SUPPORTED_SUFFIXES)}."
        )
    size_mb = path.stat().st_size / 1e6
    if size_mb > max_file_mb:
        raise DocumentError(
            f"{path.name}: {size_mb:.1f} MB is over the limit of {max_file_mb:g} MB; "
            "raise QA_MAX_FILE_MB or split the file."
        )
    raw = load(path, max_pdf_pages=max_pdf_pages)
    meta = read_metadata(path, raw.hints)
    cleaned = clean(raw.text, title=meta.title)
    if not cleaned.text.strip():
        raise EmptyDocument(f"{path.name}: no text left after cleaning; nothing to index.")
    # where each page starts in the cleaned text, for headings that name their page (a
    # PDF's outline); nothing to compute for the others
    paged = any(h.page is not None for h in raw.headings)
    pages = page_offsets(cleaned.offsets, raw.text) if paged else None
    if not meta.language:
        meta = replace(meta, language=detect_language(cleaned.text))
    return Document(
        doc_id=doc_id,
        source=doc_id,
        sha256=sha256 or fingerprint(path),
        meta=meta,
        text=cleaned.text,
        page_starts=cleaned.page_starts,
        page_labels=cleaned.page_labels,
        encoding=raw.encoding,
        sections=locate(cleaned.text, raw.headings, pages),
    )


def doc_id_for(path: Path, root: Path) -> str:
    """Stable id: the path relative to the project root (absolute outside it)."""
    path = path.resolve()
    try:
        return path.relative_to(root.resolve()).as_posix()
    except ValueError:
        return path.as_posix()


def chunking_settings(model_max_tokens: int, chunk_tokens: int, overlap: int) -> dict:
    """What the chunks depend on; an index made with other settings is rebuilt."""
    return {
        "max_tokens": min(chunk_tokens, model_max_tokens),
        "overlap": overlap,
        "cleaning_version": CLEANING_VERSION,
    }


def finish_report(report: UpdateReport, embedded: int, total: int, started: float) -> UpdateReport:
    """The report with its counts and the time since `started`."""
    seconds = time.perf_counter() - started
    return replace(report, embedded_passages=embedded, total_passages=total, seconds=seconds)


@dataclass(frozen=True)
class ReadFile:
    """One file as the pipeline found it: `unchanged` (its fingerprint is known), read into
    `document` and `passages`, or not readable, with the `reason` to report."""

    path: Path
    doc_id: str
    document: Document | None = None
    passages: list[Passage] = field(default_factory=list)
    unchanged: bool = False
    reason: str | None = None


def read_files(
    files: Iterable[Path],
    root: Path,
    chunking: dict,
    count_tokens: Callable[[str], int],
    *,
    is_unchanged: Callable[[str, str], bool],
    max_file_mb: float = 50.0,
    max_pdf_pages: int = 2000,
) -> Iterator[ReadFile]:
    """Fingerprint, read, clean and chunk each file once (by doc id): the loop that both
    stores run. `is_unchanged(doc_id, sha256)` says whether the store already has this
    content. One bad file never stops the batch: it comes back with its reason."""
    seen: set[str] = set()
    count_tokens = lru_cache(maxsize=1 << 16)(count_tokens)  # words and sentences recur
    for path in files:
        doc_id = doc_id_for(path, root)
        if doc_id in seen:
            continue
        seen.add(doc_id)
        try:
            digest = fingerprint(path)
            if is_unchanged(doc_id, digest):
                yield ReadFile(path, doc_id, unchanged=True)
                continue
            doc = read_document(
                path, doc_id, digest, max_file_mb=max_file_mb, max_pdf_pages=max_pdf_pages
            )
        except Exception as exc:
            yield ReadFile(path, doc_id, reason=skip_reason(path, exc))
            continue
        passages = chunk_document(doc, chunking["max_tokens"], chunking["overlap"], count_tokens)
        yield ReadFile(path, doc_id, doc, passages)


def skip_reason(path: Path, exc: Exception) -> str:
    """What to report for a file that could not be read."""
    if isinstance(exc, DocumentError):
        return str(exc)
    if isinstance(exc, OSError):
        return f"{path.name}: {exc}"
    return (
        f"{path.name}: unexpected {type(exc).__name__} while reading it "
        f"({str(exc)[:200]}); please report this with the file"
    )
