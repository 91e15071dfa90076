"""The llm answerer: what a model writes is checked sentence by sentence against the passage
it cites before anyone sees it, and every failure of the model server ends in the extractive
answer with a message. A small local server speaking the chat-completions protocol serves
fixed replies (it stands in for the user's model server); the embedding model and the index
are the real ones."""

import json
import os
import socket
import subprocess
import sys
import time
from dataclasses import replace

import numpy as np
import pytest
from fake_llm import FakeLLMServer

from qa.answer.llm import LLMClient, build_messages
from qa.answer.verify import (
    calibrate_similarity,
    finished_sentences,
    is_refusal,
    missing_facts,
    split_generated,
)
from qa.api import QA
from qa.config import Settings
from qa.documents import CHECKED, UNSUPPORTED, VERBATIM
from qa.errors import QAError

QUESTION = "How much did Sweden and Norway pledge to Ukraine?"
SWEDEN = "Sweden pledged approximately EUR 6.5 billion over 2024–2026"


@pytest.fixture(scope="module")
def server():
    srv = FakeLLMServer()
    yield srv
    srv.close()


@pytest.fixture()
def llm_qa(corpus_qa, server):
    """The session's corpus index, asked with the llm answerer of the fake server."""
    server.reply, server.status, server.delay, server.error_message = "", None, 0.0, None
    server.hang_up = False
    server.requests.clear()
    settings = replace(
        corpus_qa.settings,
        answerer="llm",
        llm_base_url=server.url,
        llm_model=server.model,
        llm_timeout=10.0,
    )
    return QA(settings, embedder=corpus_qa.embedder)


def passage_number(qa: QA, question: str, text: str) -> int:
    """The [n] under which the prompt gives the passage that contains `text`."""
    hits = qa.ask(question, answerer="extractive").hits
    return next(i for i, h in enumerate(hits, start=1) if text in h.passage.text)


def other_passage_number(qa: QA, question: str, lacking: str) -> int:
    hits = qa.ask(question, answerer="extractive").hits
    return next(i for i, h in enumerate(hits, start=1) if lacking not in h.passage.text)


# --- the model's text, split and checked (no model needed) ----------------------------


@pytest.mark.parametrize(
    "text, expected",
    [
        (
            "Sweden pledged EUR 6.5 billion [1]. Norway gives more [2].",
            [("Sweden pledged EUR 6.5 billion.", (1,)), ("Norway gives more.", (2,))],
        ),
        (
            "Sweden pledged EUR 6.5 billion. [1] Norway gives more. [2][3]",
            [("Sweden pledged EUR 6.5 billion.", (1,)), ("Norway gives more.", (2, 3))],
        ),
        (
            "Both pledged [1, 2]. No source here.",
            [("Both pledged.", (1, 2)), ("No source here.", ())],
        ),
        (
            "- Sweden pledged [Passage 4].\n- Norway too [2]",
            [("Sweden pledged.", (4,)), ("Norway too", (2,))],
        ),
        (
            "<think>Passage 1 says 6.5.</think>Sweden pledged EUR 6.5 billion [1].",
            [("Sweden pledged EUR 6.5 billion.", (1,))],
        ),
        (
            "1. Sweden pledged [1].\n2. Norway too [2].",
            [("Sweden pledged.", (1,)), ("Norway too.", (2,))],
        ),
    ],
)
def test_generated_text_splits_into_sentences_with_the_passages_each_cites(text, expected):
    assert [(s.text, s.cited) for s in split_generated(text)] == expected


def test_while_streaming_only_sentences_that_can_no_longer_change_are_finished():
    partial = "Sweden pledged EUR 6.5 billion. [1] Norway is provid"
    assert [s.text for s in finished_sentences(partial, done=False)] == [
        "Sweden pledged EUR 6.5 billion."
    ]
    assert finished_sentences("Sweden pledged EUR 6.5 billion.", done=False) == []
    assert len(finished_sentences("Sweden pledged EUR 6.5 billion. [1]", done=True)) == 1


def test_a_refusal_is_recognised_and_a_cited_answer_is_not_one():
    assert is_refusal("The documents do not answer this.")
    assert is_refusal("I'm sorry, the passages don't mention that.")
    assert not is_refusal("Sweden pledged EUR 6.5 billion [1].")


