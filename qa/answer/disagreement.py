"""Figures that the passages cited for one answer give differently: "Sources disagree".

An extractive answer quotes the best sentence; another cited passage may give another count,
amount or date for the same thing (21 agreements in one article, 17 in a report). Rather
than let the reader take one figure on trust, the answer lists each with its source.

Rules, not a model: a figure is a number with what it counts (the noun after it, or a
currency), or a date; it is about the question's thing when that noun is one the question
uses (or a currency, when the question asks how much); figures for different names that the
question joins ("Sweden and Norway") are different things. Documents disagree when no value
of one is compatible with a value of the other.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Set
from dataclasses import dataclass

from qa.answer.figures import (
    CURRENCY_CODES,
    MONTHS,
    DateMention,
    canonical_unit,
    dates,
    interval,
    normalized,
    quantities,
    units_in,
)
from qa.answer.question import Question, as_question
from qa.documents import Answer, Disagreement, Document, Figure, Passage
from qa.ingest.sentences import split_sentences
from qa.text import STOPWORDS, content_terms, normalize, stem

# Words that are capitalised without naming anything
_WEEKDAYS = {"monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"}
# Capitalised words that open a sentence without naming anything
_OPENERS = {
    "since",
    "however",
    "meanwhile",
    "moreover",
    "furthermore",
    "additionally",
    "overall",
    "today",
    "yesterday",
    "now",
    "last",
    "next",
    "earlier",
    "later",
    "thus",
    "still",
    "yet",
    "while",
    "although",
    "though",
    "because",
    "after",
    "before",
    "during",
    "under",
    "among",
    "unlike",
    "like",
    "despite",
    "besides",
    "instead",
    "indeed",
    "finally",
    "first",
    "second",
    "there",
    "here",
    "in",
    "on",
    "at",
    "as",
    "by",
    "for",
    "with",
    "from",
    "so",
    "altogether",
}


# --- the question's thing ----------------------------------------------------------------

_MONEY_QUESTION = re.compile(
    r"\b(how much|cost|costs|pledg\w*|fund\w*|spen[dt]\w*|worth|budget\w*|aid|financ\w*|"
    r"allocat\w*|provid\w*|money|bao nhiêu tiền|cam kết|viện trợ|tài trợ|trị giá|chi)\b|"
    rf"[€$£¥]|\b({'|'.join(c.lower() for c in CURRENCY_CODES)}|euros?|dollars?|pounds?)\b",
    re.I,
)
_PERCENT_QUESTION = re.compile(r"%|\b(percent\w*|per cent|share|proportion|phần trăm)\b", re.I)


@dataclass(frozen=True)
class _Question:
    names: frozenset[str]  # stemmed names the question gives ("sweden", "ukrain")
    joined: frozenset[str]  # of those, the ones it joins with and/or: each a subject
    units: frozenset[str]  # canonical nouns of the question, and currencies if it asks how much
    terms: frozenset[str]  # content terms other than names
    kind: str | None
    spelled: dict[str, str]  # stemmed name -> as the question writes it


def _analyse(q: Question) -> _Question:
    names = {n for n in q.names if not any(ch.isdigit() for ch in n)}
    joined = set().union(*q.groups) & names
    question = q.text
    tokens = re.findall(r"[^\W\d_][\w'’-]*", question)
    low = [normalize(t) for t in tokens]
    units = {canonical_unit(w) for w in low if w not in STOPWORDS}
    units |= {canonical_unit(f"{a} {b}") for a, b in zip(low, low[1:], strict=False)}
    if _MONEY_QUESTION.search(question):
        units |= set(CURRENCY_CODES)
    if _PERCENT_QUESTION.search(question):
        units.add("percent")
    spelled = {stem(normalize(t)): t for t in tokens}
    return _Question(
        frozenset(names),
        frozenset(joined),
        frozenset(units),
        frozenset(content_terms(question) - names),
        q.kind,
        spelled,
    )


def _mentioned(names: Set[str], sentence_terms: Set[str]) -> frozenset[str]:
    """The names a sentence mentions, "Ukrainian" counting for "Ukraine"."""
    return frozenset(
        n
        for n in names
        if n in sentence_terms or any(len(n) >= 4 and t.startswith(n) for t in sentence_terms)
    )


def _other_names(sentence: str, names: Set[str]) -> bool:
    """Does the sentence name someone or something that the question does not?"""
    for i, m in enumerate(re.finditer(r"[^\W\d_][\w'’.-]*", sentence)):
        w = m.group(0).rstrip(".")
        low = normalize(w)
        if not w[:1].isupper() or low in STOPWORDS or low in _WEEKDAYS:
            continue
        if (i == 0 and low in _OPENERS) or low.upper() in CURRENCY_CODES:
            continue
        if any(low.startswith(key) for key in MONTHS) and len(low) >= 3:
            continue
        if not _mentioned(names, {stem(low)}):
            return True
    return False


# --- finding disagreements ---------------------------------------------------------------


@dataclass(frozen=True)
class _Sentence:
    passage: Passage
    start: int  # in the document
    end: int
    text: str


def _answer_sentences(answer: Answer, among: int) -> list[_Sentence]:
    """Sentences of the cited passages and of the `among` best passages the answer was
    chosen from: a source that gives another figure is usually a passage that was not
    quoted, which is exactly the figure an extractive answer would drop silently."""
    by_id = {h.passage.passage_id: h.passage for h in answer.hits}
    ids = [c.passage_id for c in answer.citations] + [
        h.passage.passage_id for h in answer.hits[:among]
    ]
    passages = [by_id[pid] for pid in dict.fromkeys(ids) if pid in by_id]
    out = []
    for p in passages:
        spans = p.sentences or tuple(split_sentences(p.text))
        for a, b in spans:
            out.append(_Sentence(p, p.start + a, p.start + b, p.text[a:b]))
    return out


def find_disagreements(
    question: Question | str,
    answer: Answer,
    documents: Mapping[str, Document] | None = None,
    among: int = 5,
) -> tuple[Disagreement, ...]:
    """Counts, amounts or dates for the question's thing that the answer quotes and that
    another document, in the cited or the `among` best retrieved passages, gives
    differently; each figure with its source. Empty for an abstained answer, when the
    answer quotes no such figure, or when the sources agree ("about 20" agrees with 21,
    "more than 10" with 32). `documents` (optional) gives exact pages for sentences the
    answer does not quote."""
    if answer.abstained or not answer.citations:
        return ()
    q = _analyse(as_question(question))
    # A name that every retrieved passage mentions ("Ukraine" here) does not tell what a
    # sentence is about; the others do ("Luxembourg" in a question about its aid).
    passages = [content_terms(h.passage.text) for h in answer.hits]
    background = frozenset(
        n
        for n in q.names - q.joined  # a name the question joins to another is a subject
        if len(passages) >= 2 and all(_mentioned({n}, t) for t in passages)
    )
    key_names = q.names - background
    groups: dict[tuple[str, frozenset[str]], list[tuple[Figure, object]]] = {}
    for s in _answer_sentences(answer, among):
        language = s.passage.language
        terms = content_terms(s.text)
        mentioned = _mentioned(q.names, terms)
        if q.kind == "date":
            if mentioned != q.names or not (terms & q.terms or units_in(s.text) & q.units):
                continue
            for d in dates(s.text, language):
                key = ("date", frozenset())
                groups.setdefault(key, []).append(
                    (_figure(answer, s, d.value, d.iso(), documents), d)
                )
            continue
        if key_names and not mentioned & key_names and _other_names(s.text, q.names):
            continue  # about someone the question does not ask about
        subject = mentioned & q.joined
        if q.joined and not subject:
            continue  # the question asks of several names and this sentence names none
        for x in quantities(s.text, language):
            unit = x.unit if x.unit in q.units else None
            value = x.value
            if unit:
                key = (unit, subject)
                groups.setdefault(key, []).append(
                    (_figure(answer, s, value, normalized(x), documents), interval(x, language))
                )
    out = []
    for (unit, subject), found in groups.items():
        quoted = any(f.n is not None for f, _ in found)  # the answer committed to a value
        if quoted and _documents_disagree(found):
            out.append(Disagreement(_subject(unit, subject, q), _distinct(found)))
    return tuple(out)


def _documents_disagree(found: list[tuple[Figure, object]]) -> bool:
    """True when two documents give values of which none agree: one document that also
    gives the other's value (two events, two dates) is no contradiction."""
    by_doc: dict[str, list[object]] = {}
    for f, v in found:
        by_doc.setdefault(f.document, []).append(v)
    docs = list(by_doc.values())
    for i, a in enumerate(docs):
        for b in docs[i + 1 :]:
            if not any(_agree(x, y) for x in a for y in b):
                return True
    return False


