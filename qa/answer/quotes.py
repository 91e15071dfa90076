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


def is_heading(text: str) -> bool:
    """A title or caption, not an answer: no closing punctuation and mostly capitalised
    words ("Luxembourg and Ukraine Sign Security Agreement")."""
    if text.rstrip()[-1:] in ".!?…:;,\"'”’»)|":  # "|": a table's row, read as a sentence
        return False
    words = [w for w in text.split() if w[:1].isalpha()]
    return bool(words) and sum(w[0].isupper() for w in words) >= 0.5 * len(words)


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
    """A sentence that announces what follows ("...the following personas:", "...can be
    estimated with the following formula:") is quoted with it: the list items that follow,
    else the block of lines that follows (a formula, a code block, items marked with a
    glyph that a PDF lost); and a list item with the lead-in that gives it its meaning
    ("The format does not attempt to: ... * allow random access"). Alone, neither answers
    anything. Only within the passage, and only while the quote stays short."""
    p = s.hit.passage
    a, b = s.start - p.start, s.end - p.start
    if s.text.rstrip().endswith(":"):
        end = _items_after(p.text, a, b) or _block_after(p.text, a, b)
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


def _items_after(text: str, a: int, b: int) -> int:
    """The end of the list items right after the lead-in text[a:b] that keep the quote
    within MAX_LIST_WORDS (0: none)."""
    end = 0
    for start, stop in _lines_after(text, b):
        if not _ITEM.match(text[start:stop]) or len(text[a:stop].split()) > MAX_LIST_WORDS:
            break
        end = stop
    return end


_BLANK_LINE = re.compile(r"\n[ \t]*\n")
_FENCE = re.compile(r"[ \t]*(```|~~~)")


def _block_after(text: str, a: int, b: int) -> int:
    """The end of the lines right after the lead-in text[a:b] -- up to a blank line or a
    heading, or a fenced code block whole -- while the quote stays within MAX_LIST_WORDS
    (0: none, or nothing but a fence)."""
    end, fenced = 0, False
    for start, stop in _lines_after(text, b):
        line = text[start:stop]
        if not end:
            if _titles(line):
                return 0
            fenced = bool(_FENCE.match(line))
        elif not fenced and (_BLANK_LINE.search(text, end, start) or _titles(line)):
            break
        if len(text[a:stop].split()) > MAX_LIST_WORDS:
            return 0 if fenced else end
        if end and fenced and _FENCE.match(line):
            return stop  # the fence closed
        end = stop
    return 0 if fenced else end


def _titles(line: str) -> bool:
    """A heading among the lines of a block: heading-like and made of words, not a line
    of code or data ("CONTENT_LENGTH" <00> "27" <00>)."""
    visible = line.replace(" ", "")
    return is_heading(line) and sum(ch.isalpha() for ch in visible) >= 0.8 * len(visible)


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
