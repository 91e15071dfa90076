"""Answers quote the right passage, cite it precisely, and abstain when nothing answers."""

from dataclasses import replace

import pytest

from qa.api import QA
from qa.documents import ABSTAIN_MESSAGE
from qa.errors import BadQuestion
from qa.references import reference
from qa.store.calibration import threshold_for
from qa.text import normalize

from conftest import make_qa


def test_sweden_and_norway_pledges_are_both_answered_with_citations_of_the_right_passages(
    corpus_qa,
):
    answer = corpus_qa.ask("How much did Sweden and Norway pledge to Ukraine?")
    assert not answer.abstained
    quotes = " ".join(c.quote for c in answer.citations)
    assert "6.5 billion" in quotes and "6.4 billion" in quotes
    for c in answer.citations:
        doc = corpus_qa.documents[c.document]
        assert doc.text[c.start : c.end] == c.quote  # the quote is verbatim at its span
        assert f"[{c.n}]" in answer.answer
        assert c.title == "Making the Glass of Ukraine's Bilateral Security Agreements Half Full"
    norway = next(c for c in answer.citations if "Norway" in c.quote)
    assert (norway.page, norway.page_end) == (3, 4)  # the sentence runs over a page break


def test_an_off_topic_question_abstains_and_still_shows_the_closest_passages(corpus_qa):
    answer = corpus_qa.ask("What is a good recipe for banana bread?")
    assert answer.abstained and answer.answer == ABSTAIN_MESSAGE
    assert answer.citations == () and len(answer.hits) == corpus_qa.settings.top_k


def test_each_document_is_held_to_the_off_topic_bar_of_its_own_passages(corpus_qa):
    """Documents sit at different heights on the cosine scale; what off-topic probes reach
    on a document's own passages is its bar, at most the collection's for its language."""
    index = corpus_qa.index
    calibration = index.manifest["calibration"]
    own = calibration["document_min_score"]
    assert own.keys() == index.documents.keys()
    assert len({by_language["en"] for by_language in own.values()}) > 1
    first = {}
    for p in index.passages:
        first.setdefault(p.doc_id, p)
    for doc_id, passage in first.items():
        for q_lang, bar in own[doc_id].items():
            assert bar <= calibration["min_score"][q_lang][passage.language]
            assert threshold_for(calibration, q_lang, 0.8)(passage) == bar
    unknown = replace(next(iter(first.values())), doc_id="corpus/added-later.txt")
    assert (
        threshold_for(calibration, "en", 0.8)(unknown)
        == (calibration["min_score"]["en"][unknown.language])
    )


def test_answer_json_has_the_documented_fields(corpus_qa):
    data = corpus_qa.ask("Who signed the agreement for Luxembourg?", k=3).to_dict()
    assert set(data) >= {"question", "answer", "abstained", "citations", "passages"}
    assert data["index_version"] == corpus_qa.index.version
    assert len(data["passages"]) == 3
    assert [p["rank"] for p in data["passages"]] == [1, 2, 3]
    assert set(data["passages"][0]) >= {"document", "page", "text", "score"}
    c = data["citations"][0]
    assert set(c) >= {"n", "document", "title", "page", "quote", "start", "end", "score"}


def test_citations_never_repeat_overlapping_sentences(corpus_qa):
    answer = corpus_qa.ask("What do the agreements promise Ukraine?", k=10)
    spans = [(c.document, c.start, c.end) for c in answer.citations]
    for i, (d, a, b) in enumerate(spans):
        for d2, a2, b2 in spans[i + 1 :]:
            assert not (d == d2 and a < b2 and a2 < b)


@pytest.mark.parametrize(
    "question, words",
    [
        ("", "empty"),
        ("   \n\t ", "empty"),
        ("?!…", "no words"),
        ("x" * 10_000, "limit"),
        ("y" * 100_000, "limit"),
    ],
)
def test_bad_questions_get_a_clear_message(corpus_qa, question, words):
    with pytest.raises(BadQuestion, match=words):
        corpus_qa.ask(question)


