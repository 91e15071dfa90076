"""Word-level helpers shared by answer selection and scoring: tokens, content terms, numbers."""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

_WORD = re.compile(r"\w+(?:[.,]\d+)*", re.UNICODE)
STOPWORDS = set(
    # English ("an" is left out: it is the Vietnamese syllable of "an ninh", security)
    """a the and or but if of to in on at by for with from as into about over under than
    then that this these those is are was were be been being do does did has have had having
    it its it's which who whom whose what when where why how there their they them he she his
    her we our you your i me my not no nor so such can could would should will shall may might
    must also any all some each other more most much many very just only own same both few
    s t don doesn didn according say said says per via up down out off again further once
    according report article documents document text tell give given""".split()
) | set(
    # Vietnamese function words (one syllable each, as Vietnamese is written)
    """các của và là có được cho với những này trong đã một không để khi từ theo về như
    cũng thì nào gì ai đó đây rằng tại vào ra lại sẽ đến nhiều hơn nhưng mà nên bị bởi
    do vì nếu hay hoặc còn đều chỉ rất đang vẫn nữa sau trước trên dưới giữa qua cùng
    mỗi tất cả này kia ấy ở thế sao bao nhiêu mấy""".split()
)


def normalize(text: str) -> str:
    """NFKC, case-folded, whitespace collapsed: the comparison form for quotes and answers."""
    return " ".join(unicodedata.normalize("NFKC", text).casefold().split())


def strip_marks(text: str, form: str = "NFD") -> str:
    """`text` decomposed (`form`: NFD or NFKD) without its combining marks: "thỏa" ->
    "thoa". The one diacritics folder; callers add what they fold besides (đ -> d, case)."""
    return "".join(ch for ch in unicodedata.normalize(form, text) if not unicodedata.combining(ch))


def words(text: str) -> list[str]:
    return _WORD.findall(normalize(text))


@lru_cache(maxsize=1 << 16)
def stem(word: str) -> str:
    """A light suffix strip so that pledge/pledges/pledged meet; enough for term overlap."""
    for suffix in ("'s", "’s", "ing", "ed", "es", "s"):
        if word.endswith(suffix) and len(word) - len(suffix) >= 3:
            word = word[: -len(suffix)]
            break
    return word[:-1] if word.endswith("e") and len(word) > 3 else word


_NAME_WORD = re.compile(r"\w[\w.,-]*")  # a word as names are written: "U.S.", "G7", "6.5"


def _name_words(text: str) -> list[str]:
    return [m.group(0).rstrip(".,") for m in _NAME_WORD.finditer(text)]


def named_terms(text: str) -> set[str]:
    """Stemmed terms written with a capital letter or digits, not at the start of the text:
    the names and figures that a multi-part question asks about."""
    found = set()
    for i, w in enumerate(_name_words(text)):
        if (i > 0 and w[:1].isupper()) or any(ch.isdigit() for ch in w):
            if w.casefold() not in STOPWORDS:
                found.add(stem(normalize(w)))
    return found


# Both are asked of the same candidate sentences many times per question (scoring, reading,
# support, coverage): cached by text, as frozensets so that no caller changes a cached one.
@lru_cache(maxsize=1 << 14)
def capitalized_terms(text: str) -> frozenset[str]:
    """Stemmed terms of the words a text writes with a capital letter, wherever they are."""
    return frozenset(stem(normalize(w)) for w in _name_words(text) if w[:1].isupper())


@lru_cache(maxsize=1 << 14)
def content_terms(text: str) -> frozenset[str]:
    """Stemmed words that carry meaning (numbers included), for overlap between texts."""
    return frozenset(stem(w) for w in words(text) if w not in STOPWORDS)


def inverse_document_frequency(texts: list[str]) -> dict[str, float]:
    """log(1 + N / df) per content term: terms found in most passages ("Ukraine" in this
    corpus) weigh little when counting how much of a question a sentence covers."""
    import math
    from collections import Counter

    df: Counter[str] = Counter()
    for t in texts:
        df.update(content_terms(t))
    n = max(1, len(texts))
    return {term: math.log(1 + n / count) for term, count in df.items()}


def idf_by_language(texts: list[str], languages: list[str]) -> dict[str, dict[str, float]]:
    """IDF among the passages of each language, and over all ("*"). A term is weighed
    against the passages of the question's language: in a mostly English collection every
    Vietnamese word is rare overall, yet "thỏa thuận" (agreement) is in every Vietnamese
    passage and says as little as "agreement" does in English."""
    out = {"*": inverse_document_frequency(texts)}
    for lang in set(languages):
        out[lang] = inverse_document_frequency(
            [t for t, lg in zip(texts, languages, strict=True) if lg == lang]
        )
    return out


def languages_of(idf: dict[str, dict[str, float]]) -> list[str]:
    """The passage languages of an `idf_by_language` table: the collection's languages."""
    return [lang for lang in idf if lang != "*"]
