"""The index round-trips, updates incrementally, survives interrupted builds, refuses mismatches."""

import json
import os
import signal
import subprocess
import sys
import time

import pytest

from qa.api import QA
from qa.errors import IndexBusy, IndexIncompatible, IndexMissing
from qa.store.build import IndexLock
from qa.store.local import load_index

from conftest import CountingEmbedder, make_qa

DOCS = {
    "sweden.txt": "Sweden pledged a total of approximately EUR 6.5 billion over 2024-2026.",
    "norway.txt": "Norway is providing approximately EUR 6.4 billion for the period 2023-2027.",
    "latvia.txt": "Latvia set a target of 0.25% of GDP annually for military support.",
}


def test_index_round_trip_keeps_passages_documents_and_vectors(tmp_path, embedder):
    qa = make_qa(tmp_path, embedder, DOCS)
    report = qa.build()
    assert sorted(report.added) == ["corpus/latvia.txt", "corpus/norway.txt", "corpus/sweden.txt"]
    index = load_index(qa.settings.index_dir, expected_model=embedder.name)
    assert index.vectors.ntotal == len(index.passages) == report.total_passages == 3
    for p in index.passages:
        assert index.documents[p.doc_id].text[p.start : p.end] == p.text
    row, score = index.dense_search(
        embedder.embed_queries(["How much does Norway provide?"])[0], 1
    )[0]
    assert index.passages[row].doc_id == "corpus/norway.txt" and score > 0.5
    assert (
        index.lexical_search("Latvia GDP target", 1)[0][0]
        == [i for i, p in enumerate(index.passages) if p.doc_id == "corpus/latvia.txt"][0]
    )


def test_bm25_finds_a_passage_by_its_document_title(tmp_path, embedder):
    """A question may name its source ("the Kestrin survey"): BM25 reads each passage as
    its document's title and its text. An index written before that is rewritten by the
    next update, nothing embedded again."""
    qa = make_qa(tmp_path, embedder, {**DOCS, "kestrin-survey.txt": "The quays were long."})
    qa.build()
    rows = [r for r, _ in qa.index.lexical_search("kestrin survey", 5)]
    assert [qa.index.passages[r].doc_id for r in rows] == ["corpus/kestrin-survey.txt"]
    before = qa.index.version
    manifest = qa.settings.index_dir / before / "manifest.json"
    old = json.loads(manifest.read_text())
    del old["lexical_version"]  # as an index written before titles were indexed has it
    manifest.write_text(json.dumps(old))
    counting = CountingEmbedder(embedder)
    again = QA(qa.settings, embedder=counting)
    report = again.ensure_index()  # what the app and the CLI do before answering
    assert report is not None and report.version != before and counting.embedded == []
    assert again.build().version == report.version  # current now: nothing rewritten


def test_bm25_finds_a_passage_by_the_headings_above_it(tmp_path, embedder):
    """A long release section is cut into several passages; those after the first do not
    write "7.2", yet a question about release 7.2 finds them, and not the next release's."""
    release = "### Fixed\n" + "".join(f"- Parser case {i} handled.\n" for i in range(40))
    notes = f"# Notes\n\n## Release 7.2\n\n{release}\n## Release 6.1\n\n- Docs moved.\n"
    qa = make_qa(tmp_path, embedder, {"notes.md": notes})
    qa.build()
    passages = qa.index.passages
    rows = [r for r, _ in qa.index.lexical_search("release 7.2", len(passages))]
    later = [p for p in passages if "Parser case" in p.text and "7.2" not in p.text]
    assert later and {p.passage_id for p in later} <= {passages[r].passage_id for r in rows}
    assert "Docs moved" not in passages[rows[0]].text
    assert all(("Release 6.1" in p.text) == ("Docs moved" in p.text) for p in passages)


def test_updating_one_document_re_embeds_only_that_document(tmp_path, embedder):
    counting = CountingEmbedder(embedder)
    qa = make_qa(tmp_path, counting, DOCS)
    qa.build()
    counting.embedded.clear()
    changed = "Norway is providing approximately EUR 6.4 billion; Norway also trains pilots."
    (qa.settings.corpus_dir / "norway.txt").write_text(changed)
    report = qa.build()
    assert report.updated == ["corpus/norway.txt"]
    assert sorted(report.unchanged) == ["corpus/latvia.txt", "corpus/sweden.txt"]
    assert counting.embedded and all(text in changed for text in counting.embedded)
    assert any(p.text == changed for p in qa.index.passages)


