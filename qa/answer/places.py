"""Place names across languages: what the countries and regions a question names are called
in the collection's other languages (CLDR's territory names, through Babel).

A multilingual embedding model of this size aligns such names poorly (it puts "Thụy Điển"
far from Sweden) and BM25 cannot match them at all, yet in a collection about agreements
between states they are what questions turn on. So a Vietnamese question about "Pháp" is
also searched for France and French, and an English one about Norway for "Na Uy". Only
names are carried over, never other words: nothing is translated or claimed to be.

English adjectives come from a country's own official languages ("French" for France, not
for Belgium or Canada, whose languages are first another country's). A one-word name must
be written with its capital ("Pháp", not the "pháp" of "biện pháp"); longer names are
matched in any case ("châu Âu").
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache

# CLDR codes that are not places: unknown region, pseudo-locales
_NOT_PLACES = {"ZZ", "XA", "XB"}


@dataclass(frozen=True)
class NamedPlace:
    written: str  # as the question writes it
    elsewhere: tuple[str, ...]  # its names in the collection's other languages


def _nfc(text: str) -> str:
    return unicodedata.normalize("NFC", text)


@lru_cache(maxsize=16)
def place_forms(language: str) -> dict[str, tuple[str, ...]]:
    """Territory code -> its names in a language: the CLDR name, and the one-word names of
    the official languages that belong first to that territory (en: France -> French).
    Empty for a language CLDR does not know."""
    from babel import Locale, UnknownLocaleError
    from babel.core import get_global
    from babel.languages import get_official_languages

    if language == "und":  # Babel would take the root locale's names
        return {}
    try:
        locale = Locale.parse(language)
    except (UnknownLocaleError, ValueError):
        return {}
    likely = get_global("likely_subtags")
    forms: dict[str, tuple[str, ...]] = {}
    for code, name in locale.territories.items():
        if code in _NOT_PLACES:
            continue
        names = [_nfc(name)]
        if code.isalpha():
            for lang in get_official_languages(code):
                own = str(likely.get(lang, "")).rsplit("_", 1)[-1] == code
                adjective = locale.languages.get(lang)
                if own and adjective and " " not in adjective:
                    names.append(_nfc(adjective))
        forms[code] = tuple(dict.fromkeys(names))
    return forms


@lru_cache(maxsize=64)
def language_name(code: str, in_language: str) -> str:
    """A language's name in another language (vi in en: "Vietnamese"); "" when unknown."""
    from babel import Locale, UnknownLocaleError

    if "und" in (code, in_language):
        return ""
    try:
        return Locale.parse(in_language).languages.get(code, "")
    except (UnknownLocaleError, ValueError):
        return ""


@lru_cache(maxsize=16)
def _matchers(language: str) -> tuple[re.Pattern, re.Pattern, dict[str, str]] | None:
    """Patterns for one-word names (case kept) and longer ones (any case), and which
    territory each written form (case-folded) names."""
    forms = place_forms(language)
    if not forms:
        return None
    code_of: dict[str, str] = {}
    single, multi = set(), set()
    for code, names in forms.items():
        for name in names:
            code_of.setdefault(name.casefold(), code)
            (multi if " " in name else single).add(name)

    def pattern(names: set[str], flags: int) -> re.Pattern:
        alternatives = "|".join(re.escape(n) for n in sorted(names, key=len, reverse=True))
        return re.compile(rf"(?<!\w)(?:{alternatives})(?!\w)", flags)

    return pattern(single, 0), pattern(multi, re.IGNORECASE), code_of


def places_in(question: str, question_language: str, languages: Iterable[str]) -> list[NamedPlace]:
    """The places the question names that are called otherwise in one of `languages` (the
    collection's), with those other names; in the order the question names them."""
    others = [lang for lang in dict.fromkeys(languages) if lang != question_language]
    matchers = _matchers(question_language) if others else None
    if not matchers:
        return []
    single, multi, code_of = matchers
    text = _nfc(question)
    found: list[tuple[int, str, str]] = []
    taken: list[tuple[int, int]] = []
    for m in [*multi.finditer(text), *single.finditer(text)]:  # longer names first
        if any(a < m.end() and m.start() < b for a, b in taken):
            continue
        taken.append(m.span())
        found.append((m.start(), m.group(0), code_of[m.group(0).casefold()]))
    out = []
    for _, written, code in sorted(found):
        own = {n.casefold() for n in place_forms(question_language).get(code, ())}
        elsewhere = [
            name
            for lang in others
            for name in place_forms(lang).get(code, ())
            if name.casefold() not in own
        ]
        if elsewhere:
            out.append(NamedPlace(written, tuple(dict.fromkeys(elsewhere))))
    return out