def test_normalize_folds_case_width_and_whitespace():
    assert normalize("  ＥＵＲ\u00a06.5\nBillion ") == "eur 6.5 billion"


def test_a_two_part_question_is_answered_part_by_part_with_each_part_cited(corpus_qa):
    answer = corpus_qa.ask("How much did Sweden pledge, and how much is Norway providing?", k=3)
    quotes = " ".join(c.quote for c in answer.citations)
    assert "6.5 billion" in quotes and "6.4 billion" in quotes
    shown = {h.passage.passage_id for h in answer.hits}
    assert all(c.passage_id in shown for c in answer.citations)  # every citation's passage


def test_an_answer_about_a_missing_year_abstains_and_says_why(corpus_qa):
    answer = corpus_qa.ask("How much does Latvia plan to spend on defence in 2031?")
    assert answer.abstained and "2031" in answer.abstain_reason


def test_an_off_topic_question_that_shares_a_name_with_the_collection_abstains(corpus_qa):
    """Its best passage clears the similarity threshold (it names Sweden), so the answer gate
    decides: nothing retrieved clearly answers it, and the closest passages are shown."""
    from qa.answer.abstention import REASON

    question = "Which football club won the Swedish league in 2023?"
    answer = corpus_qa.ask(question)
    assert answer.margin > 0
    assert answer.abstained and answer.abstain_reason == REASON and answer.citations == ()
    assert answer.answerable < corpus_qa.gate.threshold
    assert len(answer.hits) == corpus_qa.settings.top_k
    ungated = QA(replace(corpus_qa.settings, abstention_gate="off"), embedder=corpus_qa.embedder)
    assert not ungated.ask(question).abstained  # what the gate alone turns away


def test_an_answer_gate_that_cannot_be_read_is_named_in_the_error(corpus_qa, tmp_path):
    from qa.errors import QAError

    broken = tmp_path / "gate.json"
    broken.write_text('{"features": ["margin"]}')
    for path in (broken, tmp_path / "nowhere.json"):
        qa = QA(replace(corpus_qa.settings, abstention_gate=str(path)), embedder=corpus_qa.embedder)
        with pytest.raises(QAError, match=path.name):
            qa.ask("How much did Sweden pledge?")


def test_a_question_of_two_parts_keeps_the_part_the_documents_answer(corpus_qa):
    answer = corpus_qa.ask(
        "How much did Sweden pledge, and which football club won the Swedish league in 2023?"
    )
    assert not answer.abstained and answer.answerable >= corpus_qa.gate.threshold
    assert "6.5 billion" in answer.citations[0].quote
    assert f"league in 2023? {ABSTAIN_MESSAGE})" in answer.answer


def test_a_question_about_a_generated_pdf_cites_the_page_the_answer_is_on(tmp_path, embedder):
    from conftest import write_pdf

    qa = make_qa(tmp_path, embedder, {})
    write_pdf(
        qa.settings.corpus_dir / "report.pdf",
        [
            "Chapter one describes the history of the northern railway and its stations.",
            "The harbour authority approved a budget of EUR 42 million for new cranes.",
            "Chapter three lists the ferry timetable for the summer season.",
        ],
        title="Harbour Report",
    )
    qa.build()
    answer = qa.ask("How much did the harbour authority approve for new cranes?")
    c = answer.citations[0]
    assert "EUR 42 million" in c.quote and c.page == 2 and c.title == "Harbour Report"


def test_questions_asked_concurrently_get_the_same_answers_as_one_by_one(corpus_qa):
    from concurrent.futures import ThreadPoolExecutor

    questions = [
        "How much did Sweden pledge?",
        "Who signed the agreement for Luxembourg?",
        "What share of its budget does Russia spend on defence?",
        "Which agreement will be registered with the United Nations?",
    ] * 3
    one_by_one = [corpus_qa.ask(q).to_dict() for q in questions]
    with ThreadPoolExecutor(max_workers=6) as pool:
        together = list(pool.map(lambda q: corpus_qa.ask(q).to_dict(), questions))
    assert together == one_by_one