PASSAGE = (
    "Sweden pledged a total amount of approximately EUR 6.5 billion over the period of "
    "2024–2026. It calls Ukraine “the largest recipient of Swedish foreign aid”. The "
    "agreement runs for ten years."
)


@pytest.mark.parametrize(
    "sentence, missing",
    [
        ("Sweden pledged about EUR 6.5 billion for 2024–2026.", []),
        ("Sweden pledged about EUR 7.5 billion for 2024–2026.", ["7.5"]),
        ("Finland pledged about EUR 6.5 billion.", ["Finland"]),
        ("Swedish aid to Ukraine runs for 10 years.", []),  # a form of the name; ten = 10
        ("It calls Ukraine “the biggest recipient of aid”.", ["“the biggest recipient of aid”"]),
        ("The pledge was signed in March 2025.", ["2025", "March"]),
        ("Sweden's aid follows the Euro-Atlantic model.", ["Euro", "Atlantic"]),
    ],
)
def test_numbers_names_dates_and_quotes_must_occur_in_the_cited_passage(sentence, missing):
    assert missing_facts(sentence, PASSAGE, common=lambda w: False) == missing


def test_similarity_threshold_is_calibrated_on_sentences_of_different_passages():
    rng = np.random.default_rng(1)
    v = rng.normal(size=(40, 8)).astype(np.float32)
    v /= np.linalg.norm(v, axis=1, keepdims=True)
    per_passage = [4] * 10
    passage_of = np.repeat(np.arange(10), 4)
    sims = (v @ v.T)[np.triu(passage_of[:, None] != passage_of[None, :], 1)]
    assert calibrate_similarity(v, per_passage) == pytest.approx(np.percentile(sims, 95))
    assert calibrate_similarity(v[:2], [2]) == 0.5  # one passage: nothing to calibrate on


def test_the_prompt_numbers_the_passages_and_asks_for_citations_or_a_refusal(corpus_qa):
    answer = corpus_qa.ask(QUESTION, answerer="extractive")
    system, user = build_messages(QUESTION, list(answer.hits), corpus_qa.documents)
    assert "[2]" in system["content"] and "The documents do not answer this." in system["content"]
    for n, hit in enumerate(answer.hits, start=1):
        assert f"[{n}] " in user["content"]
        assert " ".join(hit.passage.text.split()) in user["content"]
    assert user["content"].endswith(f"Question: {QUESTION}")


# --- answers from a model server ------------------------------------------------------


def test_a_supported_sentence_is_shown_as_checked_with_its_supporting_quote(llm_qa, server):
    n = passage_number(llm_qa, QUESTION, "Sweden pledged")
    server.reply = f"{SWEDEN} [{n}]."
    answer = llm_qa.ask(QUESTION)
    assert not answer.abstained and answer.notice is None
    assert answer.answer == f"{SWEDEN}. [1]"
    (s,) = answer.sentences
    assert s.kind == CHECKED and s.citations == (1,)
    c = answer.citations[0]
    assert "Sweden pledged a total amount of approximately EUR 6.5 billion" in c.quote
    assert llm_qa.documents[c.document].text[c.start : c.end] == c.quote
    assert s.passages == (c.passage_id,) and c.passage_id in {
        h.passage.passage_id for h in answer.hits
    }
    assert answer.generation.accepted == 1 and answer.generation.removed == ()


