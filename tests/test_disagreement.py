"""Sources disagree: the figures that cited passages give differently, each with its source."""

import pytest

from qa.answer.disagreement import find_disagreements
from qa.answer.figures import DateMention, canonical_unit, dates, parse_number, quantities
from qa.cli import format_answer
from qa.documents import NO_PAGE, Answer, Citation, Hit, Metadata, Passage
from qa.ingest.sentences import split_sentences

from conftest import make_qa

# --- pure functions -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("sentence", "language", "expected"),
    [
        ("Ukraine has concluded 21 security agreements.", "en", [("21", "21", "agreement")]),
        ("It can boast of 21 signed security agreements.", "en", [("21", "21", "agreement")]),
        ("There are already 17 agreements, and more.", "en", [("17", "17", "agreement")]),
        ("So far 17 agreements signed in total.", "en", [("17", "17", "agreement")]),
        (
            "Kyiv has signed more than 20 bilateral deals.",
            "en",
            [("more than 20", "20", "agreement")],
        ),
        (
            "It signed approximately two dozen similar treaties.",
            "en",
            [("approximately two dozen", "24", "agreement")],
        ),
        ("Seventeen partner states signed.", "en", [("Seventeen", "17", "country")]),
        (
            "Sweden pledged approximately EUR 6.5 billion over 2024–2026.",
            "en",
            [("approximately EUR 6.5 billion", "6500000000", "EUR")],
        ),
        (
            "Aid exceeding €250 million ($270.74 million) was sent.",
            "en",
            [
                ("exceeding €250 million", "250000000", "EUR"),
                ("$270.74 million", "270740000", "USD"),
            ],
        ),
        ("It gave £1.2bn in 2023.", "en", [("£1.2bn", "1200000000", "GBP")]),
        ("A population of 672,000 people.", "en", [("672,000", "672000", "people")]),
        ("It spends 0.25% of GDP.", "en", [("0.25%", "0.25", "percent")]),
        ("A 10-year agreement under Article 5 for the 75th time.", "en", []),
        ("Ukraine đã ký 21 thỏa thuận an ninh.", "vi", [("21", "21", "agreement")]),
        ("Ukraine đã ký khoảng 20 hiệp ước song phương.", "vi", [("khoảng 20", "20", "agreement")]),
        ("Thụy Điển cam kết 6,5 tỷ euro.", "vi", [("6,5 tỷ euro", "6500000000", "EUR")]),
        ("Dân số khoảng 672.000 người.", "vi", [("khoảng 672.000", "672000", "people")]),
    ],
)
def test_quantities_find_the_number_and_the_noun_or_currency_it_counts(
    sentence, language, expected
):
    found = [
        (q.value, format(q.amount.normalize(), "f"), q.unit)
        for q in quantities(sentence, language)
        if q.unit
    ]
    assert found == expected


@pytest.mark.parametrize(
    ("token", "language", "expected"),
    [
        ("672,000", "en", "672000"),
        ("6.5", "en", "6.5"),
        ("1,234.5", "en", "1234.5"),
        ("672.000", "vi", "672000"),
        ("6,5", "vi", "6.5"),
        ("6.5", "vi", "6.5"),
        ("1.2.3", "en", None),
    ],
)
def test_numbers_are_read_with_the_language_s_separators(token, language, expected):
    got = parse_number(token, language)
    assert (None if got is None else format(got.normalize(), "f")) == expected


@pytest.mark.parametrize(
    ("word", "unit"),
    [
        ("agreements", "agreement"),
        ("treaties", "agreement"),
        ("deals", "agreement"),
        ("states", "country"),
        ("countries", "country"),
        ("hiệp ước", "agreement"),
    ],
)
def test_synonymous_nouns_count_the_same_unit(word, unit):
    assert canonical_unit(word) == unit


@pytest.mark.parametrize(
    ("sentence", "language", "expected"),
    [
        ("It was signed on 10 July 2024 in Washington.", "en", ["2024-07-10"]),
        ("It was signed on July 10, 2024.", "en", ["2024-07-10"]),
        ("It was signed in July 2024.", "en", ["2024-07"]),
        ("In June, it signed two more.", "en", ["--06"]),
        ("Signed 2024-07-10.", "en", ["2024-07-10"]),
        ("The aid covers the period 2024–2026.", "en", []),
        ("It may be signed in 2024.", "en", ["2024"]),
        ("Thoả thuận được ký hôm 10/7 tại Mỹ.", "vi", ["--07-10"]),
        ("Vào tháng 6/2024, Ukraine đã ký.", "vi", ["2024-06"]),
        ("A ratio of 10/7 is not a date in English.", "en", []),
    ],
)
def test_dates_keep_only_the_parts_the_text_gives(sentence, language, expected):
    assert [d.iso() for d in dates(sentence, language)] == expected


