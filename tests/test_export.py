"""Exports for briefings: every quote a footnote, numbered across the conversation."""

import re
from dataclasses import replace
from datetime import datetime, timezone

import docx
import pytest
from docx_footnotes import read_docx_footnotes

from qa.app.export import conversation_docx, conversation_markdown, export_name, md_escape
from qa.documents import Answer, Citation
from qa.references import pages

WHEN = datetime(2026, 1, 2, 3, 4, tzinfo=timezone.utc)
MARKUP = "Sweden pledged *EUR* 6.5 [billion] `x` <script>alert(1)</script> & _more_."


def _citation(n, quote, *, title="Report", page=3, page_end=3, language="en", url=None):
    return Citation(
        n,
        "corpus/r.txt",
        title,
        "Publisher",
        "2024-06",
        url,
        page,
        page_end,
        quote,
        0,
        len(quote),
        0.9,
        "corpus/r.txt#0-99",
        language,
    )


def _answer(question, *citations, language="en"):
    text = " ".join(f"{c.quote} [{c.n}]" for c in citations)
    return Answer(question, text, False, tuple(citations), language=language)


HAND_MADE = [
    _answer(
        "How much did Sweden pledge?",
        _citation(1, MARKUP, url="https://example.org/a_b"),
        _citation(2, "See note [2] here.", page=3, page_end=4),
    ),
    _answer(
        "When did Luxembourg sign?",
        _citation(1, "Thoả thuận được ký hôm 10/7.", title="GDTĐ", language="vi"),
    ),
    Answer("What is the moon made of?", "The documents do not answer this.", True),
]


def _footnote_definitions(md: str) -> dict[int, str]:
    return {int(k): v for k, v in re.findall(r"^\[\^(\d+)\]: (.*)$", md, re.M)}


def test_footnotes_are_numbered_uniquely_across_questions():
    md = conversation_markdown(HAND_MADE, exported_at=WHEN)
    assert sorted(_footnote_definitions(md)) == [1, 2, 3]
    assert re.findall(r"\[\^(\d+)\](?!:)", md) == ["1", "2", "3"]
    assert "Exported 2026-01-02 03:04 UTC" in md


def test_each_footnote_gives_quote_title_pages_and_url():
    notes = _footnote_definitions(conversation_markdown(HAND_MADE, exported_at=WHEN))
    assert notes[1].endswith("— Report, Publisher, 2024-06, p. 3, <https://example.org/a_b>")
    assert notes[2] == "“See note \\[2\\] here.” — Report, Publisher, 2024-06, pp. 3–4"


def test_a_quote_in_another_language_than_the_question_says_so():
    notes = _footnote_definitions(conversation_markdown(HAND_MADE, exported_at=WHEN))
    assert notes[3].endswith("(in Vietnamese)") and "in Vietnamese" not in notes[1]


def test_an_abstained_answer_says_so_without_footnotes():
    md = conversation_markdown(HAND_MADE[2:], exported_at=WHEN)
    assert "*The documents do not answer this.*" in md
    assert "[^" not in md


def test_a_bracketed_number_inside_a_quote_is_text_not_a_footnote():
    md = conversation_markdown(HAND_MADE[:1], exported_at=WHEN)
    assert "See note \\[2\\] here.[^2]" in md


@pytest.mark.parametrize(
    ("text", "shown"),
    [
        ("*bold*", "\\*bold\\*"),
        ("[link](http://x)", "\\[link\\](http://x)"),  # no link without its brackets
        ("`code`", "\\`code\\`"),
        ("<script>alert(1)</script>", "&lt;script&gt;alert(1)&lt;/script&gt;"),
        ("# heading", "\\# heading"),
        ("- item", "\\- item"),
        ("1. item", "1\\. item"),
        ("[^1]: fake note", "\\[^1\\]: fake note"),
        ("+ item", "\\+ item"),
        ("two\n\nparagraphs", "two paragraphs"),
        ("$x$ & y", "\\$x\\$ &amp; y"),
    ],
)
def test_document_text_cannot_break_the_markdown(text, shown):
    assert md_escape(text) == shown


def test_markup_in_a_quote_is_shown_literally():
    md = conversation_markdown(HAND_MADE[:1], exported_at=WHEN)
    assert "<script>" not in md and "&lt;script&gt;" in md
    assert "\\*EUR\\* 6.5 \\[billion\\] \\`x\\`" in md


def test_the_word_export_has_the_quotes_and_real_footnotes(tmp_path):
    path = conversation_docx(HAND_MADE, tmp_path / "c.docx", exported_at=WHEN)
    document = docx.Document(str(path))  # opens: a valid package
    text = [p.text for p in document.paragraphs]
    assert "1. How much did Sweden pledge?" in text and "3. What is the moon made of?" in text
    assert any(MARKUP in t for t in text)  # literally, no escaping in Word
    assert "The documents do not answer this." in text
    notes = read_docx_footnotes(path)
    assert sorted(notes) == [1, 2, 3]
    assert notes[1] == (f"“{MARKUP}” — Report, Publisher, 2024-06, p. 3, https://example.org/a_b")
    assert notes[3].endswith("(in Vietnamese)")
    refs = document.element.body.findall(".//" + docx.oxml.ns.qn("w:footnoteReference"))
    assert [r.get(docx.oxml.ns.qn("w:id")) for r in refs] == ["1", "2", "3"]