@pytest.mark.parametrize(
    "bad, reason",
    [
        ("Sweden pledged approximately EUR 7.5 billion over 2024–2026 [{n}].", "7.5"),
        ("Finland pledged approximately EUR 6.5 billion over 2024–2026 [{n}].", "Finland"),
        ("Sweden pledged approximately EUR 6.5 billion over 2024–2026.", "no citation"),
        (SWEDEN + " [{wrong}].", "the cited passage"),
        (SWEDEN + " [42].", "only passages 1–"),
    ],
    ids=["wrong-number", "invented-name", "missing-citation", "wrong-passage", "no-such-passage"],
)
def test_an_unsupported_sentence_is_removed_and_listed_with_the_reason(llm_qa, server, bad, reason):
    n = passage_number(llm_qa, QUESTION, "Sweden pledged")
    wrong = other_passage_number(llm_qa, QUESTION, "6.5 billion")
    norway = passage_number(llm_qa, QUESTION, "Norway is providing")
    good = f"Norway is providing approximately EUR 6.4 billion for 2023–2027 [{norway}]."
    server.reply = f"{bad.format(n=n, wrong=wrong)} {good}"
    answer = llm_qa.ask(QUESTION)
    assert [s.kind for s in answer.sentences] == [CHECKED]
    assert "6.4 billion" in answer.answer and "Sweden" not in answer.answer
    (removed,) = answer.generation.removed
    assert removed.kind == UNSUPPORTED and reason in removed.reason
    assert "removed: not supported by the cited passage" in answer.notice


def test_when_no_sentence_survives_the_extractive_answer_is_shown_and_says_so(llm_qa, server):
    extractive = llm_qa.ask(QUESTION, answerer="extractive")
    server.reply = "Finland pledged EUR 9 billion [1]. Everyone agreed."
    answer = llm_qa.ask(QUESTION)
    assert answer.answer == extractive.answer and answer.citations == extractive.citations
    assert "extractive answer" in answer.notice and "supported" in answer.notice
    assert {s.kind for s in answer.sentences} == {VERBATIM}
    assert len(answer.generation.removed) == 2 and answer.generation.fallback


def test_a_refusal_gives_the_extractive_answer_with_a_notice(llm_qa, server):
    server.reply = "The documents do not answer this."
    answer = llm_qa.ask(QUESTION)
    assert "found no answer" in answer.notice and not answer.abstained
    assert answer.answer == llm_qa.ask(QUESTION, answerer="extractive").answer


def test_a_question_the_documents_do_not_answer_is_not_sent_to_the_model(llm_qa, server):
    answer = llm_qa.ask("What is a good recipe for banana bread?")
    assert answer.abstained and server.requests == []


def test_streaming_yields_checked_sentences_only_and_ends_with_the_same_answer(llm_qa, server):
    n = passage_number(llm_qa, QUESTION, "Sweden pledged")
    norway = passage_number(llm_qa, QUESTION, "Norway is providing")
    server.reply = (
        f"{SWEDEN} [{n}]. Finland pledged EUR 9 billion [{n}]. Norway is providing "
        f"approximately EUR 6.4 billion for 2023–2027 [{norway}]."
    )
    partials = list(llm_qa.ask_stream(QUESTION))
    assert [a.final for a in partials] == [False] * (len(partials) - 1) + [True]
    assert partials[0].answer == "" and partials[0].hits  # the passages show at once
    assert len(partials) >= 3  # sentence by sentence
    assert all("Finland" not in a.answer for a in partials)
    assert server.requests[-1]["body"]["stream"] is True
    plain = llm_qa.ask(QUESTION)
    assert server.requests[-1]["body"]["stream"] is False
    assert partials[-1].to_dict() | {"generation": None} == plain.to_dict() | {"generation": None}


@pytest.mark.parametrize(
    "fault, message",
    [
        ("down", "No language model server answers at"),
        ("wrong-model", "does not know the model 'no-such-model'"),
        (429, "rate limit"),
        (500, "failed (HTTP 500)"),
        ("slow", "did not finish its answer within 1 s"),
        ("hang-up", "broke off its reply"),
    ],
)
def test_server_failures_give_a_clear_message_and_the_extractive_answer_quickly(
    llm_qa, server, fault, message
):
    settings = llm_qa.settings
    if fault == "down":
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            port = s.getsockname()[1]
        settings = replace(settings, llm_base_url=f"http://127.0.0.1:{port}/v1")
    elif fault == "wrong-model":
        settings = replace(settings, llm_model="no-such-model")
    elif fault == "slow":
        server.delay, settings = 30.0, replace(settings, llm_timeout=1.0)
    elif fault == "hang-up":
        server.hang_up = True
    else:
        server.status = fault
    server.reply = f"{SWEDEN} [1]."
    qa = QA(settings, embedder=llm_qa.embedder)
    started = time.monotonic()
    extractive = qa.ask(QUESTION, answerer="extractive")
    extractive_seconds = time.monotonic() - started
    started = time.monotonic()
    answer = qa.ask(QUESTION)
    # bounded: the extractive answer, then at most the 1 s timeout (the slow server would
    # take 30 s), with slack for a busy machine
    assert time.monotonic() - started < 2 * extractive_seconds + 8
    assert message in answer.notice and "extractive answer" in answer.notice
    assert answer.generation.error and answer.answer == extractive.answer
    streamed = list(qa.ask_stream(QUESTION))[-1]
    assert streamed.notice == answer.notice


