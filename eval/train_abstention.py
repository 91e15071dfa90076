"""Train the answer gate (qa/answer/abstention.json) on the tuning halves only.

The gate decides whether a question that reached an answer (its best passage cleared the
calibrated threshold, a sentence was chosen) should be answered at all. Its examples are
the questions that reach it, through the pipeline with the gate open, on every development
collection:

- answerable: the collection's own answerable tuning questions;
- not answerable: its unanswerable tuning questions, the answerable tuning questions of the
  *other* collections (a legal question asked of the manuals), and the calibration's
  off-topic probes (qa/store/calibration.py), of which about three in ten clear the
  threshold by construction.

Besides the development collections, three groups of the reader's questions (EXTRA) are
collections of their own: four collections' questions alone taught the gate that a question
in words the text never writes (today's words about 1790 prose) is off-topic.

Report halves are never read. Each collection is answered with the ranker fitted without it
(`.cache/eval/<name>/ranker-held-out.json`, from eval/train_ranker.py), so its confidence
feature is that of an unseen collection.

The threshold lets through all but COST of the answerable questions, measured on held-out
predictions (each collection scored by a gate fitted on the others), so that it holds on a
collection the gate has not seen. Printed: per collection, what a gate fitted without it
does there. Written: the gate fitted on every collection, and per collection the gate
fitted without it (`.cache/eval/<name>/gate-held-out.json`, which eval/run.py uses for that
collection's figures).

  python3 eval/reader/fetch_docs.py                    # the reader groups' documents, once
  .venv/bin/python eval/train_ranker.py --dry-run      # the held-out rankers (ranker.json kept)
  .venv/bin/python eval/train_abstention.py            # collects, trains, writes
  .venv/bin/python eval/train_abstention.py --dry-run  # the leave-one-out table only
  .venv/bin/python eval/train_abstention.py --reuse    # the features collected last time
"""

from __future__ import annotations

import argparse
import json
import sys
import threading
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from train_ranker import EXTRA, GOLD_STYLE, TRAINED_ON, collection_qa, documents, gold  # noqa: E402

from qa.answer.abstention import FEATURES, MODEL_PATH, Gate, logit  # noqa: E402
from qa.answer.ranker import Ranker  # noqa: E402
from qa.eval import answer_is_correct, calibration  # noqa: E402
from qa.store.calibration import OFF_TOPIC_PROBES  # noqa: E402

CACHE = ROOT / ".cache" / "eval"
FEATURES_CACHE = CACHE / "gate-features.json"
COST = 0.03  # the share of answerable questions the gate may turn away
C = 1.0  # inverse L2 strength of the logistic regression


class Recorder:
    """An open gate that keeps the feature rows it is shown."""

    def __init__(self) -> None:
        self.rows: list[list[float]] = []
        self._lock = threading.Lock()

    def probability(self, x: np.ndarray) -> float:
        with self._lock:
            self.rows.append(np.asarray(x).tolist())
        return 1.0

    def confidence(self, ranker: float, answerable: float) -> float:
        return ranker

    def judge(self, answer):
        return answer


def collect(names: list[str]) -> list[dict]:
    """One example per question part that reaches the gate."""
    questions = {n: gold(n) for n in names}
    examples = []
    for name in names:
        held_out = CACHE / name / "ranker-held-out.json"
        recorder = Recorder()
        ranker = str(held_out) if held_out.exists() else ""
        qa = collection_qa(documents(name), CACHE / name, gate=recorder, ranker=ranker)
        asked = [(it, "own") for it in questions[name]]
        asked += [(it, "elsewhere") for n in names if n != name for it in questions[n]]
        asked = [(it, kind) for it, kind in asked if kind == "own" or it["answerable"]]
        asked += [
            ({"id": f"probe-{i}", "question": p}, "probe") for i, p in enumerate(OFF_TOPIC_PROBES)
        ]
        for it, kind in asked:
            recorder.rows.clear()
            answer = qa.ask(it["question"], 10, answerer="extractive")
            answerable = kind == "own" and it["answerable"]
            correct = answerable and answer_is_correct(answer.answer, it["answers"])
            for x in recorder.rows:
                examples.append(
                    {
                        "collection": name,
                        "id": it["id"],
                        "kind": kind,
                        "answerable": answerable,
                        "correct": correct,
                        "x": x,
                    }
                )
        reached = [e for e in examples if e["collection"] == name]
        print(
            f"{name}: {len(asked)} questions asked, {len(reached)} parts reached the gate "
            f"({sum(e['answerable'] for e in reached)} answerable)",
            flush=True,
        )
    return examples


def fit_model(examples: list[dict]) -> Ranker:
    from sklearn.linear_model import LogisticRegression

    x = np.asarray([e["x"] for e in examples], dtype=np.float64)
    y = np.asarray([e["answerable"] for e in examples])
    mean, scale = x.mean(0), x.std(0) + 1e-6
    model = LogisticRegression(C=C, max_iter=5000).fit((x - mean) / scale, y)
    return Ranker(mean, scale, model.coef_[0], float(model.intercept_[0]), FEATURES)


