"""Cleaning fixes extraction artifacts and keeps a map back to the raw text and its pages."""

import re
import unicodedata
from itertools import pairwise
from pathlib import Path

from qa.documents import NO_PAGE, Document, Metadata
from qa.ingest.chunking import chunk_document
from qa.ingest.cleaning import clean
from qa.ingest.loaders import load
from qa.ingest.sentences import split_sentences
from qa.references import pages

TITLE = "Making the Glass Half Full"


def test_every_clean_character_maps_back_to_the_raw_character_it_came_from():
    raw = "Alpha beta.\n\nGamma   delta\u2003epsilon.\fZeta eta."
    c = clean(raw)
    assert len(c.offsets) == len(c.text)
    for i, ch in enumerate(c.text):
        if ch.isalnum():
            assert raw[c.offsets[i]] == ch


def test_line_end_hyphenation_is_joined_only_when_the_whole_word_occurs_elsewhere():
    raw = (
        "The implementation matters. Its im-\nplementation is slow and co-\nchaired by two "
        "people who are half-\nhearted."
    )
    text = clean(raw).text
    assert "Its implementation is slow" in text
    assert "co-chaired" in text
    assert "half-hearted" in text


def test_a_last_letter_set_apart_by_pdf_extraction_is_joined_but_real_words_stay():
    raw = (
        "The technical annex is short. Th e technica l annex was\nsigned a year ago by "
        "thei r\nministers, and their deputies signed a\nnew one; under the rule s[0] is "
        "true.\nThe rules are new."
    )
    c = clean(raw)
    assert "The technical annex was signed a year ago by their ministers" in c.text
    assert "signed a new one" in c.text and "rule s[0]" in c.text
    for i, ch in enumerate(c.text):
        if ch.isalnum():
            assert raw[c.offsets[i]] == ch  # joined letters still map to their source


def test_hard_wrapped_lines_are_unwrapped_but_list_items_stay_on_their_own_lines():
    raw = "The agreements promise\ncontinued help and\ntraining.\n\n• first item,\n• second item."
    text = clean(raw).text
    assert "The agreements promise continued help and training." in text
    assert "\n• second item." in text


def test_the_rows_of_a_pipe_table_stay_on_their_own_lines():
    raw = "By country:\n\n| Country | Count |\n| --- | --- |\n| France | 12 |\n\nA line\nwrapped."
    text = clean(raw).text
    assert text == raw.replace("line\n", "line ")
    assert [text[a:b] for a, b in split_sentences(text)][3] == "| France | 12 |"


def test_running_header_glued_to_page_number_is_removed_and_names_the_page():
    raw = (
        "First page text that ends here.\f"
        "Second page text.\f"
        f"8{TITLE}  \n\nthe policy continues on this page."
    )
    c = clean(raw, title=TITLE)
    assert TITLE not in c.text
    assert c.page_labels[-1] == 8
    # the pages before are numbered back from the printed number
    assert c.page_labels[0] == 6


def test_repeated_headers_and_page_number_footers_are_removed():
    pages = [f"Security Review 2024\nBody of page {n} says something.\n{n}" for n in range(1, 5)]
    c = clean("\f".join(pages))
    assert "Security Review" not in c.text
    assert c.text.count("Body of page") == 4
    assert c.page_labels == (1, 2, 3, 4)


def test_bare_url_lines_that_repeat_a_link_are_dropped_but_urls_in_text_are_kept():
    raw = (
        "A claim.1\n\n1 Source, https://example.org/a/b.\n\n"
        "https://example.org/a/b\nhttps://example.org/a/b\n\nNext paragraph."
    )
    text = clean(raw).text
    assert text.count("https://example.org/a/b") == 1


