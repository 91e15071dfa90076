"""A short run of bench/load.py: concurrent clients and an upload, against the real app."""

import json
import subprocess
import sys

from conftest import ROOT


def test_concurrent_questions_during_an_upload_all_succeed_with_exact_citations(
    served_corpus, tmp_path
):
    url, _ = served_corpus
    out = tmp_path / "load.json"
    run = subprocess.run(
        [
            sys.executable,
            str(ROOT / "bench" / "load.py"),
            "--url",
            url,
            "--clients",
            "4",
            "--seconds",
            "10",
            "--upload-after",
            "1",
            "--json",
            str(out),
        ],
        capture_output=True,
        text=True,
        timeout=300,
    )
    figures = json.loads(out.read_text())
    assert run.returncode == 0, run.stdout + run.stderr
    assert figures["errors"] == 0, figures["error_samples"]
    assert figures["requests"] >= 8
    assert figures["wrong_citations"] == 0 and figures["inconsistent_answers"] == 0
    assert figures["upload"]["added"] and figures["index_versions_seen"] >= 1
