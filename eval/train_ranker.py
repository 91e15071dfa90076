"""Train the answer-sentence ranker (qa/answer/ranker.json) on the tuning halves only.

For every tuning question of every development collection, the pipeline's own candidate
sentences and their features (`QA.sentence_candidates`); a sentence is a positive when it
would count as a correct citation under the shared scoring rules (it holds 60% of an
evidence quote, or every answer group). Then:

1. leave-one-collection-out: a logistic regression fitted on the other collections ranks
   each collection's candidates, and the figures printed are those of answering with the
   most probable sentence(s), abstaining below a threshold -- on collections the model has
   not seen (the threshold and the runner-up share chosen on those held-out predictions:
   +1 a correct answer or abstention, -PENALTY a wrong answer);
   Each of those models is kept as .cache/eval/<name>/ranker-held-out.json: eval/run.py
   answers that collection's questions with it (QA_RANKER), so its figures never come from
   a ranker that has read the collection's questions;
2. the final model is fitted on every tuning half and written as JSON. The answer reports
   its probability as `confidence`; whether it should also choose the sentences is decided
   by comparing those figures with the pipeline's own on the same tuning halves
   (eval/run.py --split tune).

  .venv/bin/python eval/train_ranker.py            # collects features, trains, writes the model
  .venv/bin/python eval/train_ranker.py --dry-run  # the leave-one-out table only
"""

from __future__ import annotations

import argparse
import json
import sys
from dataclasses import replace
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from qa.answer.ranker import FEATURES, MODEL_PATH, Ranker  # noqa: E402
from qa.eval import answer_is_correct, passage_matches  # noqa: E402
from qa.ingest.sentences import split_sentences  # noqa: E402

COLLECTIONS = ROOT / "eval" / "collections"
# The collections whose tuning halves the answer ranker and the answer gate learn from (the
# gate also from EXTRA, below). `papers` (added later) is never trained on: its figures, both
# halves, are always those of a collection no model has seen.
TRAINED_ON = ("legal", "manuals", "ukraine", "web")
CACHE = ROOT / ".cache" / "eval"
READER = ROOT / "eval" / "reader"
# More collections to learn from: groups of the reader's questions (eval/reader/README.md)
# whose documents the reader never learned from, so that its logit, a feature, is what it is
# on documents it has not read: State of the Union addresses of 1805-2007, documentation
# pages of ten PyPI projects, news pages. Every one of their questions is answerable; asked
# of the other collections they are off-topic ones. EXTRA_QUESTIONS of each, evenly spread,
# keep the cross-asking to minutes; a quarter of them in their Vietnamese translation
# (eval/reader/data/vi/), as a Vietnamese user asks about English documents.
EXTRA = ("news2", "sotu3", "tech-c")
EXTRA_QUESTIONS = 80
# The gold-style groups (eval/reader/gs-*-sources.json): documents of the development
# collections' kinds with questions written as the gold sets' are, unanswerable ones among
# them (eval/reader/data/unanswerable/).
GOLD_STYLE = ("gs-gov", "gs-news", "gs-papers", "gs-pdfman", "gs-specs", "gs-web")
PENALTY = 0.25  # a wrong answer costs a quarter of what a right one gains
C = 1.0  # inverse L2 strength of the logistic regression


def collection_qa(docs: Path, cache: Path, rebuild: bool = False, gate=None, **settings):
    """A QA over a folder of documents as a collection of its own, its index built (or
    brought up to date) under `cache`; `gate` and `settings` as QA and Settings take them."""
    from qa.api import QA
    from qa.config import Settings

    settings = replace(
        Settings.from_env(),
        corpus_dir=docs,
        index_dir=cache / "index",
        upload_dir=cache / "uploads",
        **settings,
    )
    qa = QA(settings, gate=gate)
    qa.build([docs], rebuild=rebuild)
    return qa


def json_lines(path: Path) -> list[dict]:
    """The records of a JSON-lines file (blank lines skipped)."""
    lines = path.read_text(encoding="utf-8").splitlines()
    return [json.loads(line) for line in lines if line.strip()]


