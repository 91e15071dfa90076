"""The postgres backend on a real PostgreSQL 18 + pgvector 0.8 server (see conftest.pg_server)."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import numpy as np
import psycopg
import pytest

from qa.errors import DatabaseError
from qa.filters import Filters
from qa.store.postgres import SCHEMA_VERSION, PgStore, connect, migrate, vector_literal

from conftest import make_qa

DOCS = {
    "alpha.txt": "The harbour of Aldermoor was rebuilt in 1987 with granite from Kessling. "
    "Its lighthouse keeper was Mara Quill.",
    "beta.txt": "Beta Fisheries reported a record herring catch of 4,200 tonnes in 2021. "
    "The fleet is based in Norvik.",
    "gamma.txt": "The Gamma observatory measured the comet's tail at 12 million kilometres. "
    "Its director, Ilse Brand, announced it in March.",
}


def _one(url: str, sql: str, params=None):
    with psycopg.connect(url) as conn:
        return conn.execute(sql, params).fetchone()


def _meta(url: str, key: str):
    return _one(url, "SELECT value FROM qa_meta WHERE key = %s", [key])[0]


def test_schema_is_created_at_the_current_version(pg_url):
    with connect(pg_url) as conn:
        assert migrate(conn, lambda: 8) == 0
        assert migrate(conn, lambda: 8) == SCHEMA_VERSION  # a second start changes nothing
    assert _one(pg_url, "SELECT value FROM qa_meta WHERE key='schema_version'")[0] == 4
    assert _one(pg_url, "SELECT count(*) FROM pg_indexes WHERE indexdef LIKE '%hnsw%'")[0] == 2


def test_migration_from_version_1_fills_the_lexical_tokens_from_title_and_text(pg_url, tmp_path):
    with connect(pg_url) as conn:
        migrate(conn, lambda: 4, target=1)
        text = "Granite harbours of Aldermoor"
        conn.execute(
            "INSERT INTO documents (doc_id, source, sha256, meta, text, page_starts, page_labels,"
            " chunking) VALUES ('a.txt', 'a.txt', 'x', %s, %s, '{0}', '{1}', '{}')",
            [json.dumps({"title": "Kestrin survey"}), text],
        )
        conn.execute(
            "INSERT INTO passages (passage_id, doc_id, start_offset, end_offset, page_start, "
            "page_end, sentences, language, embedding) VALUES ('a.txt#0-29', 'a.txt', 0, %s, 1,"
            " 1, '[[0, 29]]', 'en', '[1,0,0,0]')",
            [len(text)],
        )
        conn.execute("UPDATE qa_meta SET value = '1' WHERE key = 'generation'")
    store = PgStore(pg_url, tmp_path)
    snapshot = store.load("any")  # migrates to the current version first
    assert _one(pg_url, "SELECT value FROM qa_meta WHERE key='schema_version'")[0] == 4
    assert [row for row, _ in snapshot.lexical_search("harbour aldermoor", 5)] == [0]
    assert [row for row, _ in snapshot.lexical_search("kestrin", 5)] == [0]  # the title
    assert snapshot.documents["a.txt"].sections == ()  # none known until indexed again


def test_a_newer_schema_is_refused_with_a_message(pg_url):
    with connect(pg_url) as conn:
        migrate(conn, lambda: 4)
        conn.execute("UPDATE qa_meta SET value = '99' WHERE key = 'schema_version'")
        with pytest.raises(DatabaseError, match="version 99, newer than this qa.*upgrade qa"):
            migrate(conn, lambda: 4)


def test_an_unreachable_database_says_what_to_check(tmp_path):
    url = f"postgresql://qa@/qa?host={tmp_path}&port=5999"
    with pytest.raises(DatabaseError, match="Cannot connect.*QA_DATABASE_URL.*qa db start"):
        connect(url)


def test_a_database_without_pgvector_says_to_install_it(pg_url):
    with psycopg.connect(pg_url, autocommit=True) as conn:
        conn.execute("DROP ROLE IF EXISTS plain")
        conn.execute("CREATE ROLE plain LOGIN")
        conn.execute("GRANT ALL ON SCHEMA public TO plain")
    url = pg_url.replace("postgresql://qa@", "postgresql://plain@")
    with connect(url) as conn, pytest.raises(DatabaseError, match="no pgvector.*CREATE EXTENSION"):
        migrate(conn, lambda: 4)


def test_an_hnsw_index_builds_and_finds_the_exact_neighbours(pg_url):
    """The bundled pgvector builds HNSW on this CPU (other builds crash without AVX-512);
    approximate top 10 against exact search on a connection without index scans."""
    rng = np.random.default_rng(0)
    data = rng.normal(size=(3000, 64)).astype(np.float32)
    data /= np.linalg.norm(data, axis=1, keepdims=True)
    with connect(pg_url) as conn:
        conn.execute("CREATE EXTENSION IF NOT EXISTS vector")
        conn.execute("CREATE TABLE v (id int PRIMARY KEY, e vector(64))")
        with conn.cursor().copy("COPY v FROM STDIN") as copy:
            for i, row in enumerate(data):
                copy.write_row([i, vector_literal(row)])
        conn.execute("CREATE INDEX ON v USING hnsw (e vector_ip_ops)")
    queries = rng.normal(size=(20, 64)).astype(np.float32)
    sql = "SELECT id FROM v ORDER BY e <#> %s::vector LIMIT 10"
    with connect(pg_url) as ann, psycopg.connect(pg_url, autocommit=True) as exact:
        exact.execute("SET enable_indexscan = off")
        recall = []
        for q in queries:
            found = {r[0] for r in ann.execute(sql, [vector_literal(q)]).fetchall()}
            truth = {r[0] for r in exact.execute(sql, [vector_literal(q)], prepare=False)}
            recall.append(len(found & truth) / 10)
    assert np.mean(recall) >= 0.9


def test_postgres_backend_answers_with_filters_in_sql(tmp_path, embedder, pg_url):
    qa = make_qa(tmp_path, embedder, docs=DOCS, database_url=pg_url)
    report = qa.build()
    assert sorted(report.added) == ["corpus/alpha.txt", "corpus/beta.txt", "corpus/gamma.txt"]
    answer = qa.ask("Who was the lighthouse keeper of Aldermoor?")
    assert "Mara Quill" in answer.answer
    assert answer.citations[0].document == "corpus/alpha.txt"
    only_beta = Filters.of(documents=["corpus/beta.txt"])
    hits = qa.ask("Who was the lighthouse keeper?", filters=only_beta).hits
    assert hits and {h.passage.doc_id for h in hits} == {"corpus/beta.txt"}
    assert qa.build().unchanged  # same content: nothing is embedded again
    assert _one(pg_url, "SELECT count(*) FROM documents")[0] == 3


def test_a_document_keeps_its_headings_in_the_database_and_bm25_reads_them(
    tmp_path, embedder, pg_url
):
    """As in the local index: the headings above a passage are part of what BM25 reads."""
    release = "### Fixed\n" + "".join(f"- Parser case {i} handled.\n" for i in range(40))
    notes = f"# Notes\n\n## Release 7.2\n\n{release}\n## Release 6.1\n\n- Docs moved.\n"
    qa = make_qa(tmp_path, embedder, docs={"notes.md": notes}, database_url=pg_url)
    qa.build()
    doc = qa.index.documents["corpus/notes.md"]
    local = make_qa(tmp_path / "local", embedder, docs={"notes.md": notes})
    local.build()
    assert doc.sections == local.index.documents["corpus/notes.md"].sections != ()
    rows = [r for r, _ in qa.index.lexical_search("release 7.2", 10)]
    under = [qa.index.passages[r] for r in rows]
    assert any("7.2" not in p.text and "Parser case" in p.text for p in under)
    assert all("Docs moved" not in p.text for p in under[:2])


def test_an_instance_sees_documents_that_another_added(tmp_path, embedder, pg_url):
    reader = make_qa(tmp_path / "a", embedder, docs=DOCS, database_url=pg_url)
    reader.build()
    assert "Mara Quill" in reader.ask("Who was the lighthouse keeper?").answer
    writer = make_qa(
        tmp_path / "b",
        embedder,
        docs={"delta.txt": "The Delta ferry to Oskarholm was named Silver Wren."},
        database_url=pg_url,
    )
    writer.build()
    assert "Silver Wren" in reader.ask("What was the Delta ferry to Oskarholm named?").answer
    own = _meta(pg_url, "calibration")
    assert set(own["document_min_score"]) == {"corpus/delta.txt", *(f"corpus/{d}" for d in DOCS)}
    writer.remove("corpus/delta.txt")
    assert "corpus/delta.txt" not in reader.documents
    own = _meta(pg_url, "calibration")
    assert "corpus/delta.txt" not in own["document_min_score"]


def test_a_database_calibrated_by_an_older_qa_gets_per_document_thresholds_before_answering(
    tmp_path, embedder, pg_url
):
    """As `qa ask` and `qa serve` do on start: the calibration is redone from the database's
    own vectors, and the instance's corpus folder is not indexed into the shared database."""
    from qa.store.calibration import VERSION

    make_qa(tmp_path / "a", embedder, docs=DOCS, database_url=pg_url).build()
    with psycopg.connect(pg_url) as conn:
        conn.execute(
            "UPDATE qa_meta SET value = (value - 'document_min_score') || '{\"version\": 2}'"
            " WHERE key = 'calibration'"
        )
    before = _meta(pg_url, "generation")
    other = make_qa(
        tmp_path / "b",
        embedder,
        docs={"local.txt": "Not for the shared database."},
        database_url=pg_url,
    )
    other.refresh_index()
    own = _meta(pg_url, "calibration")
    assert own["version"] == VERSION
    assert set(own["document_min_score"]) == {f"corpus/{d}" for d in DOCS}
    assert _meta(pg_url, "generation") == before + 1
    assert _one(pg_url, "SELECT count(*) FROM documents")[0] == len(DOCS)
    other.refresh_index()  # current now: nothing is redone
    assert _meta(pg_url, "generation") == before + 1