@pytest.mark.parametrize(
    ("a", "b", "agree"),
    [
        ((2024, 7, 10), (2024, 7, None), True),
        ((2024, 7, 10), (None, 7, 10), True),
        ((2024, 7, 10), (2024, 7, 11), False),
        ((2024, 6, None), (None, 7, 10), False),
        ((2023, None, None), (2024, 7, 10), False),
    ],
)
def test_dates_agree_when_every_part_both_give_is_equal(a, b, agree):
    assert DateMention("", *a, 0, 0).agrees(DateMention("", *b, 0, 0)) is agree


# --- find_disagreements on hand-made answers ---------------------------------------------


def _passage(doc_id: str, text: str, language: str = "en") -> Passage:
    return Passage(
        f"{doc_id}#0-{len(text)}",
        doc_id,
        0,
        len(text),
        1,
        1,
        text,
        tuple(split_sentences(text)),
        language,
    )


def _answer(question: str, *texts: tuple[str, str], cite: int | None = None) -> Answer:
    """An answer citing the first sentence of the first `cite` passages (all by default)."""
    passages = [_passage(doc, text) for doc, text in texts]
    citations = []
    for n, p in enumerate(passages[:cite], start=1):
        a, b = p.sentences[0]
        citations.append(
            Citation(
                n,
                p.doc_id,
                p.doc_id.title(),
                "Publisher",
                "2024-07",
                None,
                1,
                1,
                p.text[a:b],
                a,
                b,
                0.9,
                p.passage_id,
            )
        )
    return Answer(
        question,
        " ".join(f"{c.quote} [{c.n}]" for c in citations),
        False,
        tuple(citations),
        tuple(Hit(p, 0.9 - i / 10, i + 1) for i, p in enumerate(passages)),
        {p.doc_id: Metadata(p.doc_id.title(), "Publisher", "2024-07") for p in passages},
    )


COUNT_Q = "How many security agreements has Ukraine signed?"


def test_two_documents_with_different_counts_disagree_and_both_are_listed_with_sources():
    answer = _answer(
        COUNT_Q,
        ("a", "Ukraine has signed 21 security agreements."),
        ("b", "So far Ukraine has signed 17 agreements with partners."),
    )
    (d,) = find_disagreements(COUNT_Q, answer)
    assert d.subject == "the number of agreements"
    assert [(f.value, f.document, f.n, f.title) for f in d.figures] == [
        ("21", "a", 1, "A"),
        ("17", "b", 2, "B"),
    ]
    assert d.figures[1].quote == "So far Ukraine has signed 17 agreements with partners."


@pytest.mark.parametrize(
    "other, disagree",
    [
        ("Ukraine has signed more than 20 bilateral deals.", False),  # 21 is more than 20
        ("Ukraine has signed about 20 bilateral deals.", False),  # 21 is about 20
        ("Ukraine has signed about 25 bilateral deals.", True),
        ("Ukraine has signed two dozen bilateral deals.", True),
        ("Ukraine has signed more than 25 bilateral deals.", True),
        ("Ukraine has signed fewer than 15 bilateral deals.", True),
    ],
)
def test_a_qualified_figure_disagrees_only_when_it_excludes_the_other(other, disagree):
    answer = _answer(COUNT_Q, ("a", "Ukraine has signed 21 security agreements."), ("b", other))
    assert bool(find_disagreements(COUNT_Q, answer)) == disagree


def test_the_same_figure_in_two_documents_is_no_disagreement():
    answer = _answer(
        COUNT_Q,
        ("a", "Ukraine has signed 21 security agreements."),
        ("b", "By July, 21 agreements had been signed by Ukraine."),
    )
    assert find_disagreements(COUNT_Q, answer) == ()


def test_figures_from_one_document_only_are_no_disagreement():
    answer = _answer(
        COUNT_Q,
        ("a", "Ukraine has signed 21 security agreements. In May there were only 17 agreements."),
    )
    assert find_disagreements(COUNT_Q, answer) == ()


def test_a_figure_the_answer_left_out_is_shown_beside_the_one_it_quotes():
    answer = _answer(
        COUNT_Q,
        ("a", "Ukraine has signed 21 security agreements."),
        ("b", "Ukraine has signed 17 agreements."),
        cite=1,
    )
    (d,) = find_disagreements(COUNT_Q, answer)
    assert [(f.value, f.n) for f in d.figures] == [("21", 1), ("17", None)]


def test_passages_beyond_the_answers_best_few_are_not_compared():
    answer = _answer(
        COUNT_Q,
        ("a", "Ukraine has signed 21 security agreements."),
        ("b", "Ukraine has signed 17 agreements."),
        cite=1,
    )
    assert find_disagreements(COUNT_Q, answer, among=1) == ()