def gold(name: str) -> list[dict]:
    """A collection's tuning questions; for a reader group, EXTRA_QUESTIONS of its
    questions in the gold sets' form (the answer sentence as the evidence); for a gold-style
    group, its answerable questions and its unanswerable ones."""
    if name not in EXTRA + GOLD_STYLE:
        return json_lines(COLLECTIONS / name / "tune.jsonl")
    if name in GOLD_STYLE:
        items = json_lines(READER / "data" / f"{name}.jsonl")
        unanswerable = json_lines(READER / "data" / "unanswerable" / f"{name}.jsonl")
        return [as_gold(it, it["question"]) for it in items] + [
            {
                "id": it["id"],
                "question": it["question"],
                "type": "unanswerable",
                "answerable": False,
                "answers": [],
                "evidence": [],
            }
            for it in unanswerable
        ]
    (path,) = (READER / "data").glob(f"{name}*.jsonl")
    items = json_lines(path)
    vi = {}
    for translations in (READER / "data" / "vi").glob("q*.vi.jsonl"):
        vi |= {t["id"]: t["vi"] for t in json_lines(translations)}
    translated = [it for it in items if it["id"] in vi]
    english = [it for it in items if it["id"] not in vi]
    n_vi = min(len(translated), EXTRA_QUESTIONS // 4)

    def spread(xs: list, n: int) -> list:
        return [xs[round(i * len(xs) / n)] for i in range(n)] if n else []

    chosen = [(it, it["question"]) for it in spread(english, EXTRA_QUESTIONS - n_vi)]
    chosen += [(it, vi[it["id"]]) for it in spread(translated, n_vi)]
    return [as_gold(it, q) for it, q in chosen]


def as_gold(item: dict, question: str) -> dict:
    """A reader question in the gold sets' form: its answer sentence is the evidence."""
    return {
        "id": item["id"],
        "question": question,
        "type": item["type"],
        "answerable": True,
        "answers": [[item["answer"]]],
        "evidence": [{"quote": item["evidence"]}],
    }


def documents(name: str) -> Path:
    """The folder of a collection's documents (a reader group's under eval/reader/docs/)."""
    folder = READER / "docs" / name if name in EXTRA + GOLD_STYLE else COLLECTIONS / name / "docs"
    if not folder.is_dir():
        sys.exit(f"{folder} is missing: python3 eval/reader/fetch_docs.py brings it")
    return folder


def sentence_before(passage, start: int) -> str:
    """The sentence before the one at document offset `start`, within its passage ("" for
    the passage's first): the context experiment of eval/reader/README.md."""
    spans = passage.sentences or tuple(split_sentences(passage.text))
    previous = [(a, b) for a, b in spans if b <= start - passage.start]
    return passage.text[slice(*previous[-1])] if previous else ""


def candidate_rows(qa, question: str, quotes: list[str], answers: list[list[str]]) -> dict:
    """The answer step's candidate sentences for a question, with their features and labels:
    a positive would count as a correct citation (it holds 60% of an evidence quote, or
    every answer group)."""
    sentences, x = qa.sentence_candidates(question)
    labels = [
        bool(quotes)
        and (any(passage_matches(s.text, q) for q in quotes) or answer_is_correct(s.text, answers))
        for s in sentences
    ]
    return {
        "x": x.tolist(),
        "y": labels,
        "texts": [s.text for s in sentences],
        "before": [sentence_before(s.hit.passage, s.start) for s in sentences],
        "spans": [(s.hit.passage.doc_id, s.start, s.end) for s in sentences],
    }


def collect(name: str, rebuild: bool = False) -> list[dict]:
    """Per tuning question: feature rows, labels, the sentences' texts and spans."""
    qa = collection_qa(documents(name), CACHE / name, rebuild)
    out = []
    for item in gold(name):
        quotes = [e["quote"] for e in item.get("evidence", [])]
        out.append(
            {
                "id": item["id"],
                "answerable": item["answerable"],
                "answers": item.get("answers", []),
            }
            | candidate_rows(qa, item["question"], quotes, item["answers"])
        )
    print(f"{name}: {len(out)} questions, {sum(len(o['y']) for o in out)} candidate sentences")
    return out


def hand_score(x: np.ndarray) -> np.ndarray:
    """The answer step's own sentence score (qa/answer/scoring.py) from feature rows, as far
    as the features hold it (not the title bonus nor the who-question's name)."""
    from qa.answer.scoring import W_COSINE, W_KIND, W_OVERLAP, W_PASSAGE

    x = np.asarray(x).reshape(-1, len(FEATURES))
    f = FEATURES.index
    return (
        W_COSINE * x[:, f("cosine")]
        + W_OVERLAP * x[:, f("coverage")]
        + W_PASSAGE * x[:, f("passage_cosine")]
        + W_KIND * x[:, f("gives_kind")]
    )


def fit(questions: list[dict]) -> Ranker:
    from sklearn.linear_model import LogisticRegression

    x = np.vstack([np.asarray(q["x"]) for q in questions if q["x"]])
    y = np.concatenate([q["y"] for q in questions if q["x"]])
    mean, scale = x.mean(0), x.std(0) + 1e-6
    model = LogisticRegression(C=C, max_iter=5000).fit((x - mean) / scale, y)
    return Ranker(mean, scale, model.coef_[0], float(model.intercept_[0]))


def select(
    probabilities: np.ndarray,
    spans: list[tuple],
    threshold: float,
    runner_up: float,
    limit: int = 3,
) -> list[int] | None:
    """The ranker as a selector: the most probable sentence, then those within `runner_up`
    of it that overlap none chosen; None (abstain) when the best is below `threshold`."""
    if len(probabilities) == 0:
        return None
    order = np.argsort(-probabilities, kind="stable")
    best = float(probabilities[order[0]])
    if best < threshold:
        return None
    chosen = [int(order[0])]
    for i in order[1:]:
        if len(chosen) >= limit or probabilities[i] < max(threshold, runner_up * best):
            break
        doc, start, end = spans[i]
        if any(d == doc and s < end and start < e for d, s, e in (spans[c] for c in chosen)):
            continue
        chosen.append(int(i))
    return chosen


def choose(questions: list[dict], p: list[np.ndarray], threshold: float, runner_up: float):
    """The indexes of the sentences an answer would quote (None: it abstains)."""
    out = []
    for q, probs in zip(questions, p, strict=True):
        spans = [tuple(s) for s in q["spans"]]
        out.append(select(probs, spans, threshold, runner_up, limit=3))
    return out


def figures(questions: list[dict], chosen: list) -> dict:
    answerable = [(q, c) for q, c in zip(questions, chosen, strict=True) if q["answerable"]]
    unanswerable = [c for q, c in zip(questions, chosen, strict=True) if not q["answerable"]]
    correct = sum(
        c is not None and answer_is_correct(" ".join(q["texts"][i] for i in c), q["answers"])
        for q, c in answerable
    )
    cited = [(q, i) for q, c in answerable if c is not None for i in c]
    return {
        "answer": round(correct / max(len(answerable), 1), 3),
        "cite.prec": round(sum(q["y"][i] for q, i in cited) / max(len(cited), 1), 3),
        "abst.rec": round(sum(c is None for c in unanswerable) / max(len(unanswerable), 1), 3),
        "false.abst": round(sum(c is None for _, c in answerable) / max(len(answerable), 1), 3),
    }


def utility(questions: list[dict], chosen: list) -> float:
    total = 0.0
    for q, c in zip(questions, chosen, strict=True):
        if c is None:
            total += 0.0 if q["answerable"] else 1.0
        elif not q["answerable"]:
            total -= PENALTY
        else:
            ok = answer_is_correct(" ".join(q["texts"][i] for i in c), q["answers"])
            total += 1.0 if ok else -PENALTY
    return total


def main() -> None:
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("--dry-run", action="store_true", help="print the table, write no model")
    ap.add_argument("--collections", nargs="*", help="names (default: TRAINED_ON)")
    ap.add_argument(
        "--extra",
        action="store_true",
        help=f"also learn from the reader groups {EXTRA} (measured, not shipped: "
        "docs/quality.md, twelfth round)",
    )
    ap.add_argument("--rebuild", action="store_true", help="re-embed the collections' indexes")
    ap.add_argument(
        "--cached",
        nargs="*",
        default=[],
        help="collections whose features from the last run are still valid (same code)",
    )
    args = ap.parse_args()
    names = list(args.collections or TRAINED_ON) + (list(EXTRA) if args.extra else [])
    data = {}
    for n in names:
        saved = CACHE / n / "ranker-features.json"
        if n in args.cached and saved.exists():
            data[n] = json.loads(saved.read_text())
        else:
            data[n] = collect(n, args.rebuild)
            saved.write_text(json.dumps(data[n]))
    held_out = {}
    for n in names:
        model = fit([q for m in names if m != n for q in data[m]])
        # eval/run.py answers this collection's questions with it
        (CACHE / n / "ranker-held-out.json").write_text(json.dumps(model.to_dict()))
        held_out[n] = [
            model.probabilities(np.asarray(q["x"]).reshape(-1, len(FEATURES))) for q in data[n]
        ]
    everything = [q for n in names for q in data[n]]
    predictions = [p for n in names for p in held_out[n]]
    grid = [(t, r) for t in np.arange(0.0, 0.61, 0.05) for r in (1.0, 0.8, 0.6, 0.5)]
    threshold, runner_up = max(
        grid, key=lambda tr: utility(everything, choose(everything, predictions, *tr))
    )
    print(
        f"\nchosen on held-out predictions: threshold {threshold:.2f}, runner-up share {runner_up}"
    )
    print("\nleave-one-collection-out, tuning halves (model fitted on the other collections):")
    print("| collection | answer | cite.prec | abst.rec | false.abst |\n|---|---|---|---|---|")
    for n in names:
        f = figures(data[n], choose(data[n], held_out[n], threshold, runner_up))
        print(f"| {n} | {f['answer']} | {f['cite.prec']} | {f['abst.rec']} | {f['false.abst']} |")
    final = fit(everything)
    print("\nweights (standardised features):")
    for name, w in sorted(zip(FEATURES, final.weights, strict=True), key=lambda fw: -abs(fw[1])):
        print(f"  {name:<28}{w:+.3f}")
    if not args.dry_run:
        MODEL_PATH.write_text(json.dumps(final.to_dict(), indent=1) + "\n", encoding="utf-8")
        print(f"\nwritten: {MODEL_PATH.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
