"""The real app: `qa serve` in a subprocess on a free port, queried with gradio_client."""

import pytest

from conftest import make_qa, start_server, stop_server


@pytest.fixture(scope="module")
def server(served_corpus):
    return served_corpus


def test_first_start_builds_the_index_with_progress(server):
    url, root = server
    log = (root / "serve.log").read_text()
    assert "Built the index: 5 documents" in log and "Embedding" in log
    assert (root / "index" / "CURRENT").exists()


def test_ask_endpoint_answers_with_citations(server):
    from gradio_client import Client

    url, _ = server
    client = Client(url, verbose=False)
    data = client.predict("What did Sweden and Norway pledge?", 5, api_name="/ask")
    assert not data["abstained"]
    assert any("6.5 billion" in c["quote"] for c in data["citations"])
    assert all(c["title"] and c["page"] for c in data["citations"])


def test_ask_endpoint_refuses_an_empty_question_with_a_message(server):
    from gradio_client import Client

    url, _ = server
    client = Client(url, verbose=False)
    with pytest.raises(Exception, match="empty"):
        client.predict("   ", 5, api_name="/ask")


def test_citation_cards_escape_markup_from_documents(tmp_path, embedder):
    from qa.app import answer_markdown, cards_html

    qa = make_qa(tmp_path, embedder, {
        "page.md": "The agreement <script>alert('x')</script> was signed for 10 years by "
                   "Denmark and <b>Ukraine</b> in February.",
    })  # fmt: skip
    qa.build()
    answer = qa.ask("How long is the Denmark agreement valid?")
    assert not answer.abstained
    html = cards_html(answer)
    assert "<script>" not in html and "&lt;script&gt;" in html and "<b>" not in html
    assert "<script>" not in answer_markdown(answer).replace("\\<script>", "")


def test_with_qa_auth_the_api_refuses_clients_without_the_login(tmp_path, embedder):
    from gradio_client import Client
    from gradio_client.exceptions import AuthenticationError

    make_qa(tmp_path, embedder, {"a.txt": "Sweden pledged EUR 6.5 billion over 2024-2026."})
    proc, url = start_server(tmp_path, {"QA_AUTH": "demo:s3cret"})
    try:
        with pytest.raises(AuthenticationError, match="credentials"):
            Client(url, verbose=False).predict("What did Sweden pledge?", 3, api_name="/ask")
        client = Client(url, auth=("demo", "s3cret"), verbose=False)
        assert (
            "6.5 billion" in client.predict("What did Sweden pledge?", 3, api_name="/ask")["answer"]
        )
    finally:
        stop_server(proc)