def test_a_sentence_interrupted_by_footnotes_and_a_page_break_is_rejoined():
    raw = (
        "Sweden pledged EUR 6.5 billion. Norway is providing\n\n"
        "3\u2003  “The Kyiv Security Compact,” Official website, 2022\n"
        "https://www.president.gov.ua/x.pdf\n\n"
        "https://www.president.gov.ua/x.pdf\n"
        "\f approximately EUR 6.4 billion for 2023–2027."
    )
    c = clean(raw)
    assert "Norway is providing approximately EUR 6.4 billion for 2023–2027." in c.text
    # the footnote is kept, after the body, and still belongs to page 1
    note = c.text.index("The Kyiv Security Compact")
    assert note > c.text.index("2023–2027")
    doc = _doc(c)
    assert doc.page_at(note) == 1
    assert doc.page_at(c.text.index("approximately")) == 2


def test_control_characters_and_compatibility_forms_are_normalised():
    raw = "Of\ufb01cial\x00 text\x07 with\u00a0spaces and ＡＢＣ."
    assert clean(raw).text == "Official text with spaces and ABC."


def test_sentences_split_in_english_and_vietnamese_without_breaking_abbreviations():
    text = "Mr. Smith met U.S. officials. Then he left! Ukraine đã ký thỏa thuận. Đây là bước đầu."
    got = [text[a:b] for a, b in split_sentences(text)]
    assert got == [
        "Mr. Smith met U.S. officials.",
        "Then he left!",
        "Ukraine đã ký thỏa thuận.",
        "Đây là bước đầu.",
    ]


def _doc(c) -> Document:
    return Document("d", "d", "0", Metadata("d"), c.text, c.page_starts, c.page_labels)


def test_chunks_are_exact_slices_within_the_budget_and_overlap_by_one_sentence():
    sentences = [
        f"Sentence number {i} talks about topic {i % 7} at some length here." for i in range(60)
    ]
    c = clean(" ".join(sentences))
    doc = _doc(c)
    passages = chunk_document(doc, max_tokens=60, overlap=1)
    assert len(passages) > 5
    for p in passages:
        assert doc.text[p.start : p.end] == p.text
        assert len(p.text.split()) * 1.3 <= 60 + 1
    for a, b in pairwise(passages):
        assert b.start < a.end  # one sentence of overlap
    covered = set()
    for p in passages:
        covered.update(range(p.start, p.end))
    assert all(i in covered for i, ch in enumerate(doc.text) if not ch.isspace())


def test_a_sentence_longer_than_the_budget_is_cut_at_word_boundaries():
    text = " ".join(f"word{i}" for i in range(500))
    doc = _doc(clean(text))
    passages = chunk_document(doc, max_tokens=50, overlap=0)
    assert len(passages) > 5
    assert " ".join(p.text for p in passages) == text


def test_a_pdf_heading_stays_apart_from_the_paragraph_it_opens():
    body = "The aim of this module is to make dealing with binary data in Python as easy as\n"
    raw = f"CHAPTER\nONE\n1.1 A Brief Introduction\n{body}possible. It is short."
    text = clean(raw).text
    assert "1.1 A Brief Introduction\nThe aim of this module" in text
    assert "as easy as possible. It is short." in text


def test_a_separator_line_is_a_break_not_part_of_the_heading_before_it():
    raw = "Exhibit A - Source Code Form Notice\n----------\nThis form is subject to the terms."
    text = clean(raw).text
    assert "-----" not in text
    assert "Exhibit A - Source Code Form Notice\n\nThis form is subject to the terms." in text


def test_a_footer_with_the_page_number_in_brackets_is_removed_and_the_sentence_rejoined():
    words = ["alpha", "beta", "gamma"]
    pages = [
        f"RFC 1951 Deflate May 1996\n\nPage {w} opens here.\nThe {w} bytes are grouped in blocks,"
        f"\neach of {w}\n\nDeutsch Informational [Page {n}]"
        for n, w in enumerate(words, start=1)
    ]
    pages = [p.replace("Page ", "page ", 1) if i else p for i, p in enumerate(pages)]
    text = clean("\f".join(pages)).text
    assert "Informational" not in text and "RFC 1951" not in text
    assert "each of alpha page beta opens here." in text  # the sentence runs over the break