def test_the_api_key_is_sent_but_never_shown_in_messages_or_reprs(llm_qa, server):
    secret = "sk-test-5f3a9c1e0b"
    os.environ["QA_TEST_LLM_KEY"] = secret
    try:
        settings = replace(llm_qa.settings, llm_api_key_env="QA_TEST_LLM_KEY")
        qa = QA(settings, embedder=llm_qa.embedder)
        server.status = 401
        answer = qa.ask(QUESTION)
        assert server.requests[-1]["headers"]["authorization"] == f"Bearer {secret}"
        assert "QA_TEST_LLM_KEY" in answer.notice
        server.status, server.error_message = 500, f"key {secret} is no good"  # echoes it
        client = LLMClient.from_settings(settings)
        text = json.dumps(qa.ask(QUESTION).to_dict()) + repr(client) + repr(settings)
        assert secret not in text and secret not in answer.notice
        assert client._scrub(f"bad key {secret}") == "bad key ***"
    finally:
        del os.environ["QA_TEST_LLM_KEY"]


def test_the_extractive_answer_json_is_unchanged_and_llm_answers_add_their_fields(llm_qa, server):
    extractive = llm_qa.ask(QUESTION, answerer="extractive").to_dict()
    assert set(extractive) == {
        "question",
        "answer",
        "abstained",
        "abstain_reason",
        "language",
        "margin",
        "confidence",
        "answerable",
        "index_version",
        "filters",
        "citations",
        "disagreements",
        "passages",
    }
    server.reply = f"{SWEDEN} [{passage_number(llm_qa, QUESTION, 'Sweden pledged')}]."
    data = llm_qa.ask(QUESTION).to_dict()
    assert set(data) - set(extractive) == {"answerer", "notice", "final", "sentences", "generation"}
    assert data["sentences"][0]["kind"] == "checked" and data["generation"]["accepted"] == 1


def test_settings_refuse_an_unknown_answerer_or_checker():
    with pytest.raises(QAError, match="extractive or llm"):
        Settings(answerer="magic")
    with pytest.raises(QAError, match="embedding or cross-encoder"):
        Settings(llm_checker="vibes")
    assert (
        Settings.from_env({"QA_ANSWERER": "llm", "QA_LLM_MODEL": "llama3.2"}).llm_model
        == "llama3.2"
    )


def test_a_configured_nli_cross_encoder_judges_entailment(llm_qa, server, tmp_path):
    """A tiny random three-label CrossEncoder: checks the wiring (entailment label found,
    probability used, reason given), not judgement: its outputs are noise by design."""
    from sentence_transformers import CrossEncoder

    from qa.answer.verify import EntailmentJudge

    from conftest import save_tiny_cross_encoder

    save_tiny_cross_encoder(tmp_path, 1, {0: "contradiction", 1: "entailment", 2: "neutral"})
    judge = EntailmentJudge(str(tmp_path))
    logits = CrossEncoder(str(tmp_path)).predict([(PASSAGE, "Sweden pledged.")])[0]
    expected = np.exp(logits[1]) / np.exp(logits).sum()
    assert judge.entailment == 1
    assert judge.probability(PASSAGE, "Sweden pledged.") == pytest.approx(expected, rel=1e-4)
    qa = QA(
        replace(llm_qa.settings, llm_checker=f"cross-encoder:{tmp_path}"), embedder=llm_qa.embedder
    )
    server.reply = f"{SWEDEN} [{passage_number(qa, QUESTION, 'Sweden pledged')}]."
    answer = qa.ask(QUESTION)
    gen = answer.generation
    assert gen.accepted + len(gen.removed) == 1
    assert all("entail" in s.reason for s in gen.removed)


