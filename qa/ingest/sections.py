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

import numpy as np

from qa.documents import Section
from qa.ingest.loaders import PAGE_BREAK, Heading

# a heading's number as a text may write it before the words: "1.1", "3.2.5.", "IV.", "A"
_NUMBER = re.compile(r"(?:\d{1,3}(?:\.\d{1,3})*|[IVXLC]{1,6}|[A-Z])\.?[ \t]+")
_LINE = re.compile(r"[^\n\f]+")
# Lines that start with a heading's first word, tried before it is given up as removed by
# cleaning: a missing heading whose first word is common ("The") costs no more than this.
MAX_CANDIDATES = 500


def locate(
    text: str, headings: tuple[Heading, ...], page_offsets: list[int] | None = None
) -> tuple[Section, ...]:
    """The spans of `headings` in `text`, in order. A heading is a line that starts with
    its words (after its number, if the text numbers it: "1.1 A Brief Introduction"),
    looked for after the one before (and, when it names its page, on that page or the
    next: `page_offsets` says where each page starts in `text`, so that a table of
    contents does not take the headings). One that cleaning removed is left out. Lines are
    indexed by their first word, so a long manual's headings are found in one pass."""
    lines: list[tuple[int, int, str]] = []  # (where the span starts, where the words start, line)
    by_first: dict[str, list[int]] = {}
    for m in _LINE.finditer(text):
        line = m.group()
        lead = len(line) - len(line.lstrip())
        starts = [lead]
        if number := _NUMBER.match(line, lead):
            starts.append(number.end())
        for at in starts:
            first = line[at:].split(maxsplit=1)
            if first:
                by_first.setdefault(first[0], []).append(len(lines))
                lines.append((m.start() + lead, m.start() + at, line[at:]))
    line_starts = [words_at for _, words_at, _ in lines]
    out: list[Section] = []
    after = 0  # the first line a heading may be on
    for heading in headings:
        words = heading.text.split()
        if not words:
            continue
        first, last = after, len(lines)
        if heading.page is not None and page_offsets:
            if heading.page >= len(page_offsets):
                continue
            first = max(first, bisect.bisect_left(line_starts, page_offsets[heading.page]))
            if heading.page + 2 < len(page_offsets):
                last = bisect.bisect_left(line_starts, page_offsets[heading.page + 2])
        candidates = by_first.get(words[0], [])
        at = bisect.bisect_left(candidates, first)
        for k in candidates[at : at + MAX_CANDIDATES]:
            if k >= last:
                break
            span_start, words_at, line = lines[k]
            end = _words_end(line, words)
            if end is not None:
                out.append((span_start, words_at + end, heading.level))
                after = k + 1
                while after < len(lines) and lines[after][0] == span_start:
                    after += 1  # the same line read without its number: not a next heading
                break
    return tuple(out)


def _words_end(line: str, words: list[str]) -> int | None:
    """Where `words` end if `line` starts with them (any whitespace between, and no letter
    or digit right after), else None."""
    at = 0
    for n, word in enumerate(words):
        if n:
            gap = len(line) - at - len(line[at:].lstrip())
            if not gap:
                return None
            at += gap
        if not line.startswith(word, at):
            return None
        at += len(word)
    if line[at : at + 1].isalnum():
        return None  # "Release 1" is not the start of "Release 10"
    return at


def page_offsets(offsets: tuple[int, ...], raw: str) -> list[int]:
    """Where each page of the raw text (form-feed separated) starts in the cleaned text:
    the first cleaned character that comes from it (where the next page starts when none
    does)."""
    lengths = [len(page) + 1 for page in raw.split(PAGE_BREAK)]
    starts = np.cumsum([0, *lengths[:-1]])
    page_of = np.searchsorted(starts, np.asarray(offsets, dtype=np.int64), side="right") - 1
    first = np.full(len(starts), len(offsets), dtype=np.int64)
    np.minimum.at(first, page_of, np.arange(len(offsets), dtype=np.int64))
    return np.minimum.accumulate(first[::-1])[::-1].tolist()  # an empty page: the next's