def test_a_question_in_a_script_no_document_uses_abstains_without_error(corpus_qa):
    answer = corpus_qa.ask("𒀀𒀁𒀂 𒀃𒀄 𒀅𒀆𒀇?")
    assert answer.abstained and answer.answer == ABSTAIN_MESSAGE


def test_brackets_inside_quotes_survive_a_multi_part_answer_verbatim(tmp_path, embedder):
    """Renumbering the citations of a two-part answer touches only the markers the answerer
    placed: "a[0]" in code and "[12]" reference marks in a quote stay as written."""
    from conftest import make_qa

    qa = make_qa(
        tmp_path,
        embedder,
        {
            "arrays.txt": "The first element of an array is read as a[0] in the C language.\n\n"
            "Brackets like [12] mark references in the survey of sorting methods.\n\n"
            "Quicksort sorts an array of a million numbers in about a tenth of a second.",
        },
    )
    qa.build()
    answer = qa.ask("How is the first element of an array read, and how fast is quicksort?")
    for c in answer.citations:
        assert qa.documents[c.document].text[c.start : c.end] == c.quote
        assert f"{c.quote} [{c.n}]" in answer.answer  # each quote verbatim, with its marker


def test_a_sentence_that_answers_two_parts_is_quoted_once(corpus_qa):
    answer = corpus_qa.ask("How much did Sweden pledge, and what did Sweden pledge it for?")
    assert not answer.abstained
    quotes = [c.quote for c in answer.citations]
    assert len(quotes) == len(set(quotes))
    assert all(answer.answer.count(q) == 1 for q in quotes)


def test_headings_separators_and_contents_lines_are_never_quoted(tmp_path, embedder):
    from conftest import make_qa

    qa = make_qa(
        tmp_path,
        embedder,
        {
            "notice.txt": "Exhibit A - Source Code Form License Notice\n----------\n\n"
            "This Source Code Form is subject to the terms of the Orvane Public Licence.\n\n"
            "Contents\n1 Introduction . . . . . . . . . . . . . 3\n2 Licence terms . . . . . . 5\n",
        },
    )
    qa.build()
    answer = qa.ask("What is the Source Code Form subject to?")
    assert answer.citations
    for c in answer.citations:
        assert "----" not in c.quote and ". . . ." not in c.quote
        assert not c.quote.startswith("Exhibit A")


def test_an_interpreter_session_is_never_quoted(tmp_path, embedder):
    from conftest import make_qa

    qa = make_qa(
        tmp_path,
        embedder,
        {
            "manual.txt": "Searching\n\nThe position of a pattern comes back wrapped in a "
            "tuple, so that the result is true when it is found.\n\n"
            ">>> bits.find('0b101') returns the found bit position of the pattern\n(3,)\n",
        },
    )
    qa.build()
    answer = qa.ask("What does bits.find return as the found bit position of a pattern?")
    assert answer.citations
    assert all(">>>" not in c.quote for c in answer.citations)


def test_an_answer_carries_the_rankers_confidence_and_the_json_reports_it(corpus_qa):
    answered = corpus_qa.ask("How much did Sweden pledge to Ukraine?")
    off_topic = corpus_qa.ask("What is a good recipe for banana bread?")
    assert not answered.abstained and 0.0 < answered.confidence <= 1.0
    assert answered.to_dict()["confidence"] == round(answered.confidence, 4)
    assert off_topic.abstained


