"""The library's file policy: what an upload becomes, which documents were uploaded, and what
removing a document does to its file.

Files a user uploads are checked, given a safe unique name, and kept inside the upload folder.

A browser sends whatever name the file had ("../../etc/passwd", "Báo cáo 2024.pdf",
"<script>.md"); only a cleaned base name is ever used, and the final path is checked to
lie inside the upload folder. The file is staged under a hidden name (which `qa index`
skips) until it has been read successfully, so a failed upload leaves nothing behind.
"""

from __future__ import annotations

import os
import re
import shutil
import unicodedata
import uuid
from pathlib import Path

from qa.errors import DocumentError, UnsupportedFile
from qa.ingest.loaders import SUPPORTED_SUFFIXES
from qa.ingest.metadata import sidecar_path

MAX_NAME_CHARS = 100


def safe_name(original: str) -> str:
    """A file name that is safe on any file system and keeps the readable part of the
    original: letters of any script, digits, dots, dashes and underscores."""
    base = re.split(r"[\\/]", unicodedata.normalize("NFC", original or ""))[-1]
    base = "".join(ch for ch in base if unicodedata.category(ch)[0] != "C")  # no controls
    stem, dot, suffix = base.rpartition(".")
    if not dot:
        stem, suffix = base, ""
    stem = re.sub(r"[^\w.-]+", "-", stem, flags=re.UNICODE).strip(".-_ ") or "document"
    suffix = re.sub(r"[^\w]+", "", suffix).lower()
    stem = stem[: MAX_NAME_CHARS - len(suffix) - 1]
    return f"{stem}.{suffix}" if suffix else stem


def stage_upload(source: Path, original_name: str, upload_dir: Path, max_file_mb: float) -> Path:
    """Copy an uploaded file into the upload folder under a hidden staging name, after the
    checks that need no parsing (type, size). Returns the staged path."""
    name = safe_name(original_name)
    suffix = Path(name).suffix.lower()
    if suffix not in SUPPORTED_SUFFIXES:
        raise UnsupportedFile(
            f"{original_name}: file type {suffix or '(none)'} is not supported; upload one of "
            f"{', '.join(SUPPORTED_SUFFIXES)}."
        )
    size_mb = source.stat().st_size / 1e6
    if size_mb > max_file_mb:
        raise DocumentError(
            f"{original_name}: {size_mb:.1f} MB is over the upload limit of {max_file_mb:g} MB "
            "(QA_MAX_FILE_MB)."
        )
    upload_dir.mkdir(parents=True, exist_ok=True)
    staged = _inside(upload_dir, f".incoming-{uuid.uuid4().hex[:8]}-{name}")
    shutil.copyfile(source, staged)
    return staged


def publish(staged: Path, upload_dir: Path) -> Path:
    """Give a staged file its final, unique name (report.pdf, report-2.pdf, ...)."""
    name = staged.name.split("-", 2)[2]
    stem, suffix = Path(name).stem, Path(name).suffix
    n = 1
    while True:
        final = _inside(upload_dir, name if n == 1 else f"{stem}-{n}{suffix}")
        try:  # O_EXCL: two uploads of the same name never overwrite each other
            fd = os.open(final, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o644)
        except FileExistsError:
            n += 1
            continue
        os.close(fd)
        os.replace(staged, final)
        return final


def _inside(folder: Path, name: str) -> Path:
    path = (folder / name).resolve()
    if path.parent != folder.resolve():
        raise DocumentError(f"{name!r} is not a valid file name for an upload.")
    return path


def is_upload(source: Path, uploads: Path) -> bool:
    """Whether a document's source file lives in the upload folder."""
    return source.resolve().parent == uploads.resolve()


def retire(source: Path, corpus: Path, uploads: Path) -> None:
    """What removing a document does to its file: an upload is deleted (with its metadata
    sidecar); a file of the
    corpus folder is moved to its `.removed/` subfolder with its metadata sidecar (so that
    `qa index` does not bring it back, and nothing is lost); any other file is left alone."""
    source, corpus = source.resolve(), corpus.resolve()
    if is_upload(source, uploads):
        source.unlink(missing_ok=True)
        sidecar_path(source).unlink(missing_ok=True)  # its edited metadata goes with it
    elif source.is_file() and source.is_relative_to(corpus):
        target = corpus / ".removed" / source.relative_to(corpus)
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.move(str(source), target)
        side = sidecar_path(source)
        if side.exists():
            shutil.move(str(side), sidecar_path(target))


def write_metadata(source: Path, uploads: Path, fields: dict[str, str | None]) -> Path:
    """Write an uploaded document's metadata sidecar: the given fields over those it had
    (empty ones removed), so that the next build cites it as the user described it. Only
    uploads: a corpus file's sidecar is the user's own file, edited by hand."""
    import json

    if not is_upload(source, uploads):
        raise DocumentError(
            f"{source.name}: only uploaded documents are edited here; edit "
            f"{sidecar_path(source).name} beside it and run `qa index`."
        )
    side = sidecar_path(source)
    data = json.loads(side.read_text(encoding="utf-8")) if side.exists() else {}
    data.update(fields)
    data = {k: v for k, v in data.items() if v not in (None, "")}
    staged = side.with_name(f".{side.name}.tmp")
    staged.write_text(json.dumps(data, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
    os.replace(staged, side)  # whole or not at all
    return side
