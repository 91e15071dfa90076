"""Figures and dates as sentences write them: numbers (digits and words, English and
Vietnamese conventions), amounts with currencies and scales, qualifiers ("more than",
"about") and the range of values they allow, and dates with their known parts.

One home for these vocabularies: the scorer (does a sentence give the kind of answer asked
for?), the sources-disagree finder (qa/answer/disagreement.py) and the check of generated
sentences (qa/answer/verify.py) read them here.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

from qa.text import STOPWORDS, normalize


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
    "deal": "agreement",
    "treaty": "agreement",
    "pact": "agreement",
    "accord": "agreement",
    "thỏa thuận": "agreement",
    "thoả thuận": "agreement",
    "hiệp ước": "agreement",
    "hiệp định": "agreement",
    "state": "country",
    "nation": "country",
    "quốc gia": "country",
    "nước": "country",
    "person": "people",
    "người": "people",
}
_VI_CLASSIFIERS = {"bản", "cái", "chiếc", "văn", "con"}

_SCALES = {
    "thousand": 3,
    "k": 3,
    "nghìn": 3,
    "ngàn": 3,
    "million": 6,
    "mln": 6,
    "mn": 6,
    "m": 6,
    "triệu": 6,
    "billion": 9,
    "bn": 9,
    "b": 9,
    "tỷ": 9,
    "tỉ": 9,
    "trillion": 12,
}
CURRENCIES = {
    "eur": "EUR",
    "€": "EUR",
    "euro": "EUR",
    "euros": "EUR",
    "usd": "USD",
    "$": "USD",
    "us$": "USD",
    "dollar": "USD",
    "dollars": "USD",
    "us dollars": "USD",
    "đô la": "USD",
    "đô-la": "USD",
    "gbp": "GBP",
    "£": "GBP",
    "pound": "GBP",
    "pounds": "GBP",
    "pounds sterling": "GBP",
    "uah": "UAH",
    "hryvnia": "UAH",
    "hryvnias": "UAH",
    "sek": "SEK",
    "nok": "NOK",
    "dkk": "DKK",
    "chf": "CHF",
    "cad": "CAD",
    "pln": "PLN",
    "jpy": "JPY",
    "¥": "JPY",
}
NUMBER_WORDS = {
    w: i
    for i, w in enumerate(
        "one two three four five six seven eight nine ten eleven twelve thirteen fourteen "
        "fifteen sixteen seventeen eighteen nineteen".split(),
        start=1,
    )
} | {
    w: 10 * i
    for i, w in enumerate("twenty thirty forty fifty sixty seventy eighty ninety".split(), start=2)
}
# Figures as a model may spell them out ("2" as "two"), for checking written sentences.
DIGIT_WORDS = {str(v): w for w, v in NUMBER_WORDS.items() if v <= 12 or v == 20} | {
    "100": "hundred"
}
MONTHS = {
    m: i
    for i, m in enumerate(
        "january february march april may june july august september october november "
        "december".split(),
        start=1,
    )
}
# A month's name, as written with its capital; the date patterns below read it in any case.
_MONTH_NAME = (
    r"(?:Jan(?:uary)?|Feb(?:ruary)?|Mar(?:ch)?|Apr(?:il)?|May|June?|July?|Aug(?:ust)?|"
    r"Sep(?:t(?:ember)?)?|Oct(?:ober)?|Nov(?:ember)?|Dec(?:ember)?)"
)
_MONTH_RE = rf"{_MONTH_NAME}\.?"  # compiled with re.I
# Words that qualify a figure, by what they allow (see `interval`); regular expressions.
AT_LEAST_WORDS = (
    "over",
    "more than",
    "at least",
    "exceeding",
    "upwards of",
    "hơn",
    "trên",
    "ít nhất",
)
AT_MOST_WORDS = ("fewer than", "less than", "at most", "up to", "tới", "đến")
ABOUT_WORDS = (
    "approximately",
    r"approx\.",
    "about",
    "around",
    "roughly",
    "nearly",
    "almost",
    "some",
    "khoảng",
    "gần",
    "chừng",
)
_QUALIFIER = f"(?:{'|'.join(ABOUT_WORDS + AT_LEAST_WORDS + AT_MOST_WORDS)})"
CURRENCY_CODES = tuple(dict.fromkeys(CURRENCIES.values()))  # EUR, USD, GBP, ...
_CURRENCY_BEFORE = rf"US\$|\$|€|£|¥|\b(?:{'|'.join(CURRENCY_CODES)})"
_BEFORE = re.compile(rf"(?:(?P<qual>{_QUALIFIER})\s+)?(?:(?P<cur>{_CURRENCY_BEFORE})\s?)?$", re.I)
_TENS = "|".join(w for w, v in NUMBER_WORDS.items() if v >= 20)
_ONES = "|".join(w for w, v in NUMBER_WORDS.items() if v < 10)
_WORD_NUMBER = rf"(?:{_TENS})(?:-(?:{_ONES}))?|" + "|".join(
    w for w, v in NUMBER_WORDS.items() if v < 20
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
    return Decimal(NUMBER_WORDS[tens] + (NUMBER_WORDS[ones] if ones else 0))


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
    for m in _NUMBER.finditer(without_urls(sentence)):
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
            unit = CURRENCIES[normalize(currency)]
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
                month = month_number(g[k])
        for k in ("m4", "m5", "m6"):
            if g[k]:
                month = int(g[k])
        if month is not None and not 1 <= month <= 12 or day is not None and not 1 <= day <= 31:
            continue
        out.append(DateMention(m.group(0).strip(), year, month, day, m.start(), m.end()))
    return out


def month_number(name: str) -> int:
    key = name.casefold().rstrip(".")[:3]
    return next(i for m, i in MONTHS.items() if m.startswith(key))


# --- qualified values ---------------------------------------------------------------------

_AT_LEAST = re.compile(rf"^(?:{'|'.join(AT_LEAST_WORDS)})\b", re.I)
_AT_MOST = re.compile(rf"^(?:{'|'.join(AT_MOST_WORDS)})\b", re.I)
_ABOUT = re.compile(rf"^(?:{'|'.join(ABOUT_WORDS)})(?!\w)", re.I)


def interval(x: Quantity, language: str = "en") -> tuple[Decimal, Decimal]:
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


def units_in(text: str) -> set[str]:
    """The countable things a text names, canonical ("treaties" -> "agreement")."""
    low = [normalize(w) for w in re.findall(r"[^\W\d_][\w'’-]*", text)]
    pairs = {f"{a} {b}" for a, b in zip(low, low[1:], strict=False)}
    return {UNIT_SYNONYMS[w] for w in set(low) | pairs if w in UNIT_SYNONYMS}


def normalized(x: Quantity) -> str:
    """What a quantity is compared as: "20", "EUR 6500000000", "12.5%"."""
    amount = format(x.amount.normalize(), "f")
    if x.unit in CURRENCY_CODES:
        return f"{x.unit} {amount}"
    return f"{amount}%" if x.unit == "percent" else amount


# --- figures as the question and the answer kind see them ----------------------------------

# A month is a name, written with its capital: "may begin", "declaration", "market" and
# "octet" are not months.
_DATE_WORDS = re.compile(rf"\b{_MONTH_NAME}\b|(?i:tháng)|\d{{1,2}}/\d{{1,2}}|\b(19|20)\d\d\b")


_YEARS_AND_DAYS = re.compile(
    r"\b(19|20)\d\d\b(?!\s*(%|percent|per cent))|\b\d{1,2}(st|nd|rd|th)\b|"
    rf"\b\d{{1,2}}\s+(?-i:{_MONTH_NAME})\b|"
    rf"\b(?-i:{_MONTH_NAME})\.?\s+\d{{1,2}}\b|"
    r"\b\d{1,2}/\d{1,2}(/\d{2,4})?\b",
    re.I,
)


# From the first digit of a run that no letter precedes: the digits inside a name
# ("secp256k1", "Ed25519", "SHA256") are no figure of it, nor is any tail of them ("56").
_FIGURE = re.compile(r"(?<![^\W_])\d+(?:[.,]\d+)*")


# A web address is not prose: "https://example.org/2024/report-12.pdf" gives neither a year
# nor a count, nor does a Markdown link's target, "[the report](https://…/2024/…)".
_URL = re.compile(r"(?:\bhttps?://|\bwww\.)[^\s<>()\[\]]+|\]\([^()\s]*\)")


def without_urls(text: str) -> str:
    """`text` with its web addresses blanked out (offsets kept)."""
    return _URL.sub(lambda m: " " * len(m.group(0)), text)


def figures(text: str) -> set[str]:
    """The numbers written in a text ("6.5", "2024", "672,000"), as written; not those of
    a web address."""
    return {m.group(0).rstrip(".,") for m in _FIGURE.finditer(without_urls(text))}


# Numbers spelled out count as figures too ("we use four models"), but not "one", which
# is more often a pronoun ("one of the widgets") than a count, nor a number that makes a
# compound ("a two-year anniversary", like "10-year" in digits).
_SPELLED = re.compile(rf"\b(?:{_WORD_NUMBER})\b(?![-–]\w)", re.I)


def has_quantity(sentence: str, known: set[str] = frozenset(), counting: bool = False) -> bool:
    """A figure, in digits or spelled out, other than a year, a day of the month, or one
    of `known` (those the question itself gives); when `counting`, not a sum of money or a
    percentage either (they do not say how many)."""
    if counting:
        for q in quantities(sentence):
            if q.unit in CURRENCY_CODES or q.unit == "percent":
                sentence = sentence[: q.start] + " " * (q.end - q.start) + sentence[q.end :]
    if figures(_YEARS_AND_DAYS.sub(" ", sentence)) - set(known):
        return True
    spelled = {normalize(w) for w in _SPELLED.findall(sentence)} - {"one"}
    return bool(spelled - {normalize(k) for k in known})


# Units of time and length in English and Vietnamese: what "how long" is answered in, the
# length of a text or of data included ("a string of 16 characters", "512 octets"). The
# English units of time, whole words, may also follow with one word between: "10-14
# business days", "three calendar months", "five consecutive years".
_SPAN_WORDS = r"seconds?|minutes?|hours?|days?|weeks?|months?|years?|decades?|centur(?:y|ies)"
_SPAN_UNITS = (
    rf"{_SPAN_WORDS}|"
    r"ms|s|h|min|metres?|meters?|kilometres?|kilometers?|km|miles?|feet|foot|inch(?:es)?|"
    r"cm|mm|characters?|bytes?|bits?|octets?|words?|lines?|pages?|[KMGT]i?B|"
    r"giây|phút|giờ|ngày|tuần|tháng|năm|thập kỷ|mét|ký tự"
)
# A figure is tried from its first digit only: tried from every digit, a long run of
# figures with no unit after it ("1.2.3...", a serial number) took quadratic time.
_SPAN = re.compile(
    rf"(?:(?<!\d)(?<!\d[.,])\d[\d.,]*|\b(?:{_WORD_NUMBER}))"
    rf"(?:[\s-]*(?:{_SPAN_UNITS})|\s+[a-z]+\s+(?:{_SPAN_WORDS}))\b",
    re.I,
)


def has_answer_kind(sentence: str, kind: str | None, known: set[str] = frozenset()) -> bool:
    sentence = without_urls(sentence)
    if kind == "duration":  # "how long": a figure with a unit of time or length
        given = {normalize(k) for k in known}
        return any(
            m.group(0).split()[0].split("-")[0].lower() not in given
            for m in _SPAN.finditer(sentence)
        )
    if kind in ("quantity", "count"):
        return has_quantity(sentence, known, counting=kind == "count")
    if kind == "date":
        return bool(_DATE_WORDS.search(sentence))
    return False


def canonical_figure(figure: str) -> str:
    """A figure as written, with English thousands separators removed: 672,000 == 672000."""
    return re.sub(r",(?=\d{3}(?!\d))", "", figure)
