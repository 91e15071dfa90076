"""The FAISS index kind follows the collection's size; approximate kinds find what exact
search finds and give back the exact vectors that incremental updates reuse."""

from dataclasses import replace

import numpy as np
import pytest

from qa.api import QA
from qa.store import ann
from qa.store.local import load_index

from conftest import CountingEmbedder, make_qa

DOCS = {
    "sweden.txt": "Sweden pledged a total of approximately EUR 6.5 billion over 2024-2026.",
    "norway.txt": "Norway is providing approximately EUR 6.4 billion for the period 2023-2027.",
    "latvia.txt": "Latvia set a target of 0.25% of GDP annually for military support.",
}


def clustered(n: int, d: int = 64, clusters: int = 50, seed: int = 0) -> np.ndarray:
    """Unit vectors around random centres: structured like embeddings, unlike pure noise."""
    rng = np.random.default_rng(seed)
    centres = rng.standard_normal((clusters, d))
    x = centres[rng.integers(0, clusters, n)] + 0.4 * rng.standard_normal((n, d))
    return (x / np.linalg.norm(x, axis=1, keepdims=True)).astype(np.float32)


@pytest.mark.parametrize(
    "setting, n, kind",
    [
        ("auto", 0, "flat"),
        ("auto", ann.AUTO_LIMIT - 1, "flat"),
        ("auto", ann.AUTO_LIMIT, "ivf"),
        ("auto", 1_000_000, "ivf"),
        ("hnsw", 10, "hnsw"),
        ("flat", 1_000_000, "flat"),
        ("ivf", 50, "flat"),  # too few vectors to train inverted lists on
        ("ivf", 5_000, "ivf"),
    ],
)
def test_the_index_kind_follows_the_setting_and_the_number_of_passages(setting, n, kind):
    assert ann.choose(setting, n) == kind


def test_an_unknown_index_kind_is_refused():
    with pytest.raises(ValueError, match="auto, flat, ivf, hnsw"):
        ann.choose("lsh", 10)


@pytest.mark.parametrize("kind", ["ivf", "hnsw"])
def test_approximate_search_finds_the_exact_top_10_and_keeps_exact_vectors(kind):
    data, queries = clustered(8_000), clustered(50, seed=1)
    exact = ann.build(data, "flat").search(queries, 10)[1]
    index = ann.build(data, kind)
    assert ann.kind_of(index) == kind
    found = index.search(queries, 10)[1]
    recall = np.mean([len(set(f) & set(e)) / 10 for f, e in zip(found, exact, strict=True)])
    assert recall >= 0.95
    rows = np.array([0, 17, 7_999])
    assert np.array_equal(index.reconstruct_batch(rows), data[rows])


def test_an_hnsw_index_round_trips_and_updates_only_the_changed_document(tmp_path, embedder):
    counting = CountingEmbedder(embedder)
    qa = make_qa(tmp_path, counting, DOCS, vector_index="hnsw")
    qa.build()
    index = load_index(qa.settings.index_dir)
    assert index.manifest["vector_index"] == "hnsw" and index.approximate
    query = embedder.embed_queries(["How much does Norway provide?"])[0]
    for unit in ("sentence", "passage"):
        row, _ = index.dense_search(query, 1, unit)[0]
        assert index.passages[row].doc_id == "corpus/norway.txt"
    sweden = index.row_of[next(p.passage_id for p in index.passages if "Sweden" in p.text)]
    before = index.reconstruct([sweden])
    counting.embedded.clear()
    (qa.settings.corpus_dir / "latvia.txt").write_text("Latvia trains Ukrainian drone pilots.")
    qa.build()
    after = load_index(qa.settings.index_dir)
    assert counting.embedded == ["Latvia trains Ukrainian drone pilots."]
    sweden_after = after.row_of[index.passages[sweden].passage_id]
    assert np.array_equal(after.reconstruct([sweden_after]), before)


def test_changing_the_index_kind_rewrites_the_index_without_embedding(tmp_path, embedder):
    counting = CountingEmbedder(embedder)
    qa = make_qa(tmp_path, counting, DOCS, vector_index="hnsw")
    qa.build()
    counting.embedded.clear()
    flat = QA(replace(qa.settings, vector_index="flat"), embedder=counting)
    report = flat.build()
    assert counting.embedded == [] and not report.changed
    assert load_index(qa.settings.index_dir).manifest["vector_index"] == "flat"


@pytest.mark.parametrize("kind", ["flat", "ivf", "hnsw"])
def test_a_restricted_search_returns_only_the_allowed_ids_for_every_kind(kind):
    import faiss

    data = clustered(4_000)
    index = ann.build(data, kind)
    allowed = np.arange(0, 4_000, 7)
    params = ann.search_params(index, faiss.IDSelectorBatch(allowed))
    _, ids = index.search(data[:5], 10, params=params)
    found = ids[ids >= 0]
    assert len(found) and set(found) <= set(allowed)


def test_filters_restrict_dense_search_on_an_approximate_index(tmp_path, embedder):
    qa = make_qa(tmp_path, embedder, DOCS, vector_index="hnsw")
    qa.build()
    index = load_index(qa.settings.index_dir)
    allowed = np.array([p.doc_id == "corpus/latvia.txt" for p in index.passages])
    query = embedder.embed_queries(["How much does Norway provide?"])[0]
    for unit in ("sentence", "passage"):
        rows = [r for r, _ in index.dense_search(query, 3, unit, allowed)]
        assert rows and all(allowed[r] for r in rows)
