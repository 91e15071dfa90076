"""Host checks against DNS rebinding, and a read-only library beyond loopback without a login.

Every request goes to 127.0.0.1: a foreign name is sent in the Host header only."""

import http.client
import json
from urllib.parse import urlsplit

import pytest

from qa.app.hosts import host_allowed, served_hosts

from conftest import make_qa, start_server, stop_server

SERVED = served_hosts("127.0.0.1", 7860, ["qa.example.org", "lan.example:8443", ".corp.example"])


@pytest.mark.parametrize(
    "host, allowed",
    [
        ("127.0.0.1:7860", True),
        ("localhost:7860", True),
        ("LOCALHOST:7860", True),
        ("localhost.:7860", True),
        ("[::1]:7860", True),
        ("qa.example.org", True),
        ("qa.example.org:443", True),
        ("lan.example:8443", True),
        ("docs.corp.example:7860", True),
        ("corp.example", True),
        ("evil.example:7860", False),
        ("127.0.0.1:7861", False),
        ("localhost", False),
        ("lan.example:7860", False),
        ("qa.example.org.evil.example", False),
        ("evilcorp.example", False),
        ("[::1]x:7860", False),
        ("", False),
        (None, False),
    ],
)
def test_host_allowed_answers_only_the_served_names(host, allowed):
    assert host_allowed(host, SERVED) is allowed


@pytest.mark.parametrize(
    "host, share, extra, expected",
    [
        ("127.0.0.1", False, [], ["127.0.0.1:80", "localhost:80", "[::1]:80"]),
        ("0.0.0.0", False, [], ["127.0.0.1:80", "localhost:80", "[::1]:80"]),
        ("10.0.0.5", False, [], ["127.0.0.1:80", "localhost:80", "[::1]:80", "10.0.0.5:80"]),
        (
            "fe80::1",
            False,
            ["x"],
            ["127.0.0.1:80", "localhost:80", "[::1]:80", "[fe80::1]:80", "x"],
        ),
        ("127.0.0.1", True, [], ["127.0.0.1:80", "localhost:80", "[::1]:80", ".gradio.live"]),
    ],
)
def test_served_hosts_are_loopback_the_host_given_and_the_setting(host, share, extra, expected):
    assert served_hosts(host, 80, extra, share) == expected


def test_a_star_in_the_allowed_hosts_answers_any_host():
    assert host_allowed("anything.example:1", ["*"])


def test_allowed_hosts_that_are_urls_are_refused_with_a_message():
    from qa.config import Settings
    from qa.errors import QAError

    with pytest.raises(QAError, match="without a scheme"):
        Settings(allowed_hosts="https://qa.example.org/")


def request(url: str, method: str, path: str, host: str, body=None, content_type=None):
    """(status, body) of one raw request to the server at `url` (127.0.0.1), with this Host."""
    port = urlsplit(url).port
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    headers = {"Host": host}
    if body is not None:
        headers["Content-Type"] = content_type or "application/json"
        body = body if isinstance(body, bytes) else json.dumps(body).encode()
    try:
        conn.request(method, path, body=body, headers=headers)
        response = conn.getresponse()
        return response.status, response.read().decode("utf-8", "replace")
    finally:
        conn.close()


def upload_to_gradio(url: str, host: str) -> tuple[int, str]:
    boundary = "qa-test-boundary"
    form = (
        f'--{boundary}\r\nContent-Disposition: form-data; name="files"; filename="n.txt"\r\n'
        f"Content-Type: text/plain\r\n\r\nhello\r\n--{boundary}--\r\n"
    ).encode()
    return request(
        url,
        "POST",
        "/gradio_api/upload",
        host,
        form,
        f"multipart/form-data; boundary={boundary}",
    )


def documents(url: str, host: str) -> str:
    """The `/documents` endpoint's result stream, called and read with raw requests."""
    status, text = request(url, "POST", "/gradio_api/call/documents", host, {"data": []})
    assert status == 200, text
    event = json.loads(text)["event_id"]
    status, text = request(url, "GET", f"/gradio_api/call/documents/{event}", host)
    assert status == 200 and "event: complete" in text, text
    return text


@pytest.fixture(scope="module")
def guarded(tmp_path_factory, embedder):
    """An app on loopback that also answers qa.example.org (QA_ALLOWED_HOSTS), and the path
    of a file in Gradio's cache (uploaded with a served host)."""
    root = tmp_path_factory.mktemp("hosts")
    make_qa(root, embedder, {"a.txt": "Sweden pledged EUR 6.5 billion over 2024-2026."})
    proc, url = start_server(root, {"QA_ALLOWED_HOSTS": "qa.example.org"})
    port = urlsplit(url).port
    status, body = upload_to_gradio(url, f"127.0.0.1:{port}")
    assert status == 200, body
    yield url, port, json.loads(body)[0]
    stop_server(proc)


