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
from decimal import Decimal, InvalidOperation

from qa.documents import Answer, Disagreement, Document, Figure, Passage
from qa.ingest.sentences import split_sentences
from qa.text import (
    STOPWORDS,
    content_terms,
    coordinated_names,
    expected_answer_kind,
    named_terms,
    normalize,
    stem,
)


@dataclass(frozen=True)
class Quantity:
    """A number in a sentence and what it counts."""

    value: str  # as written, qualifier and currency included
    amount: Decimal  # scaled: "EUR 6.5 billion" -> 6500000000
    unit: str  # canonical: "agreement", "EUR", "percent"; "" when no noun follows
    start: int  # span of `value` in the sentence
    end: int


@dataclass(frozen=True)
class DateMention:
    """A date in a sentence; any of its parts may be unknown ("July 2024", "10/7")."""

    value: str
    year: int | None
    month: int | None
    day: int | None
    start: int
    end: int

    def iso(self) -> str:
        """ISO 8601 with the unknown parts left out: "2024-07", "--07-10" (no year)."""
        y = f"{self.year:04d}" if self.year else "-"
        parts = [y] + [f"{x:02d}" for x in (self.month, self.day) if x]
        if self.month is None and self.day:
            return f"{y}---{self.day:02d}"
        return "-".join(parts)

    def agrees(self, other: DateMention) -> bool:
        """Equal in every part that both give: "10 July 2024" and "July 2024" agree."""
        pairs = ((self.year, other.year), (self.month, other.month), (self.day, other.day))
        return all(a is None or b is None or a == b for a, b in pairs)


# --- vocabulary -------------------------------------------------------------------------

# Words that name the same countable thing, so that "two dozen treaties" and "21
# agreements" are compared (news reports use them interchangeably); Vietnamese nouns map
# to their English counterparts so that a Vietnamese passage is compared with an English one.
UNIT_SYNONYMS = {
    "deal": "agreement", "treaty": "agreement", "pact": "agreement", "accord": "agreement",
    "thỏa thuận": "agreement", "thoả thuận": "agreement", "hiệp ước": "agreement",
    "hiệp định": "agreement",
    "state": "country", "nation": "country", "quốc gia": "country", "nước": "country",
    "person": "people", "người": "people",
}  # fmt: skip
PARTY_UNITS = {"country", "partner", "member", "ally", "signatory"}
_VI_CLASSIFIERS = {"bản", "cái", "chiếc", "văn", "con"}

_SCALES = {
    "thousand": 3, "k": 3, "nghìn": 3, "ngàn": 3,
    "million": 6, "mln": 6, "mn": 6, "m": 6, "triệu": 6,
    "billion": 9, "bn": 9, "b": 9, "tỷ": 9, "tỉ": 9,
    "trillion": 12,
}  # fmt: skip
_CURRENCIES = {
    "eur": "EUR", "€": "EUR", "euro": "EUR", "euros": "EUR",
    "usd": "USD", "$": "USD", "us$": "USD", "dollar": "USD", "dollars": "USD",
    "us dollars": "USD", "đô la": "USD", "đô-la": "USD",
    "gbp": "GBP", "£": "GBP", "pound": "GBP", "pounds": "GBP", "pounds sterling": "GBP",
    "uah": "UAH", "hryvnia": "UAH", "hryvnias": "UAH",
    "sek": "SEK", "nok": "NOK", "dkk": "DKK", "chf": "CHF", "cad": "CAD", "pln": "PLN",
    "jpy": "JPY", "¥": "JPY",
}  # fmt: skip
_NUMBER_WORDS = {
    w: i
    for i, w in enumerate(
        "one two three four five six seven eight nine ten eleven twelve thirteen fourteen "
        "fifteen sixteen seventeen eighteen nineteen".split(),
        start=1,
    )
} | {w: 10 * i for i, w in enumerate("twenty thirty forty fifty sixty seventy eighty ninety".split(), start=2)}  # fmt: skip
_MONTHS = {
    m: i
    for i, m in enumerate(
        "january february march april may june july august september october november "
        "december".split(),
        start=1,
    )
}
_MONTH_RE = (
    r"(?:jan(?:uary)?|feb(?:ruary)?|mar(?:ch)?|apr(?:il)?|may|june?|july?|aug(?:ust)?|"
    r"sep(?:t(?:ember)?)?|oct(?:ober)?|nov(?:ember)?|dec(?:ember)?)\.?"
)
_WEEKDAYS = {"monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"}
# Capitalised words that open a sentence without naming anything
_OPENERS = {
    "since", "however", "meanwhile", "moreover", "furthermore", "additionally", "overall",
    "today", "yesterday", "now", "last", "next", "earlier", "later", "thus", "still", "yet",
    "while", "although", "though", "because", "after", "before", "during", "under", "among",
    "unlike", "like", "despite", "besides", "instead", "indeed", "finally", "first", "second",
    "there", "here", "in", "on", "at", "as", "by", "for", "with", "from", "so", "altogether",
}  # fmt: skip