def test_no_disagreement_unless_the_answer_quotes_a_figure_of_its_own():
    answer = _answer(
        COUNT_Q,
        ("a", "Ukraine has signed security agreements with allies."),
        ("b", "Ukraine has signed 21 agreements."),
        ("c", "It signed 17 agreements."),
        cite=1,
    )
    assert find_disagreements(COUNT_Q, answer) == ()


def test_a_count_of_partner_states_is_not_compared_with_a_count_of_agreements():
    answer = _answer(
        COUNT_Q,
        ("a", "Ukraine signed the agreements with 17 partner states."),
        ("b", "Ukraine has signed 21 agreements."),
    )
    assert find_disagreements(COUNT_Q, answer) == ()


def test_a_document_that_also_gives_the_other_s_figure_does_not_contradict_it():
    answer = _answer(
        COUNT_Q,
        ("a", "Ukraine has signed 21 security agreements."),
        ("b", "Ukraine has signed 21 agreements, up from 17 agreements in May."),
    )
    assert find_disagreements(COUNT_Q, answer) == ()


def test_pledges_of_two_countries_the_question_joins_are_different_subjects():
    q = "How much did Sweden and Norway pledge to Ukraine?"
    answer = _answer(
        q,
        ("a", "Sweden pledged approximately EUR 6.5 billion to Ukraine."),
        ("b", "Norway pledged approximately EUR 6.4 billion to Ukraine."),
    )
    assert find_disagreements(q, answer) == ()


def test_pledges_of_one_country_given_differently_disagree_under_its_name():
    q = "How much did Sweden and Norway pledge to Ukraine?"
    answer = _answer(
        q,
        ("a", "Sweden pledged approximately EUR 6.5 billion to Ukraine."),
        ("b", "Sweden pledged SEK 70 billion, about €6.2 billion, to Ukraine."),
    )
    (d,) = find_disagreements(q, answer)
    assert d.subject == "the amount in EUR (Sweden)"
    assert [f.normalized for f in d.figures] == ["EUR 6500000000", "EUR 6200000000"]


def test_a_sentence_about_another_country_is_left_out():
    q = "How much did Sweden pledge to Ukraine?"
    answer = _answer(
        q,
        ("a", "Sweden pledged EUR 6.5 billion to Ukraine."),
        ("b", "Norway pledged EUR 6.4 billion to Ukraine."),
        ("c", "Denmark pledged EUR 1 billion to Ukraine."),
    )
    assert find_disagreements(q, answer) == ()


def test_nouns_the_question_does_not_ask_about_are_not_compared():
    answer = _answer(
        COUNT_Q,
        ("a", "Ukraine has signed agreements covering 21 sectors."),
        ("b", "Ukraine has signed agreements covering 17 sectors."),
    )
    assert find_disagreements(COUNT_Q, answer) == ()


DATE_Q = "When did Luxembourg sign its security agreement with Ukraine?"


def test_dates_that_differ_between_documents_disagree():
    answer = _answer(
        DATE_Q,
        ("a", "Luxembourg signed the agreement with Ukraine on 10 July 2024."),
        ("b", "Luxembourg and Ukraine signed the agreement on 11 July 2024."),
    )
    (d,) = find_disagreements(DATE_Q, answer)
    assert d.subject == "the date"
    assert [(f.value, f.normalized) for f in d.figures] == [
        ("10 July 2024", "2024-07-10"),
        ("11 July 2024", "2024-07-11"),
    ]


@pytest.mark.parametrize("other", ["in July 2024", "on 10 July", "in 2024"])
def test_partial_dates_that_fit_the_full_one_do_not_disagree(other):
    answer = _answer(
        DATE_Q,
        ("a", "Luxembourg signed the agreement with Ukraine on 10 July 2024."),
        ("b", f"Luxembourg and Ukraine signed the agreement {other}."),
    )
    assert find_disagreements(DATE_Q, answer) == ()


def test_a_vietnamese_day_month_date_is_compared_with_an_english_one():
    vi = _passage("vi", "Thoả thuận được Luxembourg và Ukraine ký hôm 11/7 tại Mỹ.", "vi")
    answer = _answer(DATE_Q, ("a", "Luxembourg signed the agreement with Ukraine on 10 July 2024."))
    hits = answer.hits + (Hit(vi, 0.5, 2),)
    c = Citation(
        2, "vi", "Vi", None, None, None, 1, 1, vi.text, 0, len(vi.text), 0.5, vi.passage_id, "vi"
    )
    answer = Answer(
        DATE_Q,
        answer.answer,
        False,
        answer.citations + (c,),
        hits,
        {**answer.documents, "vi": Metadata("Vi")},
    )
    (d,) = find_disagreements(DATE_Q, answer)
    assert [f.normalized for f in d.figures] == ["2024-07-10", "--07-11"]