def test_a_sentence_announcing_a_list_is_quoted_with_its_items_and_an_item_with_its_lead_in(
    tmp_path, embedder
):
    """Alone, "...the following personas:" answers nothing, and neither does "* allow
    random access": each is quoted with what gives it its meaning, verbatim."""
    from conftest import make_qa

    qa = make_qa(
        tmp_path,
        embedder,
        {
            "guide.md": "Personas ground a design in the needs of specific users.\n\n"
            "In 2021, the Brillo design team developed the following personas for Brillo:\n\n"
            "- Casual Knitter\n- Pattern Designer\n- Yarn Shop Owner\n\n"
            "A write-up of how the personas were made is in the wiki.\n\n"
            "The Brillo archive format does not attempt to:\n\n"
            "* allow random access to the stored patterns;\n"
            "* compress photographs of finished garments.\n",
        },
    )
    qa.build()
    personas = qa.ask("Which personas did the Brillo design team develop in 2021?")
    quote = personas.citations[0].quote
    assert "following personas" in quote and "Yarn Shop Owner" in quote
    access = qa.ask("Does the Brillo archive format allow random access to stored patterns?")
    assert any(
        "does not attempt to" in c.quote and "random access" in c.quote for c in access.citations
    )
    for c in personas.citations + access.citations:
        assert qa.documents[c.document].text[c.start : c.end] == c.quote


def test_a_how_much_answer_leads_with_the_sentence_that_gives_the_figure(tmp_path, embedder):
    """A sentence that restates the question can outscore the one that gives the figure;
    it may follow as context, but the answer, and the confidence the gate judges, lead
    with the sentence that answers."""
    qa = make_qa(
        tmp_path,
        embedder,
        {
            "bridge.txt": "Harbour bridge\n\n"
            "The harbour committee of Kestrin met on Monday to discuss how much the new "
            "harbour bridge will cost. Members spoke at length about the cost of the new "
            "harbour bridge.\n\n"
            "The engineers estimate that the bridge works will come to 4.2 million euros, "
            "paid over two years. Construction is to begin in the spring, when the ferries "
            "run less often.\n",
            "market.txt": "The fish market of Kestrin opens at six in the morning. It sells "
            "cod, herring and mackerel landed by the local fleet.\n",
        },
    )
    qa.build()
    answer = qa.ask("How much will the new harbour bridge cost?")
    assert not answer.abstained
    assert "4.2 million euros" in answer.citations[0].quote
    assert answer.answer.startswith(answer.citations[0].quote)


def test_a_markdown_table_row_is_quoted_alone_as_the_answer_it_gives(tmp_path, embedder):
    """Rows of a pipe table are lines of their own, not one run-on "sentence" that no
    answer can quote, and a row that ends in "|" is not taken for a heading."""
    qa = make_qa(
        tmp_path,
        embedder,
        {
            "survey.md": "# Who answered the Brillo survey\n\n"
            "Most participants of the Brillo user survey came from Europe and North "
            "America.\n\n"
            "| Country Name | Number of participants |\n"
            "| ------------ | ---------------------- |\n"
            "| Netherlands | 31 |\n"
            "| Portugal | 12 |\n"
            "| Canada | 9 |\n\n"
            "Participation from Africa and Asia was low.\n",
            "method.md": "# How the Brillo survey was run\n\nThe survey was open for six "
            "weeks in the spring. It was promoted on the Brillo forum and mailing list, and "
            "took about ten minutes to complete.\n",
        },
    )
    qa.build()
    answer = qa.ask("How many survey participants came from Portugal?")
    assert not answer.abstained
    assert answer.citations[0].quote == "| Portugal | 12 |"
    c = answer.citations[0]
    assert qa.documents[c.document].text[c.start : c.end] == c.quote


HARBOUR_DOCS = {
    "orvel-1851-harbour-report.txt": (
        "The harbour of Kestrin was dredged twice this year, and the east mole was raised. "
        "There are 412 moorings along the quays, and as many wardens to keep them. "
        "The lighthouse on the point was given a new lamp."
    ),
    "denmark-ferry-news.txt": (
        "Denmark opened a new ferry line to Kestrin on Friday. "
        "The crossing is short and smooth in calm weather. "
        "Passengers praised the quiet cabins and the food on board. "
        "The harbour master said the quays would be lengthened next spring. "
        "Norway ordered 37 new ferries for its northern routes."
    ),
}


