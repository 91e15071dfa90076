"""Document metadata from a sidecar file `<name>.meta.json` beside the document.

    corpus/report.pdf
    corpus/report.meta.json   {"title": "...", "publisher": "...", "date": "2024-06",
                               "language": "en", "url": "https://...", "kind": "policy report"}

Every field is optional. Without a sidecar the title comes from the file itself (HTML
<title>, Markdown `# heading`, PDF metadata) or else from the file name.
"""

from __future__ import annotations

import json
import re
from dataclasses import fields
from pathlib import Path

from qa.documents import Metadata
from qa.errors import DocumentError

SIDECAR_SUFFIX = ".meta.json"
_FIELDS = {f.name for f in fields(Metadata)}


def sidecar_path(path: Path) -> Path:
    return path.with_name(path.stem + SIDECAR_SUFFIX)


def is_sidecar(path: Path) -> bool:
    return path.name.endswith(SIDECAR_SUFFIX)


def title_from_filename(path: Path) -> str:
    words = re.sub(r"[_\-.]+", " ", path.stem).strip()
    return (words[:1].upper() + words[1:]) if words else path.name


def read_metadata(path: Path, hints: dict[str, str] | None = None) -> Metadata:
    """Sidecar fields win over hints from the file, which win over the file name."""
    values: dict[str, str | None] = {k: v for k, v in (hints or {}).items() if k in _FIELDS}
    side = sidecar_path(path)
    if side.exists():
        try:
            data = json.loads(side.read_text(encoding="utf-8-sig"))
        except (json.JSONDecodeError, UnicodeDecodeError) as exc:
            raise DocumentError(
                f"{side.name}: metadata is not valid JSON ({exc}); fix or delete the file."
            ) from None
        if not isinstance(data, dict):
            raise DocumentError(f"{side.name}: metadata must be a JSON object; fix the file.")
        unknown = set(data) - _FIELDS
        if unknown:
            raise DocumentError(
                f"{side.name}: unknown metadata field(s) {', '.join(sorted(unknown))}; "
                f"allowed: {', '.join(sorted(_FIELDS))}."
            )
        values.update({k: (str(v) if v is not None else None) for k, v in data.items()})
    if not values.get("title"):
        values["title"] = title_from_filename(path)
    return Metadata(**values)  # type: ignore[arg-type]