_QUALIFIER = (
    r"(?:approximately|approx\.|about|around|roughly|nearly|almost|some|over|more than|"
    r"fewer than|less than|at least|at most|up to|exceeding|upwards of|khoảng|hơn|gần|trên|"
    r"ít nhất|tới|đến|chừng)"
)
_CURRENCY_BEFORE = r"US\$|\$|€|£|¥|\b(?:EUR|USD|GBP|UAH|SEK|NOK|DKK|CHF|CAD|PLN|JPY)"
_BEFORE = re.compile(rf"(?:(?P<qual>{_QUALIFIER})\s+)?(?:(?P<cur>{_CURRENCY_BEFORE})\s?)?$", re.I)
_WORD_NUMBER = (
    r"(?:twenty|thirty|forty|fifty|sixty|seventy|eighty|ninety)(?:-(?:one|two|three|four|"
    r"five|six|seven|eight|nine))?|one|two|three|four|five|six|seven|eight|nine|ten|eleven|"
    r"twelve|thirteen|fourteen|fifteen|sixteen|seventeen|eighteen|nineteen"
)
_NUMBER = re.compile(
    rf"(?<![\w.,/–-])(?P<digits>\d+(?:[.,]\d+)*)(?P<glued>bn|mn|m|k|b)?(?![\w/])(?![.,]\d)"
    rf"|\b(?P<words>(?:(?:a|{_WORD_NUMBER})\s+dozen)|{_WORD_NUMBER})\b",
    re.I,
)
_AFTER = re.compile(
    r"(?:\s?(?P<scale>billion|million|thousand|trillion|bn|mln|mn|tỷ|tỉ|triệu|nghìn|ngàn)\b)?"
    r"(?:\s?(?P<cur>pounds sterling|us dollars|euros?|eur|usd|dollars?|gbp|pounds?|hryvnias?|"
    r"uah|sek|nok|dkk|chf|cad|pln|jpy|€|đô la|đô-la)(?!\w))?"
    r"(?P<percent>\s?(?:%|percent\b|per cent\b|phần trăm\b))?",
    re.I,
)
_RANGE_OR_COMPOUND = re.compile(r"\s?[-–—/]\s?\w")  # "2023–2027", "10-year", "10/7"
_WORD = re.compile(r" ([^\W\d_][\w'’-]*)")


# --- numbers ------------------------------------------------------------------------------


def parse_number(token: str, language: str = "en") -> Decimal | None:
    """A number as written in `language`: English "672,000" and "6.5", Vietnamese "672.000"
    and "6,5" (dot thousands, comma decimals)."""
    thousands, decimal = (".", ",") if language == "vi" else (",", ".")
    if thousands in token:
        head, *groups = token.split(thousands)
        last = groups[-1].split(decimal)[0]
        if all(len(g) == 3 and g.isdigit() for g in groups[:-1]) and len(last) == 3:
            token = head + "".join(groups)
        elif len(groups) == 1 and decimal not in token:  # the other convention: "6.5" in vi
            token = token.replace(thousands, decimal)
        else:
            return None
    try:
        return Decimal(token.replace(decimal, "."))
    except InvalidOperation:
        return None