def test_a_second_run_with_nothing_changed_embeds_nothing(tmp_path, embedder):
    counting = CountingEmbedder(embedder)
    qa = make_qa(tmp_path, counting, DOCS)
    first = qa.build()
    counting.embedded.clear()
    second = qa.build()
    assert counting.embedded == [] and not second.changed and second.version == first.version


def test_a_deleted_file_is_removed_and_a_new_file_is_added(tmp_path, embedder):
    qa = make_qa(tmp_path, embedder, DOCS)
    qa.build()
    (qa.settings.corpus_dir / "latvia.txt").unlink()
    (qa.settings.corpus_dir / "finland.md").write_text("# Finland\n\nFinland signed in April 2024.")
    report = qa.build()
    assert report.removed == ["corpus/latvia.txt"] and report.added == ["corpus/finland.md"]
    assert sorted(qa.documents) == ["corpus/finland.md", "corpus/norway.txt", "corpus/sweden.txt"]


def test_a_file_that_turns_bad_keeps_its_previously_indexed_version(tmp_path, embedder):
    qa = make_qa(tmp_path, embedder, DOCS)
    qa.build()
    (qa.settings.corpus_dir / "sweden.txt").write_bytes(b"")
    report = qa.build()
    assert "previously indexed version is kept" in report.skipped[0].reason
    assert "corpus/sweden.txt" in qa.documents


def test_an_index_built_with_another_model_is_refused_with_how_to_rebuild(tmp_path, embedder):
    qa = make_qa(tmp_path, embedder, DOCS)
    qa.build()
    with pytest.raises(IndexIncompatible, match="qa index --rebuild"):
        load_index(qa.settings.index_dir, expected_model="some-other-model")


def test_asking_without_an_index_says_how_to_build_it(tmp_path, embedder):
    qa = make_qa(tmp_path, embedder, DOCS)
    with pytest.raises(IndexMissing, match="qa index"):
        qa.ask("Anything?")


def test_a_second_builder_is_refused_while_one_holds_the_lock(tmp_path, embedder):
    qa = make_qa(tmp_path, embedder, DOCS)
    with IndexLock(qa.settings.index_dir):
        with pytest.raises(IndexBusy, match="Another process"):
            qa.build()


def _start_build(qa, tmp_path):
    env = {**os.environ, "QA_INDEX_DIR": str(qa.settings.index_dir)}
    return subprocess.Popen(
        [sys.executable, "-m", "qa.cli", "index", str(qa.settings.corpus_dir)],
        cwd=tmp_path,
        env=env,
        stderr=subprocess.PIPE,
        stdout=subprocess.DEVNULL,
        text=True,
    )


def _wait_for(proc, marker: str, timeout: float = 120) -> str:
    """What the build printed until `marker` (or its end)."""
    seen, deadline = "", time.time() + timeout
    while marker not in seen and time.time() < deadline and proc.poll() is None:
        seen += proc.stderr.read(1) or ""
    return seen


@pytest.mark.parametrize(
    "marker, delay",
    [
        ("", 0.3),  # while starting: loading the model, reading files
        ("Embedding", 0.5),  # early in embedding
        ("Embedding", 4.0),  # well into embedding
        ("100%", 0.0),  # embedding done: writing the new version
    ],
)
def test_killing_a_build_at_any_point_leaves_an_index_that_loads(tmp_path, embedder, marker, delay):
    qa = make_qa(tmp_path, embedder, DOCS)
    before = qa.build()
    for i in range(16):  # enough text that embedding takes well over the 4 s waited below
        (qa.settings.corpus_dir / f"bulk{i}.txt").write_text(
            " ".join(
                f"Paragraph {i}.{j} discusses long-term security commitment number {j}."
                for j in range(25)
            )
        )
    proc = _start_build(qa, tmp_path)
    printed = _wait_for(proc, marker) if marker else ""
    time.sleep(delay)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    printed += proc.stderr.read()
    index = load_index(qa.settings.index_dir, expected_model=embedder.name)
    # either the previous version, untouched, or the complete new one: never a broken mix
    if index.version == before.version:
        assert len(index.documents) == 3
    else:  # the new version goes live only once everything is embedded
        assert "100%" in printed
        assert len(index.documents) == 19
    assert "Norway" in qa.ask("How much does Norway provide?").answer
    # and the next build completes from there
    qa.build()
    assert len(load_index(qa.settings.index_dir).documents) == 19


