"""A learned answer-sentence ranker: the probability that a sentence answers the question.

A logistic regression over features that mean the same in every collection -- cosines
relative to the best candidate, IDF-weighted coverage of the question's terms, whether the
sentence gives the kind of thing the question asks for (a name for "who", a figure for "how
many", a date for "when"), how much of it is new beside the question, its language
(candidates are prose already: `is_prose` filters them) -- trained on the tuning halves of
the development collections and validated leave-one-collection-out (`eval/train_ranker.py` writes `ranker.json` beside this
file). Its probability for the sentence an answer quotes is the answer's `confidence`.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import TypeVar

import numpy as np

from qa.errors import QAError

MODEL_PATH = Path(__file__).with_name("ranker.json")
T = TypeVar("T")

_SYMBOLS = set("<>{}[]()=_`*#|\\/;$@^~")  # markup and code
_LEADER = re.compile(r"(?:\.\s?){4,}|(?:_\s?){4,}")  # dot leaders of a contents line or a form


def is_prose(text: str) -> bool:
    """A sentence a reader can quote as an answer: mostly letters, no dot leaders (a table
    of contents, a form's blanks), no interpreter prompt (">>> "), not a run of symbols or
    code."""
    visible = len(text) - sum(map(str.isspace, text))
    if not visible or _LEADER.search(text) or ">>> " in text:
        return False
    return sum(map(str.isalpha, text)) >= 0.5 * visible


@dataclass(frozen=True)
class Candidate:
    """What the ranker reads of one candidate sentence (see `features`)."""

    text: str
    cosine: float  # with the question, plus the calibrated language offset
    passage_cosine: float  # of its passage (plus offset)
    coverage: float  # IDF-weighted share of the question's terms it contains
    context_coverage: float  # the same over it and its neighbours in the passage
    name_coverage: float  # share of the question's names it contains (1 when none)
    gives_kind: bool  # gives the figure or date a how-much / when question asks for
    new_names: int  # capitalised words that the question does not have
    new_figures: int  # numbers that the question does not have
    novelty: float  # share of its content terms that are not the question's
    other_language: bool  # its passage is in another language than the question


FEATURES = (
    "cosine_gap",
    "passage_cosine_gap",
    "coverage_gap",
    "cosine",
    "passage_cosine",
    "coverage",
    "context_coverage",
    "name_coverage",
    "asks_kind",
    "gives_kind",
    "log_words",
    "ends_sentence",
    "digit_share",
    "symbol_share",
    "novelty",
    "log_new_names",
    "log_new_figures",
    "who_x_names",
    "where_x_names",
    "quantity_x_figures",
    "when_x_figures",
    "why",
    "yesno",
    "other_language",
    "other_language_x_cosine_gap",
    "other_language_x_coverage",
    "margin",
)


def features(
    candidates: Sequence[Candidate], types: frozenset[str], asks_kind: bool, margin: float
) -> np.ndarray:
    """One row per candidate, columns in FEATURES order. Gaps to the best candidate make
    the figures comparable across collections and encoders."""
    if not candidates:
        return np.zeros((0, len(FEATURES)))
    best_cos = max(c.cosine for c in candidates)
    best_passage = max(c.passage_cosine for c in candidates)
    best_cov = max(c.coverage for c in candidates)
    rows = []
    for c in candidates:
        chars = [ch for ch in c.text if not ch.isspace()] or [" "]
        names, figures = math.log1p(c.new_names), math.log1p(c.new_figures)
        cos_gap = c.cosine - best_cos
        rows.append(
            [
                cos_gap,
                c.passage_cosine - best_passage,
                c.coverage - best_cov,
                c.cosine,
                c.passage_cosine,
                c.coverage,
                c.context_coverage,
                c.name_coverage,
                float(asks_kind),
                float(asks_kind and c.gives_kind),
                math.log1p(len(c.text.split())),
                float(c.text.rstrip()[-1:] in '.!?"”’)»…'),
                sum(ch.isdigit() for ch in chars) / len(chars),
                sum(ch in _SYMBOLS for ch in chars) / len(chars),
                c.novelty,
                names,
                figures,
                ("who" in types) * names,
                ("where" in types) * names,
                ("quantity" in types) * figures,
                ("when" in types) * figures,
                float("why" in types),
                float("yesno" in types),
                float(c.other_language),
                c.other_language * cos_gap,
                c.other_language * c.coverage,
                margin,
            ]
        )
    return np.asarray(rows, dtype=np.float64)


@dataclass(frozen=True)
class Ranker:
    """Standardise, then a logistic regression, fitted on tuning data. Over the sentence
    features above; the answer gate (qa/answer/abstention.py) uses the same model over its
    own."""

    mean: np.ndarray
    scale: np.ndarray
    weights: np.ndarray
    bias: float
    features: tuple[str, ...] = FEATURES

    def probabilities(self, x: np.ndarray) -> np.ndarray:
        if len(x) == 0:
            return np.zeros(0)
        z = ((x - self.mean) / self.scale) @ self.weights + self.bias
        return 1.0 / (1.0 + np.exp(-z))

    def to_dict(self) -> dict:
        return {
            "features": list(self.features),
            "mean": self.mean.tolist(),
            "scale": self.scale.tolist(),
            "weights": self.weights.tolist(),
            "bias": self.bias,
        }

    @classmethod
    def from_dict(cls, d: dict, features: tuple[str, ...] = FEATURES) -> Ranker:
        if list(d["features"]) != list(features):
            raise ValueError("the model was trained on other features; retrain it (eval/)")
        return cls(
            np.asarray(d["mean"]),
            np.asarray(d["scale"]),
            np.asarray(d["weights"]),
            float(d["bias"]),
            tuple(features),
        )


def read_model(path: Path, what: str, parse: Callable[[dict], T]) -> T:
    """A model written as JSON by a training script; one that cannot be read names itself."""
    try:
        return parse(json.loads(path.read_text(encoding="utf-8")))
    except (OSError, ValueError, KeyError) as e:
        raise QAError(f"The {what} {path} cannot be read: {e}") from e


@lru_cache(maxsize=2)
def load_ranker(path: Path = MODEL_PATH) -> Ranker:
    return read_model(path, "answer ranker", Ranker.from_dict)