def _word_amount(words: str) -> Decimal:
    w = normalize(words).split()
    if w[-1] == "dozen":
        return Decimal(12 * (1 if w[0] == "a" else _word_amount(w[0])))
    tens, _, ones = w[0].partition("-")
    return Decimal(_NUMBER_WORDS[tens] + (_NUMBER_WORDS[ones] if ones else 0))


def singular(word: str) -> str:
    w = normalize(word)
    if w.endswith("ies") and len(w) > 4:
        return w[:-3] + "y"
    if w.endswith(("sses", "xes", "ches", "shes")):
        return w[:-2]
    if w.endswith("s") and not w.endswith(("ss", "us", "is")) and len(w) > 3:
        return w[:-1]
    return w


def canonical_unit(word: str) -> str:
    """The unit a noun counts, singular, with synonyms merged: "treaties" -> "agreement"."""
    w = normalize(word)
    return UNIT_SYNONYMS.get(w) or UNIT_SYNONYMS.get(singular(w)) or singular(w)


def quantities(sentence: str, language: str = "en") -> list[Quantity]:
    """The numbers in a sentence with what they count: the noun after the number (English:
    the last of the words that follow, "21 bilateral security agreements" -> agreement;
    Vietnamese: the first, "21 thỏa thuận an ninh" -> agreement), a currency before or after
    it (million/billion folded in), or a percent sign. Years in ranges, compounds ("10-year")
    and day/month dates ("10/7") are not quantities."""
    out = []
    for m in _NUMBER.finditer(sentence):
        if m.group("digits"):
            amount = parse_number(m.group("digits"), language)
            exponent = _SCALES.get((m.group("glued") or "").casefold(), 0)
        else:
            amount, exponent = _word_amount(m.group("words")), 0
        if amount is None or _RANGE_OR_COMPOUND.match(sentence, m.end()):
            continue
        before = _BEFORE.search(sentence[max(0, m.start() - 30) : m.start()])
        after = _AFTER.match(sentence, m.end())
        start = m.start() - (len(before.group(0)) if before else 0)
        end = after.end() if after else m.end()
        if after and after.group("scale"):
            exponent = _SCALES[after.group("scale").casefold()]
        currency = (before and before.group("cur")) or (after and after.group("cur"))
        if currency:
            unit = _CURRENCIES[normalize(currency)]
        elif after and after.group("percent"):
            unit = "percent"
        else:
            unit = _noun_after(sentence, end, language)
        if after and after.group("scale") and not currency and not unit:
            continue  # "3 million" of nothing named: a figure without a unit
        out.append(
            Quantity(
                value=sentence[start:end].strip(),
                amount=amount.scaleb(exponent),
                unit=unit,
                start=start,
                end=end,
            )
        )
    return out


def _noun_after(sentence: str, pos: int, language: str) -> str:
    """The head noun of the words right after a number, up to punctuation or a function
    word; participles after the noun ("agreements signed") are not part of it."""
    run: list[str] = []
    while len(run) < 4:
        m = _WORD.match(sentence, pos)
        if not m:
            break
        w = m.group(1)
        low = normalize(w)
        if low in STOPWORDS and low not in UNIT_SYNONYMS:
            break
        if language != "vi" and (not w.islower() or (run and low.endswith(("ed", "ing")))):
            break
        if language == "vi" and not run and low in _VI_CLASSIFIERS:
            pos = m.end()
            continue
        run.append(low)
        pos = m.end()
    if not run:
        return ""
    if language == "vi":  # head first: the noun is one or two syllables
        pair = " ".join(run[:2])
        if pair in UNIT_SYNONYMS or len(run) == 1:
            return canonical_unit(pair)
        return canonical_unit(run[0]) if run[0] in UNIT_SYNONYMS else pair
    return canonical_unit(run[-1])


# --- dates --------------------------------------------------------------------------------

