"""Benchmark 8: a document of many headings costs about what the same text without them does.

Headings are found again in the cleaned text once per document, passages are packed within
sections, and every answer asks for the headings above each passage and sentence it reads
(`Document.headings_at`). A generated Markdown document with N headings (an API reference,
a long changelog) is read and chunked, and 120 lookups (one answer's worth) are timed;
the baseline, in the same run, is the same document with its `#` marks removed (no
headings). Targets: reading and chunking within 1.5x the baseline; 120 lookups ≤ 10 ms.

    nice .venv/bin/python bench/headings.py                  # 20,000 headings
    nice .venv/bin/python bench/headings.py --headings 2000
"""

from __future__ import annotations

import tempfile
import time
from pathlib import Path

from qa.ingest.chunking import chunk_document
from qa.ingest.pipeline import read_document

from _common import emit, parser, table


def document(n: int, marks: bool) -> str:
    parts = []
    for i in range(n):
        level = "##" if i % 5 == 0 else "###"
        parts.append(f"{level + ' ' if marks else ''}Release {i // 5}.{i % 5}\n\n")
        parts.append(f"- The parser handles case {i} and reports it. Tests cover it.\n\n")
    return "".join(parts)


def measure(path: Path) -> dict:
    started = time.perf_counter()
    doc = read_document(path, path.name)
    read = time.perf_counter() - started
    started = time.perf_counter()
    passages = chunk_document(doc)
    chunked = time.perf_counter() - started
    started = time.perf_counter()
    for k in range(120):
        doc.headings_at(len(doc.text) * k // 120)
    lookups = time.perf_counter() - started
    return {
        "sections": len(doc.sections),
        "passages": len(passages),
        "read s": read,
        "chunk s": chunked,
        "120 lookups ms": lookups * 1000,
    }


def main() -> None:
    p = parser(__doc__.splitlines()[0])
    p.add_argument("--headings", type=int, default=20_000, help="headings in the document")
    args = p.parse_args()
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for marks in (False, True):
            path = Path(tmp) / f"notes-{marks}.md"
            path.write_text(document(args.headings, marks), encoding="utf-8")
            rows.append({"document": "with headings" if marks else "baseline", **measure(path)})
    base, headed = rows
    ratio = (headed["read s"] + headed["chunk s"]) / (base["read s"] + base["chunk s"])
    result = {"rows": rows, "read+chunk ratio": ratio}
    met = ratio <= 1.5 and headed["120 lookups ms"] <= 10
    text = table(rows) + f"\n\nread + chunk, with headings / baseline: {ratio:.2f} (target ≤ 1.5)"
    text += f"\ntargets met: {'yes' if met else 'no'}"
    emit(args, "headings", result, text)


if __name__ == "__main__":
    main()