def _agree(x: object, y: object) -> bool:
    if isinstance(x, DateMention) and isinstance(y, DateMention):
        return x.agrees(y)
    if isinstance(x, tuple) and isinstance(y, tuple):  # (low, high) ranges overlap
        return x[0] <= y[1] and y[0] <= x[1]
    return x == y


def _distinct(found: list[tuple[Figure, object]]) -> tuple[Figure, ...]:
    """One figure per document and value, the answer's cited ones first."""
    seen: dict[tuple[str, str], Figure] = {}
    for f, _ in found:
        key = (f.document, f.normalized)
        if key not in seen or (f.n is not None and seen[key].n is None):
            seen[key] = f
    return tuple(sorted(seen.values(), key=lambda f: (f.n is None, f.n or 0)))


def _subject(unit: str, subject: frozenset[str], q: _Question) -> str:
    if unit == "date":
        what = "the date"
    elif unit in CURRENCY_CODES:
        what = f"the amount in {unit}"
    elif unit == "percent":
        what = "the percentage"
    else:
        what = f"the number of {_plural(unit)}"
    if subject:
        what += f" ({', '.join(sorted(q.spelled.get(n, n) for n in subject))})"
    return what


def _plural(noun: str) -> str:
    if noun.endswith("y") and noun[-2:-1] not in "aeiou":
        return noun[:-1] + "ies"
    return noun if noun.endswith("s") or noun == "people" or " " in noun else noun + "s"


def _figure(
    answer: Answer,
    s: _Sentence,
    value: str,
    normalized: str,
    documents: Mapping[str, Document] | None,
) -> Figure:
    doc_id = s.passage.doc_id
    meta = answer.documents.get(doc_id)
    cited = next(
        (
            c
            for c in answer.citations
            if c.document == doc_id and c.start < s.end and s.start < c.end
        ),
        None,
    )
    if cited is not None:
        page, page_end = cited.page, cited.page_end
    elif documents and doc_id in documents:
        page, page_end = documents[doc_id].page_at(s.start), documents[doc_id].page_at(s.end - 1)
    else:
        page, page_end = s.passage.page_start, s.passage.page_end
    return Figure(
        value=value,
        normalized=normalized,
        document=doc_id,
        title=meta.title if meta else doc_id,
        publisher=meta.publisher if meta else None,
        date=meta.date if meta else None,
        url=meta.url if meta else None,
        page=page,
        page_end=page_end,
        quote=s.text,
        start=s.start,
        end=s.end,
        n=cited.n if cited else None,
        language=s.passage.language,
    )