_DATE = re.compile(
    rf"\b(?P<d1>\d{{1,2}})(?:st|nd|rd|th)?\s+(?:of\s+)?(?P<m1>{_MONTH_RE})(?:,?\s+(?P<y1>(?:19|20)\d\d))?\b"
    rf"|\b(?P<m2>{_MONTH_RE})\s+(?P<d2>\d{{1,2}})(?:st|nd|rd|th)?(?:,?\s+(?P<y2>(?:19|20)\d\d))?\b(?!\s*%)"
    rf"|\b(?P<m3>{_MONTH_RE})\s*,?\s+(?P<y3>(?:19|20)\d\d)\b"
    r"|\b(?P<y4>(?:19|20)\d\d)-(?P<m4>\d\d)-(?P<d4>\d\d)\b"
    r"|(?:\bngày\s+|\bhôm\s+)?(?<![\d/.])(?P<d5>\d{1,2})/(?P<m5>\d{1,2})(?:/(?P<y5>(?:19|20)\d\d))?(?![\d/])"
    r"|\btháng\s+(?P<m6>\d{1,2})(?:(?:/|\s+năm\s+)(?P<y6>(?:19|20)\d\d))?\b"
    rf"|\b(?P<m7>{_MONTH_RE})\b"
    r"|(?<![\d–-])\b(?P<y8>(?:19|20)\d\d)\b(?!\s*[–-]\s*\d)(?!\s*%)",
    re.I,
)


def dates(sentence: str, language: str = "en") -> list[DateMention]:
    """The dates in a sentence, with the parts it gives: "10 July 2024", "July 10",
    "July 2024", "2024-07-10", Vietnamese "10/7" and "tháng 7/2024" (day/month order; in
    other languages d/m is ambiguous and left out), a month or a year alone. Years that open
    or close a range ("2024–2026") are periods, not dates."""
    out = []
    for m in _DATE.finditer(sentence):
        g = m.groupdict()
        if g["d5"] and language != "vi":
            continue
        if g["m7"] and (g["m7"].casefold() == "may" or not g["m7"][:1].isupper()):
            continue  # "may" the verb; a month alone is written with a capital
        day = next((int(g[k]) for k in ("d1", "d2", "d4", "d5") if g[k]), None)
        year = next((int(g[k]) for k in ("y1", "y2", "y3", "y4", "y5", "y6", "y8") if g[k]), None)
        month = None
        for k in ("m1", "m2", "m3", "m7"):
            if g[k]:
                month = _month_number(g[k])
        for k in ("m4", "m5", "m6"):
            if g[k]:
                month = int(g[k])
        if month is not None and not 1 <= month <= 12 or day is not None and not 1 <= day <= 31:
            continue
        out.append(DateMention(m.group(0).strip(), year, month, day, m.start(), m.end()))
    return out


def _month_number(name: str) -> int:
    key = name.casefold().rstrip(".")[:3]
    return next(i for m, i in _MONTHS.items() if m.startswith(key))


# --- the question's thing ----------------------------------------------------------------