def test_concurrent_indexers_write_each_document_once(tmp_path, pg_url):
    """Three real `qa index --database` processes over the same files at once."""
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    for name, text in DOCS.items():
        (corpus / name).write_text(text, encoding="utf-8")
    env = {**os.environ, "QA_INDEX_DIR": str(tmp_path / "index")}
    cmd = [sys.executable, "-m", "qa.cli", "index", "--database", pg_url, str(corpus)]
    procs = [
        subprocess.Popen(
            cmd, env=env, cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
        )
        for _ in range(3)
    ]
    outputs = [p.communicate(timeout=600) for p in procs]
    assert [p.returncode for p in procs] == [0, 0, 0], outputs
    added = [line for out, _ in outputs for line in out.splitlines() if "added  " in line]
    assert len(added) == 3  # each document added by exactly one process
    assert _one(pg_url, "SELECT count(*), count(DISTINCT sha256) FROM documents") == (3, 3)
    passages = _one(pg_url, "SELECT count(*), count(DISTINCT passage_id) FROM passages")
    assert passages[0] == passages[1] >= 3


def test_two_app_instances_share_one_database(tmp_path, embedder, pg_url):
    """A document uploaded through one `qa serve` is answerable through the other."""
    from gradio_client import Client, handle_file

    from conftest import start_server, stop_server

    make_qa(tmp_path / "a", embedder, docs=DOCS)
    make_qa(tmp_path / "b", embedder, docs={})
    env = {"QA_DATABASE_URL": pg_url}
    first, url_a = start_server(tmp_path / "a", env=env)
    try:
        second, url_b = start_server(tmp_path / "b", env=env)
        try:
            note = tmp_path / "Orvel note.txt"
            note.write_text("The Orvel bridge over the Tamsa river opened in 1911.")
            Client(url_a, verbose=False).predict(handle_file(str(note)), api_name="/upload")
            answer = Client(url_b, verbose=False).predict(
                "When did the Orvel bridge open?", 3, api_name="/ask"
            )
            assert "1911" in answer["answer"]
            assert answer["citations"][0]["document"] == "corpus/uploads/Orvel-note.txt"
        finally:
            stop_server(second)
    finally:
        stop_server(first)


