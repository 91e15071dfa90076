"""Word-level helpers shared by answer selection and scoring: tokens, content terms, numbers."""

from __future__ import annotations

import re
import unicodedata

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


def words(text: str) -> list[str]:
    return _WORD.findall(normalize(text))


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


def capitalized_terms(text: str) -> set[str]:
    """Stemmed terms of the words a text writes with a capital letter, wherever they are."""
    return {stem(normalize(w)) for w in _name_words(text) if w[:1].isupper()}


def content_terms(text: str) -> set[str]:
    """Stemmed words that carry meaning (numbers included), for overlap between texts."""
    return {stem(w) for w in words(text) if w not in STOPWORDS}


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


_QUANTITY_QUESTION = re.compile(
    r"\b(how (much|many|large|big|long|high|often)|what (share|percentage|proportion|amount|"
    r"sum|total|value|number|size|population|fraction)|bao nhiêu|mấy)\b",
    re.I,
)
_DATE_QUESTION = re.compile(
    r"\b(when|what (date|day|year|month|time)|on what (date|day)|in what year|since when|"
    r"khi nào|ngày nào|năm nào|bao giờ|lúc nào|thời điểm nào|thời gian nào)\b",
    re.I,
)
_NUMBER = re.compile(r"(?<![^\W\d_])\d")  # a digit not glued to letters ("G7" is a name)
_MONTHS = re.compile(
    r"\b(jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec)[a-z]*\b|tháng|\d{1,2}/\d{1,2}|"
    r"\b(19|20)\d\d\b",
    re.I,
)


def expected_answer_kind(question: str) -> str | None:
    """ "quantity", "date" or None: what kind of answer a question asks for, by its wording."""
    if _DATE_QUESTION.search(question):
        return "date"
    if _QUANTITY_QUESTION.search(question):
        return "quantity"
    return None


_YEARS_AND_DAYS = re.compile(
    r"\b(19|20)\d\d\b(?!\s*(%|percent|per cent))|\b\d{1,2}(st|nd|rd|th)\b|"
    r"\b\d{1,2}\s+(jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec)[a-z]*\b|"
    r"\b(jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec)[a-z]*\s+\d{1,2}\b|"
    r"\b\d{1,2}/\d{1,2}(/\d{2,4})?\b",
    re.I,
)


_FIGURE = re.compile(r"(?<![^\W\d_])\d+(?:[.,]\d+)*")


def figures(text: str) -> set[str]:
    """The numbers written in a text ("6.5", "2024", "672,000"), as written."""
    return {m.group(0).rstrip(".,") for m in _FIGURE.finditer(text)}


def has_quantity(sentence: str, known: set[str] = frozenset()) -> bool:
    """A figure other than a year, a day of the month, or one of `known` (those the
    question itself gives)."""
    return bool(figures(_YEARS_AND_DAYS.sub(" ", sentence)) - set(known))


def has_answer_kind(sentence: str, kind: str | None, known: set[str] = frozenset()) -> bool:
    if kind == "quantity":
        return has_quantity(sentence, known)
    if kind == "date":
        return bool(_MONTHS.search(sentence))
    return False


_NAME = r"[^\W\d_][\w’'.-]*"
_COORDINATED = re.compile(rf"\b({_NAME}(?:\s*,\s*{_NAME})*\s*,?\s+(?:and|or|và|hoặc)\s+{_NAME})")


def coordinated_names(question: str) -> list[set[str]]:
    """Groups of names joined by and/or ("Sweden and Norway"): the question asks the same
    thing of each, so a sentence naming one of them answers its part."""
    groups = []
    for m in _COORDINATED.finditer(question):
        members = re.split(r"\s*,\s*|\s+(?:and|or|và|hoặc)\s+", m.group(1))
        names = {stem(normalize(w)) for w in members if w[:1].isupper()}
        if len(names) >= 2:
            groups.append(names)
    return groups


_WH = r"(?:how (?:many|much|long|large|big|often)|which|what|who|whom|whose|when|where|why|how)"
_PART_BREAK = re.compile(rf"(?:,|;)?\s+(?:and|but|or)\s+(?={_WH}\b)|;\s+(?={_WH}\b)", re.I)


_AUX = r"(?:did|does|do|is|are|was|were|has|have|had|will|would|can|could)"


def split_question(question: str) -> list[str]:
    """Parts of a question that asks several things ("How many X did A report, and how many
    Y does B count?"): each part starts with its own question word."""
    parts = [p.strip(" ,;") for p in _PART_BREAK.split(question)]
    parts = [p for p in parts if len(p.split()) >= 3]
    if len(parts) < 2:
        return [question]
    # "Which country did A name, and which did B name?": the later part leaves the noun out
    head = re.match(rf"(?i)(which|what)\s+(?!{_AUX}\b)([^\W\d_][\w-]*)", parts[0])
    if head:
        noun = head.group(2)
        parts = [parts[0]] + [
            re.sub(rf"(?i)^(which|what)\s+(?={_AUX}\b)", rf"\g<1> {noun} ", p) for p in parts[1:]
        ]
    return parts