def held_out_probabilities(examples: list[dict]) -> list[float]:
    """Each example's probability from a model fitted without its collection."""
    names = sorted({e["collection"] for e in examples})
    out = [0.0] * len(examples)
    for name in names:
        model = fit_model([e for e in examples if e["collection"] != name])
        rows = [i for i, e in enumerate(examples) if e["collection"] == name]
        p = model.probabilities(np.asarray([examples[i]["x"] for i in rows]))
        for i, pi in zip(rows, p, strict=True):
            out[i] = float(pi)
    return out


def fit_gate(examples: list[dict]) -> Gate:
    """The model fitted on every example, with the threshold that turns away COST of the
    answerable ones when each collection is scored by a model fitted without it; and the
    calibration of the answer's confidence, fitted on the collections' own questions
    (answered right or not) with those held-out probabilities."""
    from sklearn.linear_model import LogisticRegression

    p = held_out_probabilities(examples)
    answerable = [pi for pi, e in zip(p, examples, strict=True) if e["answerable"]]
    own = [(e, pi) for e, pi in zip(examples, p, strict=True) if e["kind"] == "own"]
    x = [[e["x"][FEATURES.index("confidence_logit")], logit(pi)] for e, pi in own]
    fit = LogisticRegression(C=C).fit(x, [e["correct"] for e, _ in own])
    calibration = (float(fit.coef_[0][0]), float(fit.coef_[0][1]), float(fit.intercept_[0]))
    return Gate(fit_model(examples), float(np.quantile(answerable, COST)), calibration)


def report(name: str, gate: Gate, examples: list[dict]) -> str:
    mine = [e for e in examples if e["collection"] == name]
    shut = [gate.probability(np.asarray(e["x"])) < gate.threshold for e in mine]

    def count(test) -> str:
        hits = [s for e, s in zip(mine, shut, strict=True) if test(e)]
        return f"{sum(hits)}/{len(hits)}"

    return (
        f"{name:9s} threshold {gate.threshold:.3f}  turned away: answerable "
        f"{count(lambda e: e['answerable'])} (of them right {count(lambda e: e['correct'])}), "
        f"unanswerable {count(lambda e: e['kind'] == 'own' and not e['answerable'])}, "
        f"other collections' {count(lambda e: e['kind'] == 'elsewhere')}, "
        f"probes {count(lambda e: e['kind'] == 'probe')}"
    )


def main() -> None:
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("--dry-run", action="store_true", help="print the table, write nothing")
    ap.add_argument("--reuse", action="store_true", help=f"read {FEATURES_CACHE.name}")
    ap.add_argument("--collections", nargs="*", help="names (default: TRAINED_ON)")
    ap.add_argument("--no-extra", action="store_true", help=f"leave out the reader groups {EXTRA}")
    ap.add_argument("--gold-style", action="store_true", help=f"also learn from {GOLD_STYLE}")
    args = ap.parse_args()
    names = sorted(args.collections or TRAINED_ON) + ([] if args.no_extra else sorted(EXTRA))
    names += sorted(GOLD_STYLE) if args.gold_style else []
    if args.reuse:
        saved = json.loads(FEATURES_CACHE.read_text(encoding="utf-8"))
        if saved["collections"] != names:  # each asks the others' questions: all or none
            sys.exit(
                f"{FEATURES_CACHE} holds {saved['collections']}, not {names}: run without --reuse"
            )
        examples = saved["examples"]
    else:
        examples = collect(names)
        FEATURES_CACHE.parent.mkdir(parents=True, exist_ok=True)
        saved = {"collections": names, "examples": examples}
        FEATURES_CACHE.write_text(json.dumps(saved), encoding="utf-8")
    print("Leave one collection out (each line: the gate fitted on the other collections):")
    held_out = {n: fit_gate([e for e in examples if e["collection"] != n]) for n in names}
    for name in names:
        print(report(name, held_out[name], examples))
    raw, calibrated = [], []  # (confidence, right)
    for name in names:
        gate = held_out[name]
        for e in examples:
            if e["collection"] == name and e["kind"] == "own":
                ranker = 1 / (1 + np.exp(-e["x"][FEATURES.index("confidence_logit")]))
                raw.append((float(ranker), e["correct"]))
                answerable = gate.probability(np.asarray(e["x"]))
                calibrated.append((gate.confidence(float(ranker), answerable), e["correct"]))
    print(
        f"confidence, {len(raw)} own questions on collections not fitted on: calibration error "
        f"{calibration(raw)['calibration_error']:.3f} as the ranker's probability, "
        f"{calibration(calibrated)['calibration_error']:.3f} calibrated; Brier "
        f"{np.mean([(c - r) ** 2 for c, r in raw]):.3f} against "
        f"{np.mean([(c - r) ** 2 for c, r in calibrated]):.3f}"
    )
    final = fit_gate(examples)
    print(f"final gate: threshold {final.threshold:.3f}")
    print(
        "  "
        + ", ".join(f"{f} {w:+.2f}" for f, w in zip(FEATURES, final.model.weights, strict=True))
    )
    if args.dry_run:
        return
    MODEL_PATH.write_text(json.dumps(final.to_dict(), indent=1) + "\n", encoding="utf-8")
    for name, gate in held_out.items():
        (CACHE / name / "gate-held-out.json").write_text(json.dumps(gate.to_dict()) + "\n")
    print(f"wrote {MODEL_PATH.relative_to(ROOT)} and .cache/eval/*/gate-held-out.json")


if __name__ == "__main__":
    main()
