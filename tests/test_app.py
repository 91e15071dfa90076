"""The real app: `qa serve` in a subprocess on a free port, queried with gradio_client."""

import json

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
    assert all(c["title"] for c in data["citations"])
    assert all(c["page"] > 0 for c in data["citations"] if "glass-half-full" in c["document"])


def test_the_api_documents_every_parameter_and_the_shape_of_every_answer(server):
    from gradio_client import Client

    url, _ = server
    api = Client(url, verbose=False).view_api(print_info=False, return_format="dict")
    endpoints = api["named_endpoints"]
    assert {"/ask", "/documents", "/source", "/upload", "/describe", "/remove"} <= set(endpoints)
    for name, endpoint in endpoints.items():
        for p in endpoint["parameters"]:
            assert p["python_type"]["description"], f"{name} {p['parameter_name']}: no description"
            assert "Api component" not in p["python_type"]["description"]
        for r in endpoint["returns"]:
            assert r["python_type"]["description"], f"{name}: return not described"
            assert r["python_type"]["type"] not in ("Any", "dict", "Dict(Any)")
    ask = endpoints["/ask"]
    assert [p["parameter_name"] for p in ask["parameters"]][:2] == ["question", "k"]
    assert "citations: list[dict(n: int" in ask["returns"][0]["python_type"]["type"]


def test_the_language_model_answerer_is_offered_only_when_a_model_is_configured(tmp_path, embedder):
    from qa.app.app import build_app

    docs = {"a.txt": "Some text about harbours."}
    plain = make_qa(tmp_path / "plain", embedder, docs)
    assert '"elem_id": "answerer"' not in json.dumps(
        build_app(plain).get_config_file(), default=str
    )
    model = make_qa(tmp_path / "model", embedder, docs, llm_model="llama3.2")
    assert '"elem_id": "answerer"' in json.dumps(build_app(model).get_config_file(), default=str)


def test_ask_endpoint_refuses_an_empty_question_with_a_message(server):
    from gradio_client import Client

    url, _ = server
    client = Client(url, verbose=False)
    with pytest.raises(Exception, match="empty"):
        client.predict("   ", 5, api_name="/ask")


def test_citation_cards_escape_markup_from_documents(tmp_path, embedder):
    from qa.app.views import answer_markdown, cards_html

    qa = make_qa(
        tmp_path,
        embedder,
        {
            "page.md": "The agreement <script>alert('x')</script> was signed for 10 years by "
            "Denmark and <b>Ukraine</b> in February.",
        },
    )
    qa.build()
    answer = qa.ask("How long is the Denmark agreement valid?")
    assert not answer.abstained
    html = cards_html(answer)
    assert "<script>" not in html and "&lt;script&gt;" in html and "<b>" not in html
    assert "<script>" not in answer_markdown(answer).replace("\\<script>", "")


def test_a_citation_card_names_the_section_the_answer_states(tmp_path, embedder):
    """Release notes: the card's reference and the copied citation carry the release the
    quote sits under, as the answer states it, so that a briefing quoting it says which."""
    from test_answer import RELEASE_NOTES

    from qa.app.views import cards_html

    qa = make_qa(tmp_path, embedder, {"notes.md": RELEASE_NOTES})
    qa.build()
    answer = qa.ask("How are mooring fees computed since release 6.1?")
    html = cards_html(answer)
    assert "§ Release 6.1 - 2023-01-10 › Changed" in html
    assert "Harbour planner release notes, § Release 6.1 - 2023-01-10 › Changed" in html


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