def test_a_how_many_question_may_name_the_document_it_asks_about(tmp_path, embedder):
    """Orvel wrote the report and the report never names him: its title does. A name the
    text itself uses (Denmark) must still stand next to the figure."""
    from conftest import make_qa

    qa = make_qa(tmp_path, embedder, HARBOUR_DOCS)
    qa.build()
    answer = qa.ask("How many moorings did Orvel report along the quays of Kestrin?")
    assert not answer.abstained and "412 moorings" in answer.citations[0].quote
    assert qa.ask("How many ferries did Denmark order for its routes?").abstained


def test_a_question_that_names_its_source_is_answered_from_that_document(tmp_path, embedder):
    """Two harbours' rules say nearly the same; the question names whose rules it asks about,
    in words only the document's title (its file name here) has."""
    from conftest import make_qa

    qa = make_qa(
        tmp_path,
        embedder,
        {
            "kestrin-harbour-rules.txt": "Visiting boats are moored at the east quay. "
            "Fees are paid at the office by the gate.",
            "orvel-harbour-rules.txt": "Visiting boats moor at the west quay. "
            "Fees are paid on board to the warden.",
        },
    )
    qa.build()
    answer = qa.ask("Where should visiting boats moor according to the Kestrin harbour rules?")
    assert answer.citations[0].document == "corpus/kestrin-harbour-rules.txt"
    assert "east quay" in answer.citations[0].quote


@pytest.mark.parametrize(
    "question, texts",
    [
        (
            "Who inspected the Orvel lighthouse?",  # a name the question does not have
            [
                "The Orvel lighthouse was inspected in the spring.",
                "Mara Quill inspected the lighthouse at Orvel.",
            ],
        ),
        (
            "Why did the city council close the Kessling bridge?",  # a reason
            [
                "The city council decided in May to close the Kessling bridge.",
                "The council closed the Kessling bridge because its main cable had cracked.",
            ],
        ),
    ],
)
def test_who_and_why_questions_favour_the_sentence_that_gives_what_they_ask_for(
    embedder, question, texts
):
    """As a how-much question wants a figure, a who-question wants a name the question does
    not already have, and a why-question a reason ("because", "due to", "vì"...)."""
    from qa.answer.question import analyse
    from qa.answer.scoring import SentenceScorer

    from conftest import hits_of

    scorer = SentenceScorer(embedder)
    q = analyse(question)
    query = embedder.embed_queries([q.text])[0]
    scored = scorer.score(q, query, scorer.candidates(hits_of(texts, 0.8)))
    assert max(scored, key=lambda s: s.score).text == texts[1]


def test_a_ranker_given_in_the_settings_gives_the_confidence_and_a_missing_one_is_named(
    tmp_path, embedder
):
    """QA_RANKER swaps the shipped answer ranker for one trained elsewhere: a model that
    weighs nothing gives its bias alone as every answer's probability, which the answer
    gate calibrates into the answer's confidence (and which is the confidence without it)."""
    import json
    import math

    from qa.answer.ranker import FEATURES
    from qa.errors import QAError

    from conftest import make_qa

    flat = tmp_path / "flat-ranker.json"
    n = len(FEATURES)
    flat.write_text(
        json.dumps(
            {"features": list(FEATURES), "mean": [0] * n, "scale": [1] * n, "weights": [0] * n}
            | {"bias": 0.5}
        )
    )
    docs = {"pledges.txt": "Sweden pledged 6.5 billion euros of military aid to Ukraine in 2024."}
    qa = make_qa(tmp_path / "a", embedder, docs, ranker=str(flat))
    qa.build()
    answer = qa.ask("How much military aid did Sweden pledge to Ukraine?")
    assert not answer.abstained
    ranked = 1 / (1 + math.exp(-0.5))
    assert answer.confidence == pytest.approx(qa.gate.confidence(ranked, answer.answerable))
    ungated = QA(replace(qa.settings, abstention_gate="off"), embedder=embedder)
    assert ungated.ask("How much military aid did Sweden pledge to Ukraine?").confidence == (
        pytest.approx(ranked)
    )

    missing = make_qa(tmp_path / "b", embedder, docs, ranker=str(tmp_path / "nowhere.json"))
    missing.build()
    with pytest.raises(QAError, match="nowhere.json"):
        missing.ask("How much military aid did Sweden pledge to Ukraine?")


