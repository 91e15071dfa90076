"""A question, analysed once: its language, the kind of answer it asks for, its names,
figures, places and parts. `QA.ask` builds the `Question` and every stage reads it, so no
stage detects the language or the kind again."""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

from qa.answer.figures import figures
from qa.answer.places import NamedPlace, places_in
from qa.ingest.language import detect_language
from qa.text import content_terms, named_terms, normalize, stem


@dataclass(frozen=True)
class Question:
    """What the stages need to know about a question (see `analyse`)."""

    text: str
    language: str  # ISO 639-1, "und" when unknown
    kind: str | None  # "count", "duration", "quantity", "date" or None: what it asks for
    figures: frozenset[str]  # the numbers it gives ("2024", "6.5"), as written
    names: frozenset[str]  # stemmed names ("sweden", "ukrain"): see `text.named_terms`
    groups: tuple[frozenset[str], ...]  # names it joins with and/or ("Sweden and Norway")
    places: tuple[NamedPlace, ...]  # places with their names in the collection's other languages
    parts: tuple[str, ...]  # the things it asks, each a question (one part: the question)
    types: frozenset[str] = frozenset()  # what it asks for: who, when, where, quantity, ...


def analyse(text: str, languages: Iterable[str] = ()) -> Question:
    """The question's record; `languages` are the collection's (for the places it names)."""
    language = detect_language(text)
    return Question(
        text=text,
        language=language,
        kind=expected_answer_kind(text),
        figures=frozenset(figures(text)),
        names=frozenset(named_terms(text)),
        groups=tuple(frozenset(g) for g in coordinated_names(text)),
        places=tuple(places_in(text, language, languages)),
        parts=tuple(split_question(text)),
        types=answer_types(text),
    )


def as_question(question: Question | str, languages: Iterable[str] = ()) -> Question:
    """`question` itself, or the analysis of a question given as text (tests, benchmarks)."""
    return question if isinstance(question, Question) else analyse(question, languages)


# What a measure is called: "what share", "which minimum version", "what is the fax number"
# ask for a figure. Up to two words may qualify the noun, and it must not take an object: in
# "which countries' agreements share an identical pledge" it is a verb. An auxiliary ends
# the phrase: "What does the number ... mean?" asks about a number, not for one. "Value"
# asks for a figure only right after the question word: a "default value" is often a word.
_MEASURES = (
    r"share|percentage|proportion|amount|sum|total|number|size|population|fraction|frequency|"
    r"rate|ratio|length|duration|price|cost|fee|speed|weight|height|width|depth|distance|"
    r"temperature|age|count|version|limit|budget"
)
_AUX_WORDS = r"did|does|do|is|are|was|were|has|have|had|will|would|can|could"
# a verb takes an object ("share an identical pledge"); a noun is followed by anything else
_NOUN_ENDS = r"(?!\s+(?:a|an|the|this|these|those|its|their|his|her|our|my|your)\b)\b"
_QUANTITY_QUESTION = re.compile(
    r"\b(?:how (?:much|large|big|high|often)|bao nhiêu|mấy)\b|"  # many, long: count, duration
    r"\b(?:what|which) value\b|"
    rf"\b(?:what|which)\s+(?:(?:is|was|are|were)\s+the\s+)?"
    rf"(?:(?!(?:{_AUX_WORDS}|should|must|may)\b)[\w'-]+\s+){{0,2}}(?:{_MEASURES}){_NOUN_ENDS}",
    re.I,
)

# "When" asks for a date where it opens the question or one of its parts ("..., and when
# did..."), or follows "since", "until", "by"; elsewhere it is a conjunction ("What
# happens when a handler fails?", "Who presides when the Senate tries..."), and so it is
# where its clause ends in a comma before the question proper ("When apps are merged,
# which of them receives the library?").
_CLAUSE_BEFORE_QUESTION = (
    rf"(?![^,?]*,\s*(?:how|which|what|who|whom|whose|where|why|when|{_AUX_WORDS}|should|must)\b)"
)
_DATE_QUESTION = re.compile(
    rf"(?:^|[,;:]\s*|\band\s+|\bor\s+)(?:since |until |by )?when\b{_CLAUSE_BEFORE_QUESTION}|"
    r"\b(what (date|day|year|month|time)|on what (date|day)|in what year|since when|"
    r"khi nào|ngày nào|năm nào|bao giờ|lúc nào|thời điểm nào|thời gian nào)\b|"
    # "What was the release date of 2.1?", "what is the closing day for...": the date the
    # question names as its head noun (not "the date format", "the day-to-day role")
    rf"\b(?:what|which)\s+(?:is|was|are|were)\s+the\s+"
    rf"(?:(?!(?:{_AUX_WORDS}|should|must|may)\b)[\w'-]+\s+){{0,2}}(?:date|day|year)"
    r"(?=\s*(?:[?,;]|$|(?:of|for|on|in|at|when|that|the|a|an|did|does|do|was|were|is|are|"
    r"will|would|has|had|can|could)\b))",
    re.I,
)