def test_control_characters_from_pdfs_do_not_break_the_word_file(tmp_path):
    answer = _answer("Q?", _citation(1, "Page one\fpage two\x00."))
    notes = read_docx_footnotes(conversation_docx([answer], tmp_path / "c.docx"))
    assert notes[1].startswith("“Page one page two .”")


def test_real_answers_export_with_a_footnote_per_citation(corpus_qa, tmp_path):
    answers = [
        corpus_qa.ask("How much did Sweden and Norway pledge to Ukraine?"),
        corpus_qa.ask("Thủ tướng Luxembourg ký thỏa thuận an ninh với Ukraine vào ngày nào?"),
        corpus_qa.ask("What is the capital of Australia?"),
    ]
    citations = [c for a in answers for c in a.citations]
    uncited_figures = [
        f for a in answers for d in a.disagreements for f in d.figures if f.n is None
    ]
    n_notes = len(citations) + len(uncited_figures)
    assert len(citations) >= 3 and answers[2].abstained
    md = conversation_markdown(answers)
    notes = _footnote_definitions(md)
    assert sorted(notes) == list(range(1, n_notes + 1))
    quoted = [n for n in notes.values() if any(md_escape(c.quote) in n for c in citations)]
    assert len(quoted) == len(citations)
    for c in citations:
        (note,) = [n for n in notes.values() if n.startswith(f"“{md_escape(c.quote)}”")]
        assert md_escape(c.title) in note and pages(c.page, c.page_end) in note
    assert f"index {answers[0].index_version}" in md
    path = conversation_docx(answers, tmp_path / "real.docx")
    assert sorted(read_docx_footnotes(path)) == list(range(1, n_notes + 1))


def test_sources_disagree_figures_point_to_footnotes_reusing_the_cited_ones(tmp_path):
    from dataclasses import replace

    from qa.documents import Disagreement, Figure

    def figure(value, quote, n):
        return Figure(
            value, value, "corpus/r.txt", "Report", None, None, None, 2, 2, quote, 0, len(quote), n
        )

    answer = _answer("How many agreements?", _citation(1, "Ukraine signed 21 agreements."))
    answer = replace(
        answer,
        disagreements=(
            Disagreement(
                "the number of agreements",
                (
                    figure("21", "Ukraine signed 21 agreements.", 1),
                    figure("17", "There are already 17 agreements.", None),
                ),
            ),
        ),
    )
    md = conversation_markdown([answer], exported_at=WHEN)
    assert "**Sources disagree on the number of agreements:**\n\n- 21[^1]\n- 17[^2]" in md
    assert _footnote_definitions(md)[2] == "“There are already 17 agreements.” — Report, p. 2"
    notes = read_docx_footnotes(conversation_docx([answer], tmp_path / "d.docx"))
    assert notes[2] == "“There are already 17 agreements.” — Report, p. 2"


TWO_SOURCES = [
    HAND_MADE[0],
    _answer(
        "When did Luxembourg sign?",
        replace(_citation(1, "Ký hôm 10/7.", title="GDTĐ", language="vi"), document="g.txt"),
    ),
]


def test_an_export_ends_with_each_cited_source_once_in_order_of_citation(tmp_path):
    md = conversation_markdown(TWO_SOURCES, exported_at=WHEN)
    assert md.split("## Sources\n\n", 1)[1].splitlines() == [
        "- Report, Publisher, 2024-06, <https://example.org/a_b>",
        "- GDTĐ, Publisher, 2024-06",
    ]
    text = [
        p.text
        for p in docx.Document(str(conversation_docx(TWO_SOURCES, tmp_path / "s.docx"))).paragraphs
    ]
    assert text[-3:] == [
        "Sources",
        "Report, Publisher, 2024-06, https://example.org/a_b",
        "GDTĐ, Publisher, 2024-06",
    ]


@pytest.mark.parametrize(
    "questions, name",
    [
        (["How much did Sweden pledge?", "Later"], "2026-01-02-how-much-did-sweden-pledge"),
        (["Thủ tướng Luxembourg ký ngày nào?"], "2026-01-02-thủ-tướng-luxembourg-ký-ngày-nào"),
        (["../../etc/passwd"], "2026-01-02-etc-passwd"),
        (["???"], "2026-01-02-cited-answers"),
        ([], "2026-01-02-cited-answers"),
    ],
)
def test_an_export_is_named_after_its_date_and_first_question(questions, name):
    answers = [Answer(q, "The documents do not answer this.", True) for q in questions]
    assert export_name(answers, today=WHEN) == name