_MONEY_QUESTION = re.compile(
    r"\b(how much|cost|costs|pledg\w*|fund\w*|spen[dt]\w*|worth|budget\w*|aid|financ\w*|"
    r"allocat\w*|provid\w*|money|bao nhiêu tiền|cam kết|viện trợ|tài trợ|trị giá|chi)\b|"
    r"[€$£¥]|\b(eur|euros?|usd|dollars?|gbp|pounds?|uah|sek|nok|dkk|chf|cad|pln|jpy)\b",
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


def _analyse(question: str) -> _Question:
    names = {n for n in named_terms(question) if not any(ch.isdigit() for ch in n)}
    joined = set().union(*coordinated_names(question)) & names
    tokens = re.findall(r"[^\W\d_][\w'’-]*", question)
    low = [normalize(t) for t in tokens]
    units = {canonical_unit(w) for w in low if w not in STOPWORDS}
    units |= {canonical_unit(f"{a} {b}") for a, b in zip(low, low[1:], strict=False)}
    if _MONEY_QUESTION.search(question):
        units |= set(_CURRENCIES.values())
    if _PERCENT_QUESTION.search(question):
        units.add("percent")
    spelled = {stem(normalize(t)): t for t in tokens}
    return _Question(
        frozenset(names),
        frozenset(joined),
        frozenset(units),
        frozenset(content_terms(question) - names),
        expected_answer_kind(question),
        spelled,
    )


def _mentioned(names: Set[str], sentence_terms: Set[str]) -> frozenset[str]:
    """The names a sentence mentions, "Ukrainian" counting for "Ukraine"."""
    return frozenset(
        n for n in names if n in sentence_terms or any(
            len(n) >= 4 and t.startswith(n) for t in sentence_terms
        )
    )  # fmt: skip


def _other_names(sentence: str, names: Set[str]) -> bool:
    """Does the sentence name someone or something that the question does not?"""
    for i, m in enumerate(re.finditer(r"[^\W\d_][\w'’.-]*", sentence)):
        w = m.group(0).rstrip(".")
        low = normalize(w)
        if not w[:1].isupper() or low in STOPWORDS or low in _WEEKDAYS:
            continue
        if (i == 0 and low in _OPENERS) or low.upper() in _CURRENCIES.values():
            continue
        if any(low.startswith(key) for key in _MONTHS) and len(low) >= 3:
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
    question: str,
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
    q = _analyse(question)
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
            if mentioned != q.names or not (terms & q.terms or _units_in(s.text) & q.units):
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
        quoted = any(
            c.document == s.passage.doc_id and c.start < s.end and s.start < c.end
            for c in answer.citations
        )
        asked_units = {
            canonical_unit(normalize(w)) for w in re.findall(r"[^\W\d_][\w'’-]*", s.text)
        } & q.units
        for x in quantities(s.text, language):
            unit = x.unit if x.unit in q.units else None
            value = x.value
            if unit is None and quoted and x.unit in PARTY_UNITS and asked_units:
                # a quoted "agreements signed with 17 partner states" counts agreements
                # one per party: the answer gives it as the number asked for
                unit = min(asked_units)
                value = " ".join([x.value, *s.text[x.end :].split()[:2]]).rstrip(".,;:)")
            if unit:
                key = (unit, subject)
                groups.setdefault(key, []).append(
                    (_figure(answer, s, value, _normalized(x), documents), _interval(x, language))
                )
    out = []
    for (unit, subject), found in groups.items():
        quoted = any(f.n is not None for f, _ in found)  # the answer committed to a value
        if quoted and _documents_disagree(found):
            out.append(Disagreement(_subject(unit, subject, q), _distinct(found)))
    return tuple(out)


def _units_in(text: str) -> set[str]:
    low = [normalize(w) for w in re.findall(r"[^\W\d_][\w'’-]*", text)]
    pairs = {f"{a} {b}" for a, b in zip(low, low[1:], strict=False)}
    return {UNIT_SYNONYMS[w] for w in set(low) | pairs if w in UNIT_SYNONYMS}


def _normalized(x: Quantity) -> str:
    amount = format(x.amount.normalize(), "f")
    if x.unit in _CURRENCIES.values():
        return f"{x.unit} {amount}"
    return f"{amount}%" if x.unit == "percent" else amount


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


_AT_LEAST = re.compile(
    r"^(?:over|more than|at least|exceeding|upwards of|hơn|trên|ít nhất)\b", re.I
)
_AT_MOST = re.compile(r"^(?:fewer than|less than|at most|up to|tới|đến)\b", re.I)
_ABOUT = re.compile(
    r"^(?:approximately|approx\.|about|around|roughly|nearly|almost|some|khoảng|gần|chừng)"
    r"(?!\w)",
    re.I,
)


def _interval(x: Quantity, language: str = "en") -> tuple[Decimal, Decimal]:
    """The values a figure allows, from its qualifier: "more than 20" is (20, inf); "about"
    spans half a step of its last written digit ("about 20" is 15 to 25, "approximately
    EUR 6.5 billion" 6.45 to 6.55 billion); a bare 21 is (21, 21)."""
    value, n = x.value.strip(), x.amount
    if _AT_LEAST.search(value):
        return n, Decimal("Infinity")
    if _AT_MOST.search(value):
        return Decimal(0), n
    digits = re.search(r"\d+(?:[.,]\d+)*", value)
    written = parse_number(digits.group(0), language) if digits else None
    if _ABOUT.search(value) and written:
        place = Decimal(1).scaleb(written.normalize().as_tuple().exponent)
        half = place / 2 * (n / written)
        return n - half, n + half
    return n, n


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
    elif unit in _CURRENCIES.values():
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
        (c for c in answer.citations
         if c.document == doc_id and c.start < s.end and s.start < c.end),
        None,
    )  # fmt: skip
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