def test_the_app_starts_and_says_when_the_database_is_unreachable(tmp_path, embedder):
    from conftest import start_server, stop_server

    make_qa(tmp_path, embedder, docs=DOCS)
    env = {"QA_DATABASE_URL": f"postgresql://qa@/qa?host={tmp_path}&port=5999"}
    proc, _ = start_server(tmp_path, env=env)
    stop_server(proc)
    assert "Cannot connect to the database" in (tmp_path / "serve.log").read_text()


def test_postgres_backend_ranks_across_languages_like_the_local_index(tmp_path, embedder, pg_url):
    from test_crosslingual import DOCS as MIXED

    qa = make_qa(tmp_path, embedder, docs=MIXED, database_url=pg_url)
    qa.build()
    index = qa.index
    assert index.manifest["calibration"]["offset"]["vi"]["en"] > 0
    query = embedder.embed_queries(["Na Uy cam kết hỗ trợ khoảng bao nhiêu tiền?"])[0]
    for unit in ("passage", "sentence"):
        rows = [r for r, _ in index.dense_search(query, 10, unit, None, "en")]
        assert rows and {index.passages[r].language for r in rows} == {"en"}
    answer = qa.ask("Pháp sẽ giúp gì cho Ukraine?")
    assert "French instructors" in answer.citations[0].quote
    local = make_qa(tmp_path / "local", embedder, docs=MIXED)
    local.build()
    # each document's own abstention threshold, from its vectors alone, as the local index has it
    own = index.manifest["calibration"]["document_min_score"]
    expected = local.index.manifest["calibration"]["document_min_score"]
    assert own.keys() == expected.keys() == set(index.documents)
    for doc_id, by_language in own.items():
        assert by_language == pytest.approx(expected[doc_id], abs=0.005)
