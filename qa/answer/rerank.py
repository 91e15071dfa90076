"""Second-stage ordering of the fused candidates.

`sentences` (default): a passage is as good as its best sentence, scored against the
question with the same evidence the answer uses (sentence cosine from the stored sentence
vectors, IDF-weighted term coverage, the figure or date the question asks for); that order
is fused with the retrieval order by reciprocal rank, since neither alone holds across
collections (the sentence order alone pushed passages that retrieval ranked first or third
out of the top five on the manuals collection). Needs no extra model.
`cross-encoder:<name or path>`: a sentence-transformers CrossEncoder scores (question,
passage) pairs, when the user has one. `none`: keep the fused order.
"""

from __future__ import annotations

from dataclasses import replace
from functools import lru_cache
from typing import Protocol

import numpy as np

from qa.answer.question import Question
from qa.answer.retrieval import reciprocal_rank_fusion
from qa.answer.scoring import SentenceScorer
from qa.documents import Hit
from qa.errors import ModelError, QAError

CANDIDATES = 20  # fused candidates reordered before the top k are kept


class Reranker(Protocol):
    def __call__(
        self, question: Question, query_vector: np.ndarray, hits: list[Hit]
    ) -> list[Hit]: ...


def _reorder(hits: list[Hit], scores: list[float]) -> list[Hit]:
    order = sorted(range(len(hits)), key=lambda i: (-scores[i], i))  # ties keep fused order
    return [replace(hits[i], rank=rank) for rank, i in enumerate(order, start=1)]


class SentenceReranker:
    def __init__(self, scorer: SentenceScorer) -> None:
        self.scorer = scorer

    def __call__(self, question: Question, query_vector: np.ndarray, hits: list[Hit]) -> list[Hit]:
        best: dict[str, float] = {}
        # every passage keeps all its sentences, also those an overlapping chunk repeats
        sentences = self.scorer.candidates(hits, dedupe=False)
        for s in self.scorer.score(question, query_vector, sentences):
            pid = s.hit.passage.passage_id
            best[pid] = max(best.get(pid, 0.0), s.score)
        scores = [best.get(h.passage.passage_id, 0.0) for h in hits]
        by_sentence = sorted(range(len(hits)), key=lambda i: (-scores[i], i))
        order = reciprocal_rank_fusion([list(range(len(hits))), by_sentence])
        return [replace(hits[i], rank=rank) for rank, i in enumerate(order, start=1)]


class CrossEncoderReranker:
    def __init__(self, name: str) -> None:
        self.model = load_cross_encoder(name)

    def __call__(self, question: Question, query_vector: np.ndarray, hits: list[Hit]) -> list[Hit]:
        if not hits:
            return hits
        scores = self.model.predict(
            [(question.text, h.passage.text) for h in hits], show_progress_bar=False
        )
        return _reorder(hits, [float(s) for s in np.asarray(scores).reshape(len(hits), -1)[:, 0]])


@lru_cache(maxsize=4)
def load_cross_encoder(name: str, setting: str = "QA_RERANKER", fallback: str = "sentences"):
    """A sentence-transformers CrossEncoder, loaded once per name; a failure names the
    setting that chose it and the value that needs no model."""
    from sentence_transformers import CrossEncoder

    try:
        return CrossEncoder(name, device="cpu")
    except Exception as exc:  # OSError, ValueError, HTTP errors...
        raise ModelError(
            f"Could not load the cross-encoder {name!r} ({type(exc).__name__}: "
            f"{str(exc)[:300]}). Give a local folder or a cached model name in {setting}, "
            f"or set {setting}={fallback}."
        ) from exc


def make_reranker(setting: str, scorer: SentenceScorer) -> Reranker | None:
    """The reranker a setting names: "sentences", "none" or "cross-encoder:<name or path>"."""
    if setting == "none":
        return None
    if setting == "sentences":
        return SentenceReranker(scorer)
    if setting.startswith("cross-encoder:") and setting.split(":", 1)[1]:
        return CrossEncoderReranker(setting.split(":", 1)[1])
    raise QAError(
        f"QA_RERANKER={setting!r} is not a reranker; use sentences, none or "
        "cross-encoder:<model name or path>."
    )