def test_faithfulness_figures_count_accepted_and_removed_sentences(llm_qa, server):
    from qa.eval import GoldItem, evaluate, format_report

    n = passage_number(llm_qa, QUESTION, "Sweden pledged")
    server.reply = f"{SWEDEN} [{n}]. Sweden pledged EUR 9 billion [{n}]. Norway did too."
    items = [GoldItem("a", QUESTION, "en", "number", True, [["6.5 billion"]], ["Sweden pledged"])]
    report = evaluate(items, llm_qa.ask)
    o = report.overall
    assert (o["llm_sentences"], o["faithfulness"], o["removed"]) == (
        3,
        round(1 / 3, 4),
        round(2 / 3, 4),
    )
    assert o["llm_fallback"] == 0.0 and o["llm_errors"] == 0.0
    assert "Language model answers" in format_report(report)
    plain = evaluate(items, lambda q: llm_qa.ask(q, answerer="extractive")).overall
    assert "faithfulness" not in plain


def test_qa_ask_answerer_llm_on_the_command_line(corpus_qa, server, tmp_path):
    server.reply, server.status, server.delay = f"{SWEDEN} [1]. Finland paid it all [1].", None, 0
    server.error_message = None
    env = {
        **os.environ,
        "QA_INDEX_DIR": str(corpus_qa.settings.index_dir),
        "QA_LLM_BASE_URL": server.url,
        "QA_LLM_MODEL": server.model,
    }
    run = [sys.executable, "-m", "qa.cli", "ask", QUESTION, "--answerer", "llm"]
    out = subprocess.run(run, env=env, cwd=tmp_path, capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr
    assert "Removed, not supported by the cited passage:" in out.stdout
    assert "Finland paid it all." in out.stdout.split("Removed")[1]
    env["QA_LLM_BASE_URL"] = "http://127.0.0.1:9/v1"  # nothing listens there
    out = subprocess.run(
        [*run, "--json"], env=env, cwd=tmp_path, capture_output=True, text=True, timeout=300
    )
    data = json.loads(out.stdout)
    assert out.returncode == 0 and data["answerer"] == "llm"
    assert "No language model server answers" in data["notice"] and data["citations"]


def test_the_app_marks_generated_sentences_as_checked_and_shows_why_text_was_removed(
    llm_qa, server
):
    from qa.app.views import answer_markdown, cards_html

    n = passage_number(llm_qa, QUESTION, "Sweden pledged")
    server.reply = f"{SWEDEN} [{n}]. Finland pledged EUR 9 billion [{n}]."
    answer = llm_qa.ask(QUESTION)
    text = answer_markdown(answer)
    assert "generated, checked" in text and "**[1]**" in text
    assert "Finland" not in text.split("\n\n")[0]  # the removed sentence is not shown as fact
    assert answer.notice and md_unescape(answer.notice)[:20] in md_unescape(text)
    assert "Sweden pledged a total amount" in cards_html(answer)  # the supporting quote
    extractive = llm_qa.ask(QUESTION, answerer="extractive")
    assert "generated" not in answer_markdown(extractive)


def md_unescape(text: str) -> str:
    import re

    return re.sub(r"\\(.)", r"\1", text)


def test_the_app_api_takes_the_answerer_switch(llm_qa, server):
    from gradio_client import Client

    from qa.app.app import build_app

    from conftest import free_port

    n = passage_number(llm_qa, QUESTION, "Sweden pledged")
    server.reply = f"{SWEDEN} [{n}]."
    app = build_app(llm_qa)
    port = free_port()
    app.launch(server_port=port, prevent_thread_lock=True, quiet=True)
    try:
        client = Client(f"http://127.0.0.1:{port}/", verbose=False)
        generated = client.predict(QUESTION, 5, [], [], [], "", "", "llm", api_name="/ask")
        assert [s["kind"] for s in generated["sentences"]] == ["checked"]
        quoted = client.predict(QUESTION, 5, [], [], [], "", "", "extractive", api_name="/ask")
        assert "sentences" not in quoted or not quoted["sentences"]
    finally:
        app.close()
