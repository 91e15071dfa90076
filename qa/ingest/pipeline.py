"""Paths -> source files to index (with reasons for what is skipped), and file -> Document."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, replace
from pathlib import Path

from qa.documents import Document
from qa.errors import DocumentError, EmptyDocument, UnsupportedFile
from qa.ingest.cleaning import clean
from qa.ingest.language import detect_language
from qa.ingest.loaders import SUPPORTED_SUFFIXES, is_supported, load
from qa.ingest.metadata import is_sidecar, read_metadata, sidecar_path


@dataclass(frozen=True)
class Skipped:
    path: str
    reason: str


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
                    )  # fmt: skip
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
    )