def test_a_source_without_pages_keeps_its_numbered_title_and_names_no_page():
    raw = (
        "21 Security Agreements: Ukraine's Bridge to NATO?\n\n"
        "Since January, Ukraine has concluded 21 security agreements.\n\n"
        "21 Security Agreements: Ukraine's Bridge to NATO?"
    )
    c = clean(raw, title="21 Security Agreements: Ukraine's Bridge to NATO?")
    assert c.text.startswith("21 Security Agreements")
    assert c.page_labels == (NO_PAGE,)
    assert pages(NO_PAGE, NO_PAGE) == ""


def test_glued_footnote_marks_are_raised_and_still_match_their_source():
    raw = (
        "They signed the declaration2 in Vilnius, the Compact3 followed. It was aware of.4 "
        "The agreements are valid for10 years, and for all of them.\n\n"
        "2  The declaration.\n\n3  The compact.\n\n4  A note."
    )
    c = clean(raw)
    assert "the declaration² in Vilnius, the Compact³ followed. It was aware of.⁴" in c.text
    assert "valid for 10 years" in c.text  # out of sequence: a lost space, not a mark
    assert unicodedata.normalize("NFKC", "declaration²") == "declaration2"
    for i, ch in enumerate(c.text):  # every raised digit points at the digit it raises
        if ch in "²³⁴":
            assert raw[c.offsets[i]] == unicodedata.normalize("NFKC", ch)
    sentences = [c.text[a:b] for a, b in split_sentences(c.text)]
    assert "It was aware of.⁴" in sentences


def test_numbered_names_and_identifiers_keep_their_digits():
    raw = "An AS90 gun, items item1 and item2, and G7 leaders.\n\n1 A note."
    assert clean(raw).text.startswith("An AS90 gun, items item1 and item2, and G7 leaders.")


def test_the_shipped_web_article_has_no_page_and_the_report_one_label_per_page():
    from qa.ingest.pipeline import read_document

    root = Path(__file__).resolve().parent.parent
    dw = "corpus/dw-21-security-agreements-bridge-to-nato.txt"
    article = read_document(root / dw, dw)
    assert article.page_labels == (NO_PAGE,)
    assert article.text.startswith("21 Security Agreements: Ukraine's Bridge to NATO?")
    name = "corpus/making-the-glass-half-full-bilateral-security-agreements.txt"
    report = read_document(root / name, name)
    body = report.page_labels[: report.page_labels.index(max(report.page_labels)) + 1]
    assert list(body) == sorted(set(body)) and len(body) == 7  # one printed label per page


def test_a_long_run_of_dots_is_split_into_sentences_without_hanging():
    """A dot leader glued to its page number ("Contents.......5") is read for sentence ends
    in time linear in its length: the end of a sentence was once tried from every dot of
    the run, and a long one took minutes."""
    from conftest import run_in_time

    code = (
        "from qa.ingest.sentences import split_sentences\n"
        "text = 'Contents' + '.' * 100_000 + '5 Then it ends. Here.'\n"
        "print(len(split_sentences(text)))"
    )
    out = run_in_time(code)
    assert int(out) == 2


def test_lines_with_a_long_run_of_spaces_are_cleaned_without_hanging():
    """A header set out with a long run of spaces ("3 Annual report      2024") or a lone
    footnote number followed by spaces is read in time linear in the line's length: the
    checks for a numbered running line and for a footnote once tried every split of the
    run between two side-by-side repeats, and a long one took minutes."""
    from conftest import run_in_time

    code = (
        "from qa.ingest.cleaning import clean, PAGE_BREAK\n"
        "gap = ' ' * 100_000\n"
        "pages = [f'{p} Annual report{gap}2024\\nBody text of page {p}.' for p in (1, 2, 3)]\n"
        "c = clean(PAGE_BREAK.join(pages))\n"
        "print(repr(c.text), list(c.page_labels))\n"
        "print(repr(clean('Intro text here.\\n\\n1' + gap + '\\n\\nMore text.').text))"
    )
    out = run_in_time(code)
    assert out.splitlines() == [
        "'Body text of page 1.\\n\\nBody text of page 2.\\n\\nBody text of page 3.' [1, 2, 3]",
        "'Intro text here.\\n\\n1\\n\\nMore text.'",
    ]