def test_the_api_lists_documents_serves_sources_and_takes_uploads(server, tmp_path):
    from gradio_client import Client, handle_file

    url, _ = server
    client = Client(url, verbose=False)
    docs = {d["doc_id"]: d for d in client.predict(api_name="/documents")}
    report_id = next(d for d in docs if "making-the-glass" in d)
    assert docs[report_id]["pages"] > 1 and docs[report_id]["passages"] > 10
    source = client.predict(report_id, api_name="/source")
    answer = client.predict("How much did Sweden pledge?", 3, api_name="/ask")
    c = answer["citations"][0]
    assert source["text"][c["start"] : c["end"]] == c["quote"]

    note = tmp_path / "Velmora note.txt"
    note.write_text("The Velmora protocol sets up a joint cyber defence centre in Lviv.")
    added = client.predict(handle_file(str(note)), api_name="/upload")
    assert added["added"] == ["corpus/uploads/Velmora-note.txt"]
    answer = client.predict("Where is the Velmora cyber defence centre?", 3, api_name="/ask")
    assert answer["citations"][0]["document"] == "corpus/uploads/Velmora-note.txt"
    with pytest.raises(Exception, match="already indexed"):
        client.predict(handle_file(str(note)), api_name="/upload")

    described = client.predict(
        "corpus/uploads/Velmora-note.txt",
        "Velmora protocol",
        "Lviv City Council",
        "2025-03",
        "",
        api_name="/describe",
    )
    assert described["updated"] == ["corpus/uploads/Velmora-note.txt"]
    answer = client.predict("Where is the Velmora cyber defence centre?", 3, api_name="/ask")
    cited = answer["citations"][0]
    assert (cited["title"], cited["publisher"], cited["date"]) == (
        "Velmora protocol",
        "Lviv City Council",
        "2025-03",
    )
    with pytest.raises(Exception, match="only uploaded documents"):
        client.predict(report_id, "A report", api_name="/describe")


def test_the_ask_endpoint_applies_filters(server):
    from gradio_client import Client

    url, _ = server
    client = Client(url, verbose=False)
    answer = client.predict(
        "When was the agreement signed?", 5, [], [], ["vi"], "", "", api_name="/ask"
    )
    assert answer["filters"]["languages"] == ["vi"]
    assert {p["language"] for p in answer["passages"]} == {"vi"}


@pytest.mark.parametrize(
    "host, share, auth, warns",
    [
        ("127.0.0.1", False, None, False),
        ("0.0.0.0", False, None, True),
        ("0.0.0.0", False, ("u", "p"), False),
        ("127.0.0.1", True, None, True),
        ("127.0.0.1", True, ("u", "p"), False),
    ],
)
def test_serving_beyond_this_machine_without_a_login_warns(host, share, auth, warns):
    from qa.app.app import exposure_warning

    assert (exposure_warning(host, share, auth) is not None) == warns


def test_an_answer_shows_figures_its_sources_disagree_on_side_by_side(tmp_path, embedder):
    from qa.app.views import answer_markdown

    qa = make_qa(
        tmp_path,
        embedder,
        {
            "a.md": "# Kyiv Post\n\nUkraine has signed 21 bilateral security agreements so far.",
            "b.md": "# Policy brief\n\nSo far Ukraine has signed 17 bilateral security agreements.",
        },
    )
    qa.build()
    answer = qa.ask("How many bilateral security agreements has Ukraine signed?", k=5)
    text = answer_markdown(answer)
    assert "Sources disagree" in text
    assert f"Confidence {answer.confidence:.2f} that this answer is right." in text
    assert "**21**" in text and "**17**" in text and "Kyiv Post" in text and "Policy brief" in text


def test_the_app_takes_its_title_and_examples_from_settings_not_from_one_corpus(tmp_path, embedder):
    from qa.app.app import build_app

    plain = make_qa(tmp_path / "plain", embedder, {"a.txt": "Some text about harbours."})
    config = build_app(plain).get_config_file()
    assert config["title"] == "Ask the documents — cited answers"
    assert "Sweden" not in json.dumps(config, default=str)  # no examples for the shipped corpus
    named = make_qa(
        tmp_path / "named",
        embedder,
        {"a.txt": "Some text about harbours."},
        app_title="Harbour reports",
        examples="Which harbour is largest?|Who runs the ferries?",
    )
    text = json.dumps(build_app(named).get_config_file(), default=str)
    assert "Harbour reports" in text and "Who runs the ferries?" in text
