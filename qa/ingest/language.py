"""Language of a text by its script: Vietnamese is recognised by its letters with stacked
diacritics (ă â đ ê ô ơ ư and tone marks), which no other Latin-script language combines.

A rule, not a model: it needs no weights and measured as exact on this corpus's documents
and questions (tests/test_language.py); it only tells Vietnamese from English-like Latin
text and names other scripts by script.
"""

from __future__ import annotations

import unicodedata

_VI_LETTERS = set("ăâđêôơưĂÂĐÊÔƠƯ")
_VI_TONED_BASES = set("aăâeêioôơuưy")
_SCRIPTS = {
    "CYRILLIC": "uk",
    "ARABIC": "ar",
    "CJK": "zh",
    "HIRAGANA": "ja",
    "HANGUL": "ko",
    "GREEK": "el",
    "HEBREW": "he",
    "THAI": "th",
    "DEVANAGARI": "hi",
}

NAMES = {"en": "English", "vi": "Vietnamese", "uk": "Cyrillic script", "und": "unknown"}


def _is_vietnamese_letter(ch: str) -> bool:
    if ch in _VI_LETTERS:
        return True
    decomposed = unicodedata.normalize("NFD", ch)
    # a vowel with a tone mark (acute, grave, hook, tilde, dot below) and maybe a hat/horn
    return (
        len(decomposed) >= 2
        and decomposed[0].lower() in _VI_TONED_BASES
        and any(m in decomposed[1:] for m in "\u0300\u0301\u0303\u0309\u0323")
        and ch.lower() not in "áéíóúàèìòùãõ"  # common in French, Spanish, Portuguese
        or ch.lower() in "ạảấầẩẫậắằẳẵặẹẻẽếềểễệỉịọỏốồổỗộớờởỡợụủứừửữựỳỵỷỹ"
    )


def detect_language(text: str) -> str:
    """ISO 639-1 code ("en", "vi", ...), or "und" when there are too few letters to tell or
    the script is none of those known here."""
    letters = [ch for ch in text if ch.isalpha()]
    if len(letters) < 2:
        return "und"
    vi = sum(_is_vietnamese_letter(ch) for ch in letters)
    if vi >= max(1, 0.03 * len(letters)):
        return "vi"
    scripts: dict[str, int] = {}
    for ch in letters:
        if ch.isascii():
            continue
        name = unicodedata.name(ch, "")
        for script, code in _SCRIPTS.items():
            if name.startswith(script) or f" {script} " in name:
                scripts[code] = scripts.get(code, 0) + 1
    if scripts:
        code, count = max(scripts.items(), key=lambda kv: kv[1])
        if count > 0.5 * len(letters):
            return code
    latin = sum(1 for ch in letters if ch.isascii() or "LATIN" in unicodedata.name(ch, ""))
    return "en" if latin >= 0.5 * len(letters) else "und"


def language_name(code: str | None) -> str:
    return NAMES.get(code or "und", code or "unknown")