def routes(cached: str) -> list[tuple[str, str, object]]:
    """(method, path, JSON body) of the page, the API, the file route and the queue."""
    return [
        ("GET", "/", None),
        ("GET", "/config", None),
        ("POST", "/gradio_api/call/documents", {"data": []}),
        ("POST", "/gradio_api/call/source", {"data": ["corpus/a.txt"]}),
        ("POST", "/gradio_api/call/remove", {"data": ["corpus/a.txt"]}),
        ("GET", f"/gradio_api/file={cached}", None),
        ("POST", "/gradio_api/queue/join", {"data": [], "fn_index": 0, "session_hash": "s1"}),
        ("GET", "/gradio_api/queue/data?session_hash=s1", None),
    ]


def test_a_foreign_host_is_refused_on_the_page_api_files_and_queue(guarded):
    url, port, cached = guarded
    for method, path, body in routes(cached):
        status, text = request(url, method, path, f"evil.example:{port}", body)
        assert (path, status) == (path, 400)
        assert text.startswith("Refused: this app does not serve the host 'evil.example")
        assert text.count("\n") == 1
    assert upload_to_gradio(url, f"evil.example:{port}")[0] == 400
    assert "corpus/a.txt" in documents(url, f"127.0.0.1:{port}")  # the refused removal did nothing


@pytest.mark.parametrize("name", ["127.0.0.1:{port}", "localhost:{port}", "qa.example.org"])
def test_the_served_hosts_and_the_allowed_one_are_answered(guarded, name):
    url, port, cached = guarded
    host = name.format(port=port)
    for method, path, body in routes(cached):
        if "remove" in path:
            continue
        status, text = request(url, method, path, host, body)
        assert (path, status) == (path, 200), text
    assert request(url, "GET", f"/gradio_api/file={cached}", host)[1] == "hello"
    assert "corpus/a.txt" in documents(url, host)


@pytest.fixture(scope="module")
def exposed(tmp_path_factory, embedder):
    """An app listening on all interfaces without QA_AUTH (asked on 127.0.0.1 only)."""
    root = tmp_path_factory.mktemp("exposed")
    make_qa(root, embedder, {"a.txt": "Sweden pledged EUR 6.5 billion over 2024-2026."})
    proc, url = start_server(root, args=("--host", "0.0.0.0"))
    yield url, root
    stop_server(proc)


def test_beyond_loopback_without_a_login_says_the_library_is_read_only(exposed):
    url, root = exposed
    log = (root / "serve.log").read_text()
    assert "without a login" in log and "read-only" in log and "QA_AUTH" in log


def test_beyond_loopback_without_a_login_uploads_and_removals_are_refused(exposed, tmp_path):
    from gradio_client import Client, handle_file

    url, root = exposed
    client = Client(url, verbose=False)
    note = tmp_path / "note.txt"
    note.write_text("The Velmora protocol sets up a joint cyber defence centre in Lviv.")
    with pytest.raises(Exception, match="read-only"):
        client.predict(handle_file(str(note)), api_name="/upload")
    with pytest.raises(Exception, match="read-only"):
        client.predict("corpus/a.txt", api_name="/remove")
    with pytest.raises(Exception, match="read-only"):
        client.predict("corpus/a.txt", "A title", api_name="/describe")
    assert [d["doc_id"] for d in client.predict(api_name="/documents")] == ["corpus/a.txt"]
    assert not (root / "corpus" / "uploads").exists()
    answer = client.predict("What did Sweden pledge?", 3, api_name="/ask")
    assert "6.5 billion" in answer["answer"]


def test_beyond_loopback_without_a_login_the_library_buttons_are_disabled(exposed):
    url, _ = exposed
    port = urlsplit(url).port
    status, text = request(url, "GET", "/config", f"127.0.0.1:{port}")
    components = {c["props"].get("elem_id"): c["props"] for c in json.loads(text)["components"]}
    assert components["upload"]["interactive"] is False
    assert components["remove"]["interactive"] is False
    assert "read-only" in components["read-only"]["value"]


def test_beyond_loopback_with_a_login_a_logged_in_client_can_upload(tmp_path, embedder):
    from gradio_client import Client, handle_file

    make_qa(tmp_path, embedder, {"a.txt": "Sweden pledged EUR 6.5 billion over 2024-2026."})
    proc, url = start_server(tmp_path, {"QA_AUTH": "demo:s3cret"}, args=("--host", "0.0.0.0"))
    try:
        assert "read-only" not in (tmp_path / "serve.log").read_text()
        client = Client(url, auth=("demo", "s3cret"), verbose=False)
        note = tmp_path / "note.txt"
        note.write_text("The Velmora protocol sets up a joint cyber defence centre in Lviv.")
        added = client.predict(handle_file(str(note)), api_name="/upload")
        assert added["added"] == ["corpus/uploads/note.txt"]
        assert client.predict("corpus/uploads/note.txt", api_name="/remove")["removed"]
    finally:
        stop_server(proc)
