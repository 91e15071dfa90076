"""A reader on groups it was not trained on: top-1 of the hand score and of hand + w × the
reader's logit, in the runtime's form (the hand score's best READ_TOP read, the rest at the
lowest reading), per group and over all, for a few weights.

    PYTHONPATH=. .venv/bin/python eval/reader/heldout.py qa/answer/reader.safetensors sotu3 tech-c news2

The shipped reader was trained on sotu, sotu2, tech-a, tech-b and webnews, so the other
groups' questions (752 with their evidence sentence among the candidates) are a held-out
set seven times the tuning halves'. A positive is the evidence sentence itself.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent.parent
sys.path.insert(0, str(ROOT))
from eval.reader.collect import evidence_by_id  # noqa: E402
from eval.reader.evaluate import fused  # noqa: E402
from eval.train_ranker import hand_score  # noqa: E402
from qa.answer.reader import Reader  # noqa: E402
from qa.answer.scoring import READ_TOP, W_READER  # noqa: E402
from qa.eval import passage_matches  # noqa: E402

WEIGHTS = (0.0, 0.01, 0.02, W_READER, 0.05, 0.1, 1.0)


def main() -> None:
    reader, groups = Reader(Path(sys.argv[1])), sys.argv[2:]
    evidence = evidence_by_id()
    rows = {}
    for g in groups:
        rows[g] = []
        for q in json.loads((ROOT / ".cache/reader" / g / "features.json").read_text()):
            y = np.asarray([passage_matches(t, evidence[q["id"]]) for t in q["texts"]])
            if not y.any():
                continue
            h = hand_score(q["x"])
            top = np.argsort(-h, kind="stable")[:READ_TOP]
            c = np.zeros(len(h))
            c[top] = reader.scores(q["question"], [q["texts"][i] for i in top])
            rows[g].append((y, h, c))
    n = {g: len(r) for g, r in rows.items()}
    print("weight " + " ".join(f"{g} ({n[g]})" for g in groups) + f" all ({sum(n.values())})")
    for w in WEIGHTS:
        hits = {
            g: sum(int(y[int(np.argmax(fused(f"raw@{READ_TOP}", h, c, w)))]) for y, h, c in r)
            for g, r in rows.items()
        }
        print(
            f"{w:<6} "
            + " ".join(f"{hits[g] / n[g]:.3f}" for g in groups)
            + f" {sum(hits.values()) / sum(n.values()):.3f}"
        )


if __name__ == "__main__":
    main()