def test_a_sentence_transformers_model_pools_sentence_vectors_from_one_encoding(tmp_path):
    """The sentence-transformers backend (here the packaged all-MiniLM-L6-v2): sentence
    vectors come from the passage's token embeddings and match the passage's meaning."""
    from qa.store.embedding import get_embedder

    minilm = get_embedder("sentence-transformers:all-MiniLM-L6-v2")
    counting = CountingEmbedder(minilm)
    qa = make_qa(tmp_path, counting, DOCS, model="sentence-transformers:all-MiniLM-L6-v2")
    qa.build()
    assert sorted(counting.embedded) == sorted(DOCS.values())  # passages only, once each
    index = qa.index
    assert index.model == "all-MiniLM-L6-v2"
    assert index.sentence_vectors.shape == (3, minilm.dimension)
    answer = qa.ask("How much does Norway provide?")
    assert "6.4 billion" in answer.citations[0].quote


def _live(qa):
    return qa.settings.index_dir / (qa.settings.index_dir / "CURRENT").read_text().strip()


def _index_of_format_zero(tmp_path, embedder):
    """A built index whose manifest claims a format this version does not read."""
    qa = make_qa(tmp_path, embedder, DOCS)
    qa.build()
    manifest = _live(qa) / "manifest.json"
    data = json.loads(manifest.read_text())
    data["format_version"] = 0
    manifest.write_text(json.dumps(data))
    return qa


def test_an_index_of_an_older_format_is_refused_with_how_to_rebuild(tmp_path, embedder):
    qa = _index_of_format_zero(tmp_path, embedder)
    with pytest.raises(IndexIncompatible, match="format 0.*qa index --rebuild"):
        load_index(qa.settings.index_dir)
    assert qa.build().rebuilt_because.startswith("the existing index could not be read")
    assert load_index(qa.settings.index_dir).manifest["format_version"] > 0


def test_a_truncated_vector_file_is_detected_at_load(tmp_path, embedder):
    qa = make_qa(tmp_path, embedder, DOCS)
    qa.build()
    vectors = _live(qa) / "vectors.faiss"
    vectors.write_bytes(vectors.read_bytes()[:100])
    with pytest.raises(IndexIncompatible, match="damaged.*qa index --rebuild"):
        load_index(qa.settings.index_dir)


@pytest.mark.parametrize("name", ["vectors.faiss", "sentences.npy", "passages.jsonl"])
def test_a_flipped_bit_in_any_index_file_is_detected_at_load(tmp_path, embedder, name):
    qa = make_qa(tmp_path, embedder, DOCS)
    qa.build()
    f = _live(qa) / name
    data = bytearray(f.read_bytes())
    data[len(data) // 2] ^= 0x01
    f.write_bytes(bytes(data))
    with pytest.raises(IndexIncompatible, match="checksum differs.*qa index --rebuild"):
        load_index(qa.settings.index_dir)


def test_a_rebuild_keeps_documents_indexed_from_outside_the_corpus(tmp_path, embedder):
    qa = make_qa(tmp_path, embedder, DOCS)
    qa.build()
    extra = tmp_path / "elsewhere" / "finland.txt"
    extra.parent.mkdir()
    extra.write_text("Finland signed its agreement in April 2024.")
    qa.build([extra])
    report = qa.build(rebuild=True)
    assert report.rebuilt_because == "--rebuild was asked for"
    assert "elsewhere/finland.txt" in qa.documents and len(qa.documents) == 4


def test_starting_the_app_on_an_index_it_cannot_use_rebuilds_it(tmp_path, embedder):
    qa = _index_of_format_zero(tmp_path, embedder)
    report = qa.ensure_index()
    assert report is not None and "could not be read" in report.rebuilt_because
    assert len(qa.documents) == 3 and qa.ensure_index() is None


def test_an_unexpected_error_in_one_file_skips_that_file_and_keeps_the_rest(
    tmp_path, embedder, monkeypatch
):
    """A library fails in a way nobody foresaw (charset detection is made to raise): that
    file is reported as skipped and the other documents are indexed."""
    import charset_normalizer

    def broken(*args, **kwargs):
        raise RuntimeError("detector crashed")

    qa = make_qa(tmp_path, embedder, {**DOCS, "legacy.txt": "caf\xe9 cr\xe8me".encode("cp1252")})
    monkeypatch.setattr(charset_normalizer, "from_bytes", broken)
    report = qa.build()
    assert sorted(report.added) == ["corpus/latvia.txt", "corpus/norway.txt", "corpus/sweden.txt"]
    assert "unexpected RuntimeError" in report.skipped[0].reason