def test_an_abstained_answer_has_no_disagreement():
    answer = _answer(
        COUNT_Q,
        ("a", "Ukraine has signed 21 security agreements."),
        ("b", "Ukraine has signed 17 agreements."),
        cite=0,
    )
    assert find_disagreements(COUNT_Q, answer) == ()


def test_disagreements_are_in_the_json_and_the_printed_answer():
    answer = _answer(
        COUNT_Q,
        ("a", "Ukraine has signed 21 security agreements."),
        ("b", "So far Ukraine has signed 17 agreements with partners."),
    )
    from dataclasses import replace

    answer = replace(answer, disagreements=find_disagreements(COUNT_Q, answer))
    (d,) = answer.to_dict()["disagreements"]
    assert d["subject"] == "the number of agreements"
    assert [(f["value"], f["document"], f["page"], f["n"]) for f in d["figures"]] == [
        ("21", "a", 1, 1),
        ("17", "b", 1, 2),
    ]
    assert set(d["figures"][0]) >= {
        "value",
        "document",
        "title",
        "publisher",
        "date",
        "page",
        "quote",
        "n",
    }
    printed = format_answer(answer)
    assert "Sources disagree on the number of agreements:" in printed
    assert "  17 — B, Publisher, 2024-07, p. 1 [2]" in printed


def test_answers_without_disagreement_keep_an_empty_list_in_the_json():
    assert Answer("q", "a", False).to_dict()["disagreements"] == []


# --- end to end, real model --------------------------------------------------------------

COUNTS = {
    "report.txt": "Bilateral security agreements.\n\nBy June, Ukraine had signed 17 bilateral "
    "security agreements with partner countries. The agreements run for ten years.",
    "news.txt": "Security guarantees for Ukraine.\n\nSince January, Ukraine has concluded 21 "
    "security agreements with Western allies. More are under negotiation.",
}
SAME = {
    "report.txt": COUNTS["report.txt"].replace("17", "21"),
    "news.txt": COUNTS["news.txt"],
}
PLEDGES = {
    "sweden.txt": "Sweden pledged approximately EUR 6.5 billion to Ukraine over 2024-2026.",
    "norway.txt": "Norway pledged approximately EUR 6.4 billion to Ukraine for 2023-2027.",
}
BOTH_PARTS = (
    "How many bilateral security agreements has Ukraine concluded with Western partner countries?"
)


@pytest.fixture(scope="module")
def projects(tmp_path_factory, embedder):
    out = {}
    for name, docs in (("counts", COUNTS), ("same", SAME), ("pledges", PLEDGES)):
        qa = make_qa(tmp_path_factory.mktemp(name), embedder, docs)
        qa.build()
        out[name] = qa
    return out


def test_an_answer_citing_two_documents_with_different_counts_shows_both(projects):
    answer = projects["counts"].ask(BOTH_PARTS)
    assert {c.document for c in answer.citations} == {"corpus/report.txt", "corpus/news.txt"}
    (d,) = answer.disagreements
    assert sorted((f.value, f.document, f.title) for f in d.figures) == [
        ("17", "corpus/report.txt", "Report"),
        ("21", "corpus/news.txt", "News"),
    ]


def test_an_answer_citing_two_documents_with_the_same_count_shows_none(projects):
    answer = projects["same"].ask(BOTH_PARTS)
    assert len({c.document for c in answer.citations}) == 2
    assert answer.disagreements == ()


def test_pledges_of_two_countries_in_a_real_answer_are_no_disagreement(projects):
    # "How much ..." abstains on two one-sentence documents: the answerer wants both names
    # near one figure (see qa/answer/extractive.py supporting_sentences)
    answer = projects["pledges"].ask("What did Sweden and Norway pledge to Ukraine?")
    assert len({c.document for c in answer.citations}) == 2
    assert answer.disagreements == ()


def test_the_real_corpus_answer_about_the_number_of_agreements(corpus_qa):
    """Whatever it finds, each figure names its source (its page, when the source has
    pages: the PDF report, not the articles kept as plain text), and one is the answer's own
    quote."""
    answer = corpus_qa.ask("How many security agreements has Ukraine signed?")
    cited = {c.document for c in answer.citations}
    for d in answer.disagreements:
        assert len({f.document for f in d.figures}) >= 2
        assert any(f.n is not None and f.document in cited for f in d.figures)
        for f in d.figures:
            assert f.title and f.quote
            assert f.page >= 1 if f.document.endswith(".pdf") else f.page == NO_PAGE
