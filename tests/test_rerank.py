"""Reranking: the default needs no model; a user's CrossEncoder is wired in when configured."""

import numpy as np
import pytest

from qa.answer.rerank import make_reranker
from qa.config import Settings
from qa.errors import QAError

from conftest import hits_of, make_qa

DOCS = {
    "sweden.txt": "Sweden pledged a total of approximately EUR 6.5 billion over 2024-2026.",
    "norway.txt": "Norway is providing approximately EUR 6.4 billion for the period 2023-2027.",
    "latvia.txt": "Latvia set a target of 0.25% of GDP annually for military support.",
}


@pytest.fixture(scope="module")
def tiny_cross_encoder(tmp_path_factory) -> str:
    """A randomly initialised two-layer CrossEncoder saved to a local folder. It checks the
    wiring (loading by path, scoring pairs, reordering), not ranking quality: its scores are
    noise by construction."""
    from sentence_transformers import CrossEncoder

    from conftest import save_tiny_cross_encoder

    folder = tmp_path_factory.mktemp("tiny-cross-encoder")
    save_tiny_cross_encoder(folder, 2)
    CrossEncoder(str(folder))  # loads as a CrossEncoder
    return str(folder)


def test_a_configured_cross_encoder_orders_the_passages_by_its_own_scores(
    tmp_path, embedder, tiny_cross_encoder
):
    from sentence_transformers import CrossEncoder

    qa = make_qa(tmp_path, embedder, DOCS, reranker=f"cross-encoder:{tiny_cross_encoder}")
    qa.build()
    question = "How much does Norway provide?"
    answer = qa.ask(question, k=3)
    texts = [h.passage.text for h in answer.hits]
    scores = CrossEncoder(tiny_cross_encoder).predict([(question, t) for t in texts])
    assert list(np.argsort(-np.asarray(scores), kind="stable")) == [0, 1, 2]
    assert [h.rank for h in answer.hits] == [1, 2, 3]


def test_an_unknown_reranker_setting_is_refused_when_the_settings_are_read():
    with pytest.raises(QAError, match="sentences, none or cross-encoder"):
        Settings.from_env(reranker="magic")


def test_an_unknown_reranker_setting_says_what_is_allowed(embedder):
    with pytest.raises(QAError, match="sentences, none or cross-encoder"):
        make_reranker("magic", scorer=None)


def test_the_default_reranker_needs_no_model_and_puts_the_answering_passage_first(
    tmp_path, embedder
):
    qa = make_qa(tmp_path, embedder, DOCS)
    qa.build()
    assert qa.settings.reranker == "sentences"
    assert (
        qa.ask("What GDP share did Latvia target?", k=3).hits[0].passage.doc_id
        == "corpus/latvia.txt"
    )


def test_the_default_reranker_fuses_its_sentence_order_with_the_retrieval_order(embedder):
    """The passage retrieval ranked first keeps its place against one whose sentence
    scores higher; the sentence order alone lost answering passages that retrieval ranked
    first (the manuals collection): the two orders are fused by reciprocal rank."""
    from qa.answer.question import analyse
    from qa.answer.rerank import SentenceReranker
    from qa.answer.scoring import SentenceScorer

    texts = [
        "Retransmission of the last packet happens after a timeout of five seconds.",
        "The weather in the valley was mild for most of the year.",
        "What GDP share did Latvia target? Latvia targeted 0.25% of GDP for support.",
    ]
    hits = hits_of(texts, 0.5)
    scorer = SentenceScorer(embedder)
    question = analyse("What GDP share did Latvia target?", ["en"])
    query = embedder.embed_queries([question.text])[0]
    scored = scorer.score(question, query, scorer.candidates(hits))
    assert max(scored, key=lambda s: s.score).hit is hits[2]  # sentence order: d2 first
    order = [h.passage.doc_id for h in SentenceReranker(scorer)(question, query, hits)]
    assert order[0] == "d0" and order[1] == "d2"  # fused: retrieval's first keeps its place
    assert [h.rank for h in SentenceReranker(scorer)(question, query, hits)] == [1, 2, 3]