RELEASE_NOTES = (
    "# Harbour planner release notes\n\n"
    "The planner schedules berths and tides for small ports.\n\n"
    "## Release 7.2 - 2024-05-02\n\n### Changed\n"
    "- The tide tables are now read from the port authority feed.\n"
    "- Berth maps are drawn with the new symbols.\n\n"
    "## Release 6.1 - 2023-01-10\n\n### Changed\n"
    "- Mooring fees are computed per metre of hull length.\n"
    "- The pilot roster is printed on one page.\n"
)


def test_a_quote_is_stated_under_its_section_when_the_section_says_what_the_question_asks(
    tmp_path, embedder
):
    """Release notes say the version and the date once, in the heading above the changes.
    A question about a release, or when a change came, is answered from the change and its
    heading shown before it; a question the quote answers alone gets the quote alone."""
    qa = make_qa(tmp_path, embedder, {"notes.md": RELEASE_NOTES})
    qa.build()
    which = qa.ask("How are mooring fees computed since release 6.1?")
    assert not which.abstained
    fees = which.citations[0]
    assert fees.quote == "- Mooring fees are computed per metre of hull length."
    assert fees.section == "Release 6.1 - 2023-01-10 › Changed"
    assert which.answer == f"{fees.section}: {fees.quote} [1]"
    # every written reference names it too (qa ask, the exports, the app's copied citation)
    assert reference(fees) == "Harbour planner release notes, § Release 6.1 - 2023-01-10 › Changed"
    when = qa.ask("When did the planner start reading tide tables from the port authority feed?")
    assert not when.abstained and "2024-05-02" in when.answer
    assert "port authority feed" in when.citations[0].quote
    plain = qa.ask("What are mooring fees computed per?")
    assert not plain.abstained and plain.citations[0].section == ""
    assert plain.answer == f"{plain.citations[0].quote} [1]"


def test_a_question_the_document_asks_does_not_lead_the_answer(tmp_path, embedder):
    """A page of questions and answers asks the user's question in the user's words, so
    its own question outscores the sentence that answers it; but a sentence that asks
    tells nothing: it is context, never the quote."""
    qa = make_qa(
        tmp_path,
        embedder,
        {
            "faq.txt": "Gift certificates: questions and answers\n\n"
            "May a gift certificate for a meal sold by a restaurant contain an expiration "
            "date? A restaurant must honour a meal certificate for at least five years from "
            "the day it was sold, and the certificate may not show an expiration date.\n\n"
            "Can a shop charge a fee when a gift card is not used for a year? No dormancy "
            "or service fee may be charged on a gift card sold in the state.\n",
        },
    )
    qa.build()
    answer = qa.ask("May a meal gift certificate sold by a restaurant show an expiration date?")
    assert answer.citations
    assert not answer.citations[0].quote.rstrip().endswith("?")
    assert "five years" in answer.citations[0].quote


def test_a_lead_in_is_quoted_with_the_formula_or_the_lines_that_follow_it(tmp_path, embedder):
    """ "...can be estimated with the following formula:" says nothing without the formula,
    nor "...one of the following three categories:" without its items when a PDF turned
    their bullets into "!": the lead-in is quoted with the block that follows it, up to a
    blank line or a heading, verbatim."""
    qa = make_qa(
        tmp_path,
        embedder,
        {
            "decoder.md": "# Memory\n\n"
            "The Brillo decoder keeps its probability counters in one array. The memory "
            "that the Brillo decoder needs can be estimated with the following formula:\n\n"
            "    RAM = 4 KiB + 1.5 KiB * (1 << (lp + lc))\n\n"
            "Larger dictionaries are allocated separately by the caller.\n",
            "rules.txt": "Devices\n\n"
            "Section 9 of the Kestrin code forbids devices that fall within any one of the "
            "following three categories:\n"
            "! they are primarily designed to unlock sealed harbour meters;\n"
            "! they have only limited purpose other than unlocking them; or\n"
            "! they are marketed for unlocking them.\n"
            "No mandate\n"
            "Section 9 does not require makers of harbour meters to respond to any "
            "particular unlocking technique, nor to design their meters for it.\n",
        },
    )
    qa.build()
    memory = qa.ask("How can the memory the Brillo decoder needs be estimated?")
    assert any(
        "following formula:" in c.quote and "RAM = 4 KiB" in c.quote for c in memory.citations
    )
    assert all("Larger dictionaries" not in c.quote for c in memory.citations)
    devices = qa.ask("Which three categories of devices does section 9 of the Kestrin code forbid?")
    lead = devices.citations[0].quote
    assert "following three categories:" in lead and "marketed for unlocking" in lead
    assert "No mandate" not in lead
    for c in memory.citations + devices.citations:
        assert qa.documents[c.document].text[c.start : c.end] == c.quote


