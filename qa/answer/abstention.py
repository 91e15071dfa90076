"""Whether to answer at all: a learned gate over what the answer step knows of a question.

The calibrated similarity threshold (qa/store/calibration.py) lets one off-topic question in
ten through by construction, and an off-topic question that shares a name with the
collection ("What is the weather like in Kyiv in January?") gets further. What such a
question leaves behind is a pattern no one signal shows: its best passage only just clears
the threshold, the ranker gives its best sentence a low probability, that sentence scores
low, and the question uses words the collection never does ("ethanol", "football"). The gate
is a logistic regression over those signals, trained by `eval/train_abstention.py` on the
development collections' tuning questions, on their questions asked of the other
collections, and on the calibration probes, and validated leave-one-collection-out. Its
threshold lets through all but a fixed share (`eval/train_abstention.py`, COST) of the
answerable questions of collections it was not fitted on.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, replace
from functools import lru_cache
from pathlib import Path

import numpy as np

from qa.answer.ranker import Ranker, read_model
from qa.answer.scoring import QuestionTerms
from qa.documents import ABSTAIN_MESSAGE, Answer

MODEL_PATH = Path(__file__).with_name("abstention.json")
REASON = "no sentence of the closest passages clearly answers it"

FEATURES = (
    "margin",  # the best passage's similarity above its calibrated threshold
    "confidence_logit",  # the ranker's log-odds that the quoted sentence answers
    "best_score",  # the quoted sentence's score (qa/answer/scoring.py, reading included)
    "unknown_share",  # share of the question's term weight the collection never writes
    "log_unknown",  # how many such terms
    "log_terms",  # how many content terms the question has
    "no_own_language",  # no passage is in the question's language (unknown terms unmeasured)
    "reading",  # the reader's logit for the quoted sentence (0 when no reader read it)
    "unread",  # no reader read it
)


def logit(p: float) -> float:
    """Log-odds, clipped so that a probability of 0 or 1 stays finite."""
    p = min(max(p, 1e-6), 1 - 1e-6)
    return math.log(p / (1 - p))


def signals(
    margin: float,
    confidence: float,
    best_score: float,
    reading: float | None,
    q_terms: QuestionTerms,
    known: Callable[[str], bool] | None,
) -> np.ndarray:
    """The gate's feature row. `known(term)`: whether the collection writes a term of the
    question in the question's language, in its passages or the retrieved documents' titles
    ("Monroe 1823 annual message"); None when it has no passage in that language, where its
    words cannot be checked."""
    unknown = {t for t in q_terms.weights if known is not None and not known(t)}
    return np.asarray(
        [
            margin,
            logit(confidence),
            best_score,
            q_terms.coverage(unknown) if unknown else 0.0,
            math.log1p(len(unknown)),
            math.log1p(len(q_terms.weights)),
            float(known is None),
            reading or 0.0,
            float(reading is None),
        ],
        dtype=np.float64,
    )


@dataclass(frozen=True)
class Gate:
    """The probability that a question the documents seem to answer is answerable, the
    floor under which the answer abstains, and the answer's calibrated confidence."""

    model: Ranker
    threshold: float
    # logistic regression of "the answer is right" on the ranker's and the gate's log-odds
    calibration: tuple[float, float, float] = (1.0, 0.0, 0.0)

    def probability(self, x: np.ndarray) -> float:
        return float(self.model.probabilities(np.asarray(x, dtype=np.float64)[None, :])[0])

    def confidence(self, ranker: float, answerable: float) -> float:
        """The probability that the answer is right, from the ranker's probability for its
        best sentence (which runs low: among a question's candidates, a sentence at .1 was
        right half the time) and the gate's that the question is answerable; fitted on
        the tuning questions' answers (`eval/train_abstention.py`)."""
        a, b, bias = self.calibration
        return 1.0 / (1.0 + math.exp(-(a * logit(ranker) + b * logit(answerable) + bias)))

    def judge(self, answer: Answer) -> Answer:
        """The answer, or an abstention that still shows the closest passages when it is
        not likely enough answerable (`QA.ask` judges each part of a question on its own,
        so a question of two parts keeps the part that is)."""
        if answer.abstained or answer.answerable is None or answer.answerable >= self.threshold:
            return answer
        return replace(
            answer, answer=ABSTAIN_MESSAGE, abstained=True, citations=(), abstain_reason=REASON
        )

    def to_dict(self) -> dict:
        return self.model.to_dict() | {
            "threshold": self.threshold,
            "calibration": list(self.calibration),
        }

    @classmethod
    def from_dict(cls, d: dict) -> Gate:
        a, b, bias = (float(v) for v in d["calibration"])
        return cls(Ranker.from_dict(d, FEATURES), float(d["threshold"]), (a, b, bias))


@lru_cache(maxsize=4)
def load_gate(path: Path = MODEL_PATH) -> Gate:
    return read_model(path, "answer gate", Gate.from_dict)
