"""The `qa` command as a user runs it: a real process, real model, real index."""

import json
import re
import subprocess
import sys

import pytest

from conftest import make_qa

DOCS = {
    "sweden.txt": "Sweden pledged a total of approximately EUR 6.5 billion over 2024-2026.",
    "norway.txt": "Norway is providing approximately EUR 6.4 billion for the period 2023-2027.",
    "notes.docx": "not a supported type",
    "latin.txt": "Café crème – the minister’s “security” pledge, déjà vu.".encode("cp1252"),
}


def run(args, cwd, stdin=None, check=True):
    proc = subprocess.run(
        [sys.executable, "-m", "qa.cli", *args],
        cwd=cwd,
        input=stdin,
        capture_output=True,
        text=True,
        timeout=300,
    )
    if check and proc.returncode != 0:
        raise AssertionError(f"qa {args} failed ({proc.returncode}):\n{proc.stderr}")
    return proc


@pytest.fixture(scope="module")
def project(tmp_path_factory, embedder):
    root = tmp_path_factory.mktemp("cli")
    make_qa(root, embedder, DOCS)
    return root


def test_index_reports_added_and_skipped_files_with_reasons(project):
    out = run(["index"], project).stdout
    assert "added  corpus/sweden.txt" in out and "added  corpus/norway.txt" in out
    assert "skipped" in out and "notes.docx: unsupported file type .docx" in out
    assert "note  corpus/latin.txt: text decoded as cp1252" in out  # reported, not silent
    again = run(["index"], project).stdout
    assert "0 added, 0 updated, 0 removed, 3 unchanged" in again


def test_ask_json_prints_the_structured_answer(project):
    run(["index"], project)
    data = json.loads(
        run(["ask", "How much did Norway pledge?", "--json", "--k", "2"], project).stdout
    )
    assert data["question"] == "How much did Norway pledge?" and not data["abstained"]
    assert "6.4 billion" in data["citations"][0]["quote"]
    assert data["citations"][0]["document"] == "corpus/norway.txt"
    assert len(data["passages"]) == 2


def test_ask_reads_questions_from_stdin_one_json_line_each_and_reports_bad_lines(project):
    run(["index"], project)
    proc = run(
        ["ask", "--json"],
        project,
        stdin="What did Sweden pledge?\n???\nHow much does Norway provide?\n",
        check=False,
    )
    lines = [json.loads(line) for line in proc.stdout.splitlines()]
    assert [x["question"] for x in lines] == [
        "What did Sweden pledge?",
        "???",
        "How much does Norway provide?",
    ]
    assert "error" in lines[1] and "6.5 billion" in lines[0]["answer"]
    assert proc.returncode == 1  # one question was refused


def test_plain_ask_prints_numbered_citations_without_a_page_for_plain_text(project):
    run(["index"], project)
    out = run(["ask", "What did Sweden pledge?"], project).stdout
    assert "[1]" in out and "Sweden pledged" in out
    assert "p. 1" not in out  # a text file without form feeds has no page to name
    assert re.search(r"\(Confidence 0\.\d\d that this answer is right\.\)", out)


def test_ask_brings_an_index_written_by_an_older_qa_up_to_date_first(project):
    """After an upgrade, answers come from the current calibration and BM25, not from
    what the old index recorded; nothing is embedded again."""
    run(["index"], project)
    index = project / "index"
    before = (index / "CURRENT").read_text().strip()
    manifest = index / before / "manifest.json"
    old = json.loads(manifest.read_text())
    del old["lexical_version"]  # as an index written before titles were indexed has it
    manifest.write_text(json.dumps(old))
    proc = run(["ask", "What did Sweden pledge?"], project)
    assert "Brought the index up to date" in proc.stderr and "0 embedded" in proc.stderr
    assert (index / "CURRENT").read_text().strip() != before
    assert "Sweden pledged" in proc.stdout
    again = run(["ask", "What did Sweden pledge?"], project)
    assert "Brought the index up to date" not in again.stderr


def test_errors_are_one_line_messages_not_tracebacks(tmp_path):
    proc = run(["ask", "Anything?", "--index-dir", str(tmp_path / "none")], tmp_path, check=False)
    assert proc.returncode == 1
    assert proc.stderr.startswith("Error: No index") and "Traceback" not in proc.stderr