PLAIN_CHANGE_LOG = (
    "Harbour planner change log\n\n"
    "2024-05-02 Version 2.0.0\n"
    "   - Read tide tables from the port authority feed instead of the yearly file.\n"
    "   - Drop the old berth booking form.\n\n"
    "2023-01-12 Version 1.1.0\n"
    "   - Compute mooring fees per metre of hull length.\n"
    "   - Show the harbour master's phone number on every booking.\n\n"
    "2022-03-07 Version 1.0.0\n"
    "   - First release for the three harbours of the bay.\n"
)


def test_a_plain_text_change_log_answers_when_a_change_came_and_when_a_version_did(
    tmp_path, embedder
):
    """A change log in plain text gives each version's date once, on the line that heads
    its entry. A question about when a change came is answered from the change, with that
    line shown before it; a question about when a version came is answered by that line,
    which no other question quotes alone."""
    qa = make_qa(tmp_path, embedder, {"ChangeLog.txt": PLAIN_CHANGE_LOG})
    qa.build()
    change = qa.ask("When did the planner start computing mooring fees per metre of hull?")
    assert not change.abstained and "2023-01-12" in change.answer
    assert "mooring fees" in change.citations[0].quote
    version = qa.ask("What was the release date of version 1.0.0?")
    assert not version.abstained and "2022-03-07" in version.answer
    what = qa.ask("Which version dropped the old berth booking form?")
    assert not what.abstained and "Version 2.0.0" in what.answer
    assert all(not c.quote.startswith("2024-05-02") for c in what.citations)


def test_a_date_line_is_about_what_the_short_lines_beside_it_name(tmp_path, embedder):
    """A specification's header gives its author and date on lines too short to be
    sentences. A question about when that author's draft is dated finds the author on the
    line above the date, so the date line answers it; it does not answer for a reviewer
    whom another document names."""
    qa = make_qa(
        tmp_path,
        embedder,
        {
            "brillo.txt": "The Brillo container format\n\n"
            "Author: Maren Holt\n"
            "Date: 2019-04-21\n\n"
            "A Brillo container starts with a header of sixteen bytes. The header gives the "
            "size of the dictionary and the number of blocks that follow it. Each block is "
            "compressed on its own, so that a reader can seek to any of them.\n",
            "notes.txt": "Review notes\n\n"
            "Tomas Lind reviewed the Brillo container format and asked for a longer header. "
            "The Brillo container format keeps its header short so that small files stay "
            "small. Readers of the Brillo container format skip the blocks they do not need.\n",
            "index.txt": "The Brillo index format\n\n"
            "The Brillo index lists the blocks of a Brillo container with their offsets. An "
            "index is optional; without one a reader scans the container from its header.\n",
        },
    )
    qa.build()
    dated = qa.ask("What date is given on Maren Holt's draft of the Brillo container format?")
    assert not dated.abstained and "2019-04-21" in dated.answer
    other = qa.ask("What date is given on Tomas Lind's draft of the Brillo container format?")
    assert other.abstained and "gives a date about" in (other.abstain_reason or "")
