"""Fit the hand score's weights (qa/answer/scoring.py) to the sentence that answers.

For each answerable question of the tuning halves and the gold-style groups, the candidates
of its answer passages (as eval/lead_ranks.py takes them) with the parts of their score:
cosine, term coverage, passage cosine, title and heading coverage, the asked kind, and the
readers' weighted readings (every candidate read by the first reader; for an English
question, also the second reading of the best three, scoring.SECOND_READ_TOP). A weight
vector picks, per question, the candidate with the highest weighted sum (for a how-much or
when question, among those that give a figure or date, as the answer does); it counts when
that candidate's quote holds the gold answer. A coordinate search over a grid maximises
that count:

1. leave-one-collection-out: weights fitted without a collection pick its leads, against the
   weights that ship -- the figure that says whether fitted weights hold on a collection
   they were not fitted on;
2. the weights fitted on every collection, printed scaled so that cosine, coverage and
   passage cosine sum to what they sum to now (the reader's weight scaled alike): the
   argmax is the same, and the score keeps the range that the runner-up ratios of
   qa/answer/extractive.py and the answer gate read.

Run after eval/run.py and its --gold-style run (they build the indexes):

  .venv/bin/python eval/fit_weights.py [--features F.json] [--reuse]
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np
from lead_ranks import answerable_candidates, tuning_sets
from run import CACHE

import qa.answer.scoring as scoring
from qa.answer.figures import has_answer_kind
from qa.answer.quotes import in_context
from qa.answer.scoring import asks
from qa.eval import answer_is_correct

PARTS = ("W_COSINE", "W_OVERLAP", "W_PASSAGE", "W_TITLE", "W_KIND")
GRIDS = (
    np.arange(0.0, 2.001, 0.05),  # cosine
    np.arange(0.0, 0.801, 0.05),  # coverage
    np.arange(0.0, 0.501, 0.025),  # passage cosine
    np.arange(0.0, 0.401, 0.025),  # title and headings
    np.arange(0.0, 0.401, 0.025),  # gives the kind asked
    np.arange(0.0, 3.001, 0.25),  # the reading, times its weight now
)


def shipped() -> np.ndarray:
    return np.array([getattr(scoring, p) for p in PARTS] + [1.0])


def collect() -> list[dict]:
    scoring.READ_TOP = scoring.MULTILINGUAL_READ_TOP = 10_000  # read every candidate
    data = []
    for name, docs, gold in tuning_sets():
        for item, q, query, scorer, sentences in answerable_candidates(name, docs, gold):
            hand = scorer.score(q, query, sentences)
            read = scorer.read(q, hand)
            rows = []
            _, parts = scorer.score_parts(q, query, sentences)
            for h, r, x in zip(hand, read, parts, strict=True):
                if asks(h.text):
                    continue
                rows.append(
                    {
                        "x": [*x, r.score - h.score],
                        "kind": not q.kind or has_answer_kind(h.text, q.kind, set(q.figures)),
                        "answers": answer_is_correct(in_context(h).text, item["answers"]),
                    }
                )
            data.append({"collection": name, "id": item["id"], "kind": bool(q.kind), "rows": rows})
        print(f"{name}: {len(data)} questions so far", file=sys.stderr, flush=True)
    return data


def matrices(data: list[dict]) -> list[tuple[str, np.ndarray, np.ndarray]]:
    out = []
    for d in data:
        if not d["rows"]:
            continue
        x = np.array([r["x"] for r in d["rows"]])
        y = np.array([r["answers"] for r in d["rows"]])
        kind = np.array([r["kind"] for r in d["rows"]])
        keep = kind if d["kind"] and kind.any() else np.ones(len(kind), bool)
        out.append((d["collection"], x[keep], y[keep]))
    return out


def led(w: np.ndarray, questions) -> int:
    """Questions whose highest-scoring candidate answers them."""
    return sum(bool(y[int(np.argmax(x @ w))]) for _, x, y in questions)


def fit(questions, start: np.ndarray, passes: int = 3) -> np.ndarray:
    w, best = start.copy(), led(start, questions)
    for _ in range(passes):
        for i, grid in enumerate(GRIDS):
            for v in grid:
                trial = w.copy()
                trial[i] = round(float(v), 3)
                n = led(trial, questions)
                if n > best:
                    best, w = n, trial
    return w


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--features", type=Path, default=CACHE / "weight-features.json")
    ap.add_argument("--reuse", action="store_true", help="the features collected last time")
    args = ap.parse_args()
    if args.reuse:
        data = json.loads(args.features.read_text(encoding="utf-8"))
    else:
        data = collect()
        args.features.write_text(json.dumps(data), encoding="utf-8")
    questions = matrices(data)
    now = shipped()
    print(f"{'collection':<12}{'n':>5}{'shipped':>9}{'fitted without it':>19}")
    totals = [0, 0]
    for name in sorted({c for c, *_ in questions}):
        held = [q for q in questions if q[0] == name]
        w = fit([q for q in questions if q[0] != name], now)
        a, b = led(now, held), led(w, held)
        totals[0] += a
        totals[1] += b
        print(f"{name:<12}{len(held):>5}{a:>9}{b:>19}")
    print(f"{'all':<12}{len(questions):>5}{totals[0]:>9}{totals[1]:>19}")
    w = fit(questions, now)
    scale = now[:3].sum() / w[:3].sum()
    print(f"fitted on all ({led(w, questions)} of {len(questions)} led right), scaled:")
    for name, value in zip(PARTS, w[:5] * scale, strict=True):
        print(f"  {name} = {value:.3f}")
    print(f"  W_READER = {scoring.W_READER * w[5] * scale:.4f}")
    print(f"  W_MULTILINGUAL = {scoring.W_MULTILINGUAL * w[5] * scale:.4f}")


if __name__ == "__main__":
    main()
