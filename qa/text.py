"""Word-level helpers shared by answer selection and scoring: tokens, content terms, numbers."""

from __future__ import annotations

import re
import unicodedata

_WORD = re.compile(r"\w+(?:[.,]\d+)*", re.UNICODE)
_STOPWORDS = set(
    """a an the and or but if of to in on at by for with from as into about over under than
    then that this these those is are was were be been being do does did has have had having
    it its it's which who whom whose what when where why how there their they them he she his
    her we our you your i me my not no nor so such can could would should will shall may might
    must also any all some each other more most much many very just only own same both few
    s t don doesn didn according say said says per via up down out off again further once
    according report article documents document text tell give given""".split()
)


def normalize(text: str) -> str:
    """NFKC, case-folded, whitespace collapsed: the comparison form for quotes and answers."""
    return " ".join(unicodedata.normalize("NFKC", text).casefold().split())


def words(text: str) -> list[str]:
    return _WORD.findall(normalize(text))


def stem(word: str) -> str:
    """A light suffix strip so that pledge/pledges/pledged meet; enough for term overlap."""
    for suffix in ("'s", "’s", "ing", "ed", "es", "s"):
        if word.endswith(suffix) and len(word) - len(suffix) >= 3:
            word = word[: -len(suffix)]
            break
    return word[:-1] if word.endswith("e") and len(word) > 3 else word


def named_terms(text: str) -> set[str]:
    """Stemmed terms written with a capital letter or digits, not at the start of the text:
    the names and figures that a multi-part question asks about."""
    found = set()
    for i, m in enumerate(re.finditer(r"\w[\w.,-]*", text)):
        w = m.group(0).rstrip(".,")
        if (i > 0 and w[:1].isupper()) or any(ch.isdigit() for ch in w):
            if w.casefold() not in _STOPWORDS:
                found.add(stem(normalize(w)))
    return found


def content_terms(text: str) -> set[str]:
    """Stemmed words that carry meaning (numbers included), for overlap between texts."""
    return {stem(w) for w in words(text) if w not in _STOPWORDS}
