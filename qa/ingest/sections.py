"""Headings -> sections: where each heading the markup declared sits in the cleaned text.

A passage is read under its headings ("v3.0.0 - 2023-09-17 › Changed" above "Rename
OrfFinder to GeneFinder"): they say what its sentences are about when the sentences do
not. Loaders know the headings (Markdown `#`, HTML `<h1>`..`<h6>`); cleaning rewrites the
text, so each heading is found again, in order, in what cleaning left.
"""

from __future__ import annotations

import re

from qa.documents import Section


def locate(text: str, headings: tuple[tuple[int, str], ...]) -> tuple[Section, ...]:
    """The spans of `headings` in `text`, in order. A heading is looked for from the end of
    the one before, at the start of a line; one that cleaning removed is left out."""
    out: list[Section] = []
    at = 0
    for level, heading in headings:
        words = heading.split()
        if not words:
            continue
        pattern = r"(?:(?<=\n)|(?<=\A)|(?<=\f))[ \t]*(" + r"\s+".join(map(re.escape, words)) + ")"
        m = re.compile(pattern).search(text, at)
        if m is None:
            continue
        out.append((m.start(1), m.end(1), level))
        at = m.end(1)
    return tuple(out)
