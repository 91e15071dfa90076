"""Check gold sets against their documents: every evidence quote verbatim, every answer in its quote.

A quote counts as verbatim when, after NFKC, case-folding and collapsing whitespace, it is a
substring of the document's text as the naive baseline reads it (pypdf for .pdf, visible text
for .html, the raw file otherwise) -- the same reader and normalisation the scorer uses.

  python eval/check.py eval/collections/*/          # every collection
  python eval/check.py eval/collections/legal/ -v   # and list each item
"""

from __future__ import annotations

import argparse
import collections
import html
import json
import sys
import unicodedata
from html.parser import HTMLParser
from pathlib import Path

TYPES = {"fact", "number", "list", "cross_doc", "cross_lingual", "unanswerable"}
SPLITS = ("tune.jsonl", "report.jsonl")


class _Text(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.out: list[str] = []
        self.skip = 0

    def handle_starttag(self, tag, attrs) -> None:
        self.skip += tag in ("script", "style")

    def handle_endtag(self, tag) -> None:
        self.skip -= tag in ("script", "style")

    def handle_data(self, data) -> None:
        if not self.skip:
            self.out.append(data)


def read(path: Path) -> str:
    """The document's text as the naive baseline and the shared scorer's reader see it."""
    if path.suffix == ".pdf":
        from pypdf import PdfReader

        return "\n".join(p.extract_text() or "" for p in PdfReader(path).pages)
    raw = path.read_text(encoding="utf-8", errors="replace")
    if path.suffix in (".html", ".htm"):
        parser = _Text()
        parser.feed(raw)
        return html.unescape(" ".join(parser.out))
    return raw


def norm(s: str) -> str:
    return " ".join(unicodedata.normalize("NFKC", s).casefold().split())


def check(folder: Path, verbose: bool = False) -> list[str]:
    """Problems found in one collection folder (docs/, tune.jsonl, report.jsonl, SOURCES.md)."""
    problems: list[str] = []
    docs = {p.name: norm(read(p)) for p in sorted((folder / "docs").iterdir()) if p.is_file()}
    if not (folder / "SOURCES.md").exists():
        problems.append(f"{folder}: no SOURCES.md (origin and licence of every document)")
    ids: set[str] = set()
    counts: collections.Counter = collections.Counter()
    for split in SPLITS:
        path = folder / split
        if not path.exists():
            problems.append(f"{path}: missing")
            continue
        for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            if not line.strip():
                continue
            where = f"{path}:{n}"
            try:
                item = json.loads(line)
            except json.JSONDecodeError as e:
                problems.append(f"{where}: not JSON ({e})")
                continue
            counts[(split, item.get("type"))] += 1
            if item.get("id") in ids:
                problems.append(f"{where}: duplicate id {item.get('id')}")
            ids.add(item.get("id"))
            if item.get("type") not in TYPES:
                problems.append(f"{where}: type {item.get('type')!r} not one of {sorted(TYPES)}")
            if item.get("lang") not in ("en", "vi"):
                problems.append(f"{where}: lang {item.get('lang')!r}")
            answerable = item.get("answerable")
            if answerable != (item.get("type") != "unanswerable"):
                problems.append(
                    f"{where}: answerable={answerable} does not fit type {item.get('type')}"
                )
            if not answerable:
                if item.get("answers") or item.get("evidence"):
                    problems.append(f"{where}: an unanswerable item has answers or evidence")
                continue
            if not item.get("answers") or not item.get("evidence"):
                problems.append(f"{where}: an answerable item needs answers and evidence")
                continue
            for ev in item["evidence"]:
                text = docs.get(ev.get("doc", ""))
                if text is None:
                    problems.append(f"{where}: evidence names {ev.get('doc')!r}, not in docs/")
                elif norm(ev["quote"]) not in text:
                    problems.append(
                        f"{where}: quote not verbatim in {ev['doc']}: {ev['quote'][:80]!r}"
                    )
            quotes = " ".join(norm(ev["quote"]) for ev in item["evidence"])
            for group in item["answers"]:
                if not any(norm(a) in quotes for a in group):
                    problems.append(
                        f"{where}: no alternative of {group} occurs in the evidence quotes"
                    )
            if verbose:
                print(f"ok {item['id']}: {item['question']}")
    total = sum(counts.values())
    print(
        f"{folder}: {len(docs)} documents, {total} questions "
        + ", ".join(f"{s.split('.')[0]}/{t}={c}" for (s, t), c in sorted(counts.items()))
    )
    return problems


def main() -> None:
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("folders", nargs="+", type=Path)
    ap.add_argument("-v", "--verbose", action="store_true")
    args = ap.parse_args()
    problems = [p for f in args.folders for p in check(f, args.verbose)]
    for p in problems:
        print(p)
    sys.exit(1 if problems else 0)


if __name__ == "__main__":
    main()
