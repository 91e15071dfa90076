"""Sentence boundaries for English and Vietnamese prose, as character spans into the text.

A rule-based splitter: Vietnamese writes sentences with the same punctuation as English,
so both need only the abbreviation guard and Unicode-aware capital detection.
"""

from __future__ import annotations

import re
from itertools import pairwise

_ABBREVIATIONS = {
    "mr",
    "mrs",
    "ms",
    "dr",
    "prof",
    "st",
    "sr",
    "jr",
    "gen",
    "lt",
    "col",
    "sgt",
    "capt",
    "gov",
    "sen",
    "rep",
    "pres",
    "no",
    "nos",
    "vs",
    "etc",
    "e.g",
    "i.e",
    "cf",
    "approx",
    "jan",
    "feb",
    "mar",
    "apr",
    "jun",
    "jul",
    "aug",
    "sep",
    "sept",
    "oct",
    "nov",
    "dec",
    "u.s",
    "u.k",
    "u.n",
    "e.u",
    "inc",
    "ltd",
    "co",
    "corp",
    "fig",
    "vol",
    "art",
    "para",
    "ths",
    "ts",
    "tp",
    "ông",
    "bà",
}

# End of a sentence: terminal punctuation, optional closing quotes/brackets, then space.
# A footnote number glued to the full stop ("aware of.4 In addition"), or raised by cleaning
# ("aware of.⁴ In addition"), ends a sentence too.
# Punctuation is tried from the start of its run only: tried from every dot, a long run
# of dots with no space after it (a dot leader glued to its page number) took quadratic time.
_END = re.compile(r"(?<![.!?…])[.!?…]+[\"'”’»)\]]*[⁰¹²³⁴⁵⁶⁷⁸⁹]*(?=\s)|(?<=[^\W\d_])\.\d{1,3}(?=\s)")
_LINE_BREAK = re.compile(r"\n+")


def _starts_sentence(text: str, pos: int) -> bool:
    """Does a sentence plausibly start at the first non-space character from `pos`?"""
    m = re.compile(r"\s*").match(text, pos)
    nxt = text[m.end() : m.end() + 1] if m else ""
    return bool(nxt) and (nxt.isupper() or nxt.isdigit() or nxt in "\"'“‘«(•[-–")


def _is_abbreviation(text: str, dot: int) -> bool:
    word = re.search(r"([\w.]+)$", text[max(0, dot - 12) : dot])
    if not word:
        return False
    w = word.group(1).casefold().rstrip(".")
    return w in _ABBREVIATIONS or (len(w) == 1 and w.isalpha())


def split_sentences(text: str, start: int = 0, end: int | None = None) -> list[tuple[int, int]]:
    """Spans (start, end) of the sentences in text[start:end], whitespace trimmed."""
    end = len(text) if end is None else end
    cuts = [start]
    for m in _LINE_BREAK.finditer(text, start, end):
        cuts.append(m.end())
    for m in _END.finditer(text, start, end):
        if text[m.start()] == "." and m.group(0) == "." and _is_abbreviation(text, m.start()):
            continue
        if _starts_sentence(text, m.end()):
            cuts.append(m.end())
    cuts = sorted(set(cuts)) + [end]
    spans = []
    for a, b in pairwise(cuts):
        while a < b and text[a].isspace():
            a += 1
        while b > a and text[b - 1].isspace():
            b -= 1
        if b > a:
            spans.append((a, b))
    return spans
