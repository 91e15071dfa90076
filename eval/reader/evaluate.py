"""Top-1 of the hand score, the FAQ-trained cross-encoder, and their fusion on the system's
real candidates, per collection; the fusion weight is chosen leave-one-collection-out.

    PYTHONPATH=. .venv/bin/python eval/reader/evaluate.py .cache/reader/ce-L6/scores.json

Counts answerable tuning questions that have at least one positive candidate (and, in
brackets, the top-1 over all answerable questions as eval/cross_encoder_loco.py counts).
Fusions: hand + w * logit; hand with w * z-scored logit in place of its cosine (swap); hand + w * per-question z-scored logit; reciprocal-rank fusion
1/(k+rank_hand) + w/(k+rank_ce).
"""

import json
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent.parent
sys.path.insert(0, str(ROOT))
from eval.train_ranker import hand_score  # noqa: E402
from qa.answer.ranker import FEATURES  # noqa: E402

NAMES = ["legal", "manuals", "ukraine", "web"]
F = FEATURES.index
READ_TOP = 8


def cosine(q):
    return np.asarray(q["x"]).reshape(-1, len(FEATURES))[:, F("cosine")]


def hand(q):
    return hand_score(q["x"])


def ranks(s):
    r = np.empty(len(s))
    r[np.argsort(-s)] = np.arange(len(s))
    return r


def fused(kind, h, c, w, cos=None):
    if kind == "swap":  # the cross-encoder's z-score in place of the hand score's cosine
        return h - 0.55 * cos + w * (c - c.mean()) / (c.std() + 1e-6)
    if kind == "raw":
        return h + w * c
    if kind == "top":  # the runtime's form: read only the hand score's best READ_TOP
        top = np.argsort(-h, kind="stable")[:READ_TOP]
        out = h.copy()
        ct = c[top]
        out[top] += w * (ct - ct.mean()) / (ct.std() + 1e-6)
        return out
    if kind.startswith("raw@"):  # read the hand score's best N; the rest take the lowest read
        top = np.argsort(-h, kind="stable")[: int(kind[4:])]
        read = np.full(len(h), c[top].min())
        read[top] = c[top]
        return h + w * read
    if kind == "z":
        return h + w * (c - c.mean()) / (c.std() + 1e-6)
    return 1 / (60 + ranks(h)) + w / (60 + ranks(c))  # rrf


def main():
    blob = json.loads(Path(sys.argv[1]).read_text())
    sc = blob["scores"]
    D = {}
    for n in NAMES:
        data = json.loads((ROOT / f".cache/eval/{n}/ranker-features.json").read_text())
        D[n] = [
            (np.asarray(q["y"]), hand(q), np.asarray(sc[f"{n}/{q['id']}"]), cosine(q))
            for q in data
            if q["answerable"] and q["texts"] and any(q["y"])
        ]
        D[n + "_all"] = sum(1 for q in data if q["answerable"])

    def hits(n, f):
        return sum(int(y[int(np.argmax(f(h, c, cos)))]) for y, h, c, cos in D[n])

    grids = {
        "raw": np.linspace(0, 0.2, 41),
        "z": np.linspace(0, 0.3, 31),
        "rrf": np.linspace(0, 3, 31),
        "swap": np.linspace(0, 0.5, 51),
        "top": np.linspace(0, 0.3, 31),
        **{f"raw@{n}": np.linspace(0, 0.2, 41) for n in (5, 8, 12, 16)},
    }
    print(json.dumps(blob.get("meta", {})))
    print(
        f"{'collection':10} {'n':>3} {'hand':>12} {'CE':>12} "
        + " ".join(f"{k + ' (w)':>18}" for k in grids)
    )
    tot = {"hand": 0, "ce": 0, **{k: 0 for k in grids}, "n": 0}
    for held in NAMES:
        n = len(D[held])
        hh = hits(held, lambda h, c, cos: h)
        hc = hits(held, lambda h, c, cos: c)
        row = (
            f"{held:10} {n:>3} {hh / n:.3f} ({hh / D[held + '_all']:.2f}) "
            f"{hc / n:.3f} ({hc / D[held + '_all']:.2f})"
        )
        tot["hand"] += hh
        tot["ce"] += hc
        tot["n"] += n
        for k, grid in grids.items():
            # fit w on the other three collections (ties: the smallest w)
            fit = [
                sum(
                    hits(m, lambda h, c, cos, w=w, k=k: fused(k, h, c, w, cos))
                    for m in NAMES
                    if m != held
                )
                for w in grid
            ]
            w = grid[int(np.argmax(fit))]
            hf = hits(held, lambda h, c, cos, w=w, k=k: fused(k, h, c, w, cos))
            tot[k] += hf
            row += f" {hf / n:>10.3f} ({w:.3g})"
        print(row)
    n = tot["n"]
    print(
        f"{'all':10} {n:>3} {tot['hand'] / n:.3f}        {tot['ce'] / n:.3f}        "
        + " ".join(f"{tot[k] / n:>10.3f}        " for k in grids)
    )


if __name__ == "__main__":
    main()
