"""A sentence of a retrieved passage, and the quote it makes: what it is quoted with so that
it stands on its own (a list with its lead-in, a sentence that points back -- "It has a
default of 25." -- with the one before it).

The answer quotes these, and the reader reads them (what it judges is what is quoted).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace

import numpy as np

from qa.documents import Hit


@dataclass(frozen=True)
class Sentence:
    """A candidate sentence: its span in the document, its score for the question."""

    hit: Hit
    start: int  # in the document text
    end: int
    text: str
    vector: np.ndarray | None = None
    score: float = 0.0
    terms: frozenset[str] = frozenset()  # the question's terms that the sentence contains
    reading: float | None = None  # the reader's logit for it, when a reader read it


_ANAPHOR = re.compile(
    r"^(this|that|these|those|it|its|they|their|he|she|his|her|such|thus|therefore|"
    r"however|hence|the latter|the former|điều này|điều đó|đây|đó|họ|ông|bà)\b",
    re.I,
)


def _with_antecedent(s: Sentence) -> Sentence:
    """A sentence that opens with a pointer back ("This means...", "It...") is quoted
    together with the sentence before it (unless that is a heading), so that the quote
    stands on its own."""
    if not _ANAPHOR.match(s.text):
        return s
    p = s.hit.passage
    spans = [(p.start + a, p.start + b) for a, b in p.sentences]
    if (s.start, s.end) not in spans:
        return s
    i = spans.index((s.start, s.end))
    if i == 0:
        return s
    start, end = spans[i - 1]
    before = p.text[start - p.start : end - p.start]
    if before.rstrip()[-1:] not in '.!?…"”’)':
        return s  # a heading is not what "This" points back to
    return replace(s, start=start, text=p.text[start - p.start : s.end - p.start])


# A list item: a bullet, or a number or letter with "." or ")" ("2.", "b)", "(iii)").
_ITEM = re.compile(r"[ \t]*(?:[-*•–+]|\d{1,2}[.)]|[a-z][.)]|\(\w{1,4}\))[ \t]+\S")
# A list is quoted whole with its lead-in only while the quote stays this short.
MAX_LIST_WORDS = 80


def _with_list(s: Sentence) -> Sentence:
    """A sentence that announces a list ("...the following personas:") is quoted with the
    items that follow it, and a list item with the lead-in that gives it its meaning
    ("The format does not attempt to: ... * allow random access"): alone, neither answers
    anything. Only within the passage, and only while the quote stays short."""
    p = s.hit.passage
    a, b = s.start - p.start, s.end - p.start
    if s.text.rstrip().endswith(":"):
        end = b
        for line in _lines_after(p.text, b):
            if not _ITEM.match(p.text[line[0] : line[1]]):
                break
            if len(p.text[a : line[1]].split()) > MAX_LIST_WORDS:
                break
            end = line[1]
        if end > b:
            return replace(s, end=p.start + end, text=p.text[a:end])
        return s
    if not _ITEM.match(s.text):
        return s
    for start, stop in _lines_before(p.text, a):
        line = p.text[start:stop]
        if _ITEM.match(line):
            continue
        if line.rstrip().endswith(":") and len(p.text[start:b].split()) <= MAX_LIST_WORDS:
            return replace(s, start=p.start + start, text=p.text[start:b])
        break
    return s


def _lines_after(text: str, at: int):
    """(start, end) of each non-blank line after offset `at`, stopping at the end of the
    text; the rest of the line `at` is on is skipped."""
    pos = text.find("\n", at)
    while pos != -1:
        start = pos + 1
        pos = text.find("\n", start)
        stop = len(text) if pos == -1 else pos
        if text[start:stop].strip():
            yield start, start + len(text[start:stop].rstrip())


def _lines_before(text: str, at: int):
    """(start, end) of each non-blank line before the line that offset `at` is on, nearest
    first."""
    end = text.rfind("\n", 0, at)
    while end > 0:
        start = text.rfind("\n", 0, end) + 1
        line = text[start:end]
        if line.strip():
            yield start + len(line) - len(line.lstrip()), start + len(line.rstrip())
        end = start - 1


def in_context(s: Sentence) -> Sentence:
    """The quote a reader can take on its own: with its list or lead-in, else with the
    sentence that a pointer back refers to."""
    listed = _with_list(s)
    return listed if listed is not s else _with_antecedent(s)