# What a question asks for, by its question words (English and Vietnamese): language
# vocabulary, not a collection's; the answer ranker learns what each type wants of a sentence.
ANSWER_TYPES = {
    "who": r"^(who|whom|whose)\b|\b(ai|người nào)\b",
    "when": rf"^when\b{_CLAUSE_BEFORE_QUESTION}|\bwhat (year|date|day|month)\b|"
    r"\b(khi nào|bao giờ|năm nào|ngày nào|lúc nào)\b",
    "where": r"^where\b|\b(ở đâu|nơi nào)\b",
    "quantity": r"\bhow (many|much|long|often|large|big|old|far)\b|\b(bao nhiêu|mấy)\b",
    "why": r"^why\b|\b(tại sao|vì sao)\b",
    "yesno": r"^(is|are|does|do|did|can|could|was|were|has|have|will|should|must)\b|^có phải",
}
_TYPES = {name: re.compile(pattern, re.I) for name, pattern in ANSWER_TYPES.items()}


def answer_types(question: str) -> frozenset[str]:
    text = question.strip()
    return frozenset(name for name, pattern in _TYPES.items() if pattern.search(text))


# "How many tanks" asks for a count, which a sum of money or a share does not give; so does
# Vietnamese "bao nhiêu" / "mấy" before a noun other than money ("bao nhiêu tiền" is "how
# much money"; "... là bao nhiêu?", "what is the price", asks for any figure).
_MONEY_VI = r"tiền|đồng|đô|đô la|euro|usd|phần trăm|%"
_COUNT_QUESTION = re.compile(
    rf"\bhow many\b|\b(?:bao nhiêu|mấy)\s+(?!(?:{_MONEY_VI})(?!\w))\w", re.I
)


# "How long / how quickly / how old / how far" asks for a span of time or a length: a figure
# with its unit ("thirty Years", "5 minutes", "12 km").
_DURATION_QUESTION = re.compile(r"\bhow (?:long|quickly|soon|old|far)\b|\bbao lâu\b", re.I)


def expected_answer_kind(question: str) -> str | None:
    """ "count", "duration", "quantity", "date" or None: what kind of answer a question asks
    for, by its wording."""
    if _DATE_QUESTION.search(question):
        return "date"
    if _COUNT_QUESTION.search(question):
        return "count"
    if _DURATION_QUESTION.search(question):
        return "duration"
    if _QUANTITY_QUESTION.search(question):
        return "quantity"
    return None


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
# a question word may follow its preposition: "and to which title...", "and by what date..."
_PREPOSITION = r"(?:to|by|under|in|on|at|for|from|with|of|into|since|until|after|before|during)"
_ASKS = rf"(?:{_PREPOSITION}\s+)?{_WH}\b"
_PART_BREAK = re.compile(rf"(?:,|;)?\s+(?:and|but|or)\s+(?={_ASKS})|;\s+(?={_ASKS})", re.I)
_A_QUESTION = re.compile(rf"\b{_WH}\b|^(?:{_AUX_WORDS})\b|\?$", re.I)  # "pip has how many levels"


def split_question(question: str) -> list[str]:
    """Parts of a question that asks several things ("How many X did A report, and how many
    Y does B count?"), each starting with its own question word, which may follow its
    preposition ("..., and to which title ..."). A statement before the first part belongs
    to it: "Posting brought few responses; which channel worked better?" is one question."""
    parts = [p.strip(" ,;") for p in _PART_BREAK.split(question)]
    parts = [p for p in parts if len(p.split()) >= 3]
    if len(parts) > 1 and not _A_QUESTION.search(parts[0]):
        parts = [f"{parts[0]}; {parts[1]}", *parts[2:]]
    if len(parts) < 2 or any(len(content_terms(p)) < 2 for p in parts):
        return [question]  # "..., and in which year?" leans on the first part: one question
    return parts
