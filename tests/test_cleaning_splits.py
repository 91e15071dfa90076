"""Words that PDF extraction broke with a space ("Assuranc e", "th e", "a n ongoing") are
joined from the document's own word counts; real words side by side, clean text and other
languages stay as they are, and every character still maps back to its raw offset."""

import re
from pathlib import Path

from qa.ingest.cleaning import clean

# Prose with the phrases that must never be fused: "in a", "signed a", "log in to", "any
# one" (beside "anyone"), "take down" (beside "takedown"), "may be" (beside "maybe").
PARAGRAPHS = [
    "The Computer Maintenance Competition Act creates an exemption for making a "
    "copy of a computer program in a machine that is activated for maintenance or repair. "
    "The legislation was signed a week after the vote, and the agency must log in to its "
    "register before any one of the providers is named. Anyone may ask for a takedown, and "
    "the provider must take down the material at once. Maybe the rules will change.",
    "Title IV contains six miscellaneous provisions relating to the functions of the "
    "Copyright Office, distance education, the exceptions in the Copyright Act for libraries "
    "and for making ephemeral recordings, and the applicability of collective bargaining "
    "agreement obligations in the case of transfers of rights in motion pictures.",
    "This memorandum summarizes briefly each title of the law. It provides merely an "
    "overview of the provisions; for purposes of length and readability a significant "
    "amount of detail has been omitted. A complete understanding of any provision requires "
    "reference to the text of the legislation itself, which may be read in a library.",
    "Section 104 of the Copyright Act establishes the conditions of eligibility for "
    "protection under the law for works from other countries. Both treaties require "
    "parties to protect preexisting works from other member countries that have not fallen "
    "into the public domain in the country of origin through the expiry of the term.",
]


def _wrap(paragraph: str, width: int = 72) -> list[list[str]]:
    lines, line = [], []
    for word in paragraph.split():
        if line and len(" ".join([*line, word])) > width:
            lines.append(line)
            line = []
        line.append(word)
    return [*lines, line]


def _split_last_letter(word: str) -> str:
    """ "Assurance" -> "Assuranc e", "of" -> "o f", keeping any punctuation after it."""
    m = re.fullmatch(r"([^\W\d_]+?)([^\W\d_])(\W*)", word)
    return f"{m.group(1)} {m.group(2)}{m.group(3)}" if m else word


def _pdf(split: bool) -> str:
    """Justified text as pypdf extracts it: the last word of each line with its last letter
    set apart, a page per paragraph, set at three widths so that a word ends a line on one
    page and sits inside a line on another; "Assurance" is only ever seen split. (A word
    only ever seen split, whose last letter is never set apart elsewhere, gives no evidence:
    the last page gives "term" and "library" a place inside a line.)"""
    pages = []
    for width in (72, 61, 83):
        for paragraph in PARAGRAPHS:
            lines = []
            for line in _wrap(paragraph, width):
                words = line[:-1] + [_split_last_letter(line[-1]) if split else line[-1]]
                lines.append(" ".join(words))
            pages.append("\n".join(lines))
    word = "Assuranc e" if split else "Assurance"
    pages.append(f"It amends the Competition {word}\nAct for the term of a library loan.")
    return "\f".join(pages)


def test_words_split_at_line_ends_of_justified_pdf_text_are_joined():
    split, whole = _pdf(split=True), _pdf(split=False)
    assert "Assuranc e" in split and "th e" in split and "o f" in split
    assert clean(split).text == clean(whole).text
    text = clean(split).text
    for phrase in ("in a machine", "signed a week", "log in to", "any one of", "take down"):
        assert phrase in text
    assert "Maybe" in text and "may be read" in text


def test_a_letter_set_apart_inside_a_line_joins_the_word_it_belongs_to():
    raw = _pdf(split=True).replace("creates an exemption", "creates a n exemption")
    raw = raw.replace("functions of the", "functions o f the")
    text = clean(raw).text
    assert "creates an exemption" in text and "functions of the" in text


def test_joined_words_map_back_to_their_raw_letters_exactly():
    raw = _pdf(split=True)
    c = clean(raw)
    assert len(c.offsets) == len(c.text)
    for i, ch in enumerate(c.text):
        if ch.isalnum():
            assert raw[c.offsets[i]] == ch
    start = c.text.index("Assurance")
    offs = c.offsets[start : start + len("Assurance")]
    assert raw[offs[0] : offs[-1] + 1] == "Assuranc e"  # the word spans the raw split


def test_clean_english_keeps_every_space_between_words():
    raw = "\f".join(PARAGRAPHS) + "\fLog in to the site, sign in a minute, and look up a term."
    assert clean(raw).text.split() == raw.split()


def test_vietnamese_syllables_are_never_joined():
    vietnamese = (
        "Ukraine và Luxembourg đã ký thỏa thuận an ninh song phương. Thỏa thuận an ninh "
        "này có hiệu lực trong mười năm. Theo thỏa thuận, Luxembourg sẽ hỗ trợ Ukraine về "
        "an ninh mạng, đào tạo và tái thiết. Các bên cam kết tham vấn trong vòng hai mươi "
        "bốn giờ nếu xảy ra tấn công vũ trang mới. Ông nói rằng đây là một bước quan trọng."
    )
    raw = "\f".join([vietnamese] * 3)
    text = clean(raw).text
    assert "thỏa thuận an ninh" in text
    assert text.split() == raw.split()


def test_the_dmca_summary_reads_as_printed():
    from qa.ingest.pipeline import read_document

    name = "eval/collections/legal/docs/dmca-copyright-office-summary-1998.pdf"
    text = read_document(Path(__file__).resolve().parent.parent / name, name).text
    for phrase in (
        "the “ Computer Maintenance Competition Assurance Act,”",
        "relating to the functions of the Copyright Office",
        "establishes an ongoing administrative rule-making proceeding",
        "the Department of Commerce",
        "identical language obligating member states",
        "It provides merely an overview",
        "the provider must expeditiously take down or block access",
    ):
        assert phrase in text


def test_a_table_of_figures_on_one_line_is_cleaned_without_hanging():
    """A census table flattened into one line (a .txt saved from a web page): the check for
    "a footnote mark up to the end of the line" once backtracked exponentially over a run
    of figures that no line break ends, and indexing such a file never finished."""
    from conftest import run_in_time

    row = " ".join(f"{1790 + 10 * i} {3_929_827 + 1_377_000 * i:,}" for i in range(40))
    text = f"The census gives the population by decade: {row} and so it grew. " * 3
    code = (
        "import sys; from qa.ingest.cleaning import clean; print(len(clean(sys.stdin.read()).text))"
    )
    out = run_in_time(code, text, seconds=60)
    assert int(out) == len(text.strip())