# A review draft numbers its lines in the margin; PDF extraction glues each number to the
# line's last word or figure.
NUMBERED_DRAFT = [
    "Summary",
    "The package implements several surrogate models of",
    "binary black hole mergers, each fitted to simulations:",
    "- NRHybSur3dq8: a hybridized model for non-precessing mergers,",
    "valid for mass ratios up to 8.",
    "- NRSur7dq4: a model for precessing mergers, valid for mass",
    "ratios up to 4.",
    "We validated the implementation against the original code",
    "in 2019",
    "and found no differences.",
]


def test_a_pdf_with_line_numbers_in_its_margin_is_read_without_them(tmp_path):
    from fpdf import FPDF

    pdf = FPDF()
    pdf.set_font("helvetica", size=11)
    pdf.add_page()
    pdf.cell(0, 6, "Software", new_x="LMARGIN", new_y="NEXT")  # a sidebar line: no number
    for n, line in enumerate(NUMBERED_DRAFT, start=27):
        pdf.cell(170, 6, line)
        pdf.cell(10, 6, str(n), align="R", new_x="LMARGIN", new_y="NEXT")
    path = tmp_path / "draft.pdf"
    pdf.output(str(path))
    text = clean(load(path).text).text
    assert "non-precessing mergers, valid for mass ratios up to 8.\n" in text  # not "8.31"
    assert "valid for mass ratios up to 4.\n" in text
    assert "Summary\nThe package implements" in text  # not "Summary27"
    assert "in 2019 and found no differences." in text  # not "201935"
    assert not re.search(r"\b(?:2[7-9]|3[0-6])\b", text)


def test_line_numbers_glued_to_the_last_word_or_figure_of_a_line_are_dropped():
    raw = "\n".join(f"{line}{n}" for n, line in enumerate(NUMBERED_DRAFT, start=27))
    text = clean(raw).text
    assert "valid for mass ratios up to 8.\n" in text  # "8.31": 8, on line 31
    assert "Summary\nThe package implements" in text
    assert "in 2019 and found no differences." in text  # "201935": 2019, on line 35


def test_line_numbers_at_the_start_of_lines_are_dropped():
    lines = [
        "UNITED STATES DISTRICT COURT",
        "The plaintiff alleges that the",
        "contract of 12 May",
        "was",
        "breached twice.",
        "Relief is sought.",
    ]
    text = clean("\n".join(f"{n} {line}" for n, line in enumerate(lines, start=1))).text
    assert text.startswith("UNITED STATES DISTRICT COURT")
    assert "the contract of 12 May was breached twice." in text


def test_page_numbers_of_a_table_of_contents_are_not_line_numbers():
    # a manual's contents: some entries follow on by one page, most do not
    pages = [2, 3, 3, 3, 4, 4, 5, 5, 6, 7, 7, 8, 9, 10, 10, 11, 12, 12, 13, 14, 15, 15, 16]
    toc = [f"{n // 4 + 1}.{n % 4} Part {chr(65 + n)} . . . . . . {p}" for n, p in enumerate(pages)]
    text = clean("Contents\n" + "\n".join(toc)).text
    assert all(line in text for line in toc)


def test_a_list_of_one_line_clauses_keeps_its_numbers():
    clauses = ["Short title", "Commencement", "Definitions", "Application", "Repeal"]
    body = "\n".join(f"{n} {c}" for n, c in enumerate(clauses, start=1))
    text = clean(f"THE HARBOUR ACT\nArrangement of sections\n{body}\nSchedule\n").text
    assert "3 Definitions" in text and "5 Repeal" in text
