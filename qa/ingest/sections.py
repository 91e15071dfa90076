"""Headings -> sections: where each heading the markup declared sits in the cleaned text.

A passage is read under its headings ("v3.0.0 - 2023-09-17 › Changed" above "Rename
OrfFinder to GeneFinder"): they say what its sentences are about when the sentences do
not. Loaders know the headings (Markdown `#`, HTML `<h1>`..`<h6>`, a PDF's outline with
the page of each entry); cleaning rewrites the text, so each heading is found again, in
order, in what cleaning left.
"""

from __future__ import annotations

import bisect
import re

from qa.documents import Section
from qa.ingest.loaders import PAGE_BREAK, Heading

_LINE_START = r"(?:(?<=\n)|(?<=\A)|(?<=\f))[ \t]*"
_NUMBER = r"(?:(?:\d{1,3}(?:\.\d{1,3})*|[IVXLC]{1,6}|[A-Z])\.?[ \t]+)?"  # "1.1", "IV.", "A"


def locate(
    text: str, headings: tuple[Heading, ...], page_offsets: list[int] | None = None
) -> tuple[Section, ...]:
    """The spans of `headings` in `text`, in order. A heading is looked for from the end of
    the one before (and, when it names its page, from where that page's text starts in
    `text`: `page_offsets`, so that a table of contents does not take the headings), at the
    start of a line, with its number if the text numbers it ("1.1 A Brief
    Introduction"); one that cleaning removed, or that is not on its page or the next, is
    left out."""
    out: list[Section] = []
    at = 0
    for heading in headings:
        words = heading.text.split()
        if not words:
            continue
        start, end = at, len(text)
        if heading.page is not None and page_offsets:
            if heading.page >= len(page_offsets):
                continue
            start = max(at, page_offsets[heading.page])
            end = page_offsets[min(heading.page + 2, len(page_offsets) - 1)]
            end = len(text) if heading.page + 2 >= len(page_offsets) else end
        pattern = _LINE_START + "(" + _NUMBER + r"\s+".join(map(re.escape, words)) + ")"
        m = re.compile(pattern).search(text, start, end)
        if m is None:
            continue
        out.append((m.start(1), m.end(1), heading.level))
        at = m.end(1)
    return tuple(out)


def page_offsets(offsets: tuple[int, ...], raw: str) -> list[int]:
    """Where each page of the raw text (form-feed separated) starts in the cleaned text:
    the first cleaned character that comes from it (its end when none does)."""
    starts, base = [], 0
    for page in raw.split(PAGE_BREAK):
        starts.append(base)
        base += len(page) + 1
    first = [len(offsets)] * len(starts)
    for i, raw_at in enumerate(offsets):
        p = bisect.bisect_right(starts, raw_at) - 1
        if i < first[p]:
            first[p] = i
    for p in range(len(first) - 2, -1, -1):  # a page left empty starts where the next does
        first[p] = min(first[p], first[p + 1])
    return first
