"""Where the answer step loses answerable questions: the rank of the first candidate that answers.

For each answerable question of the tuning halves and the gold-style groups, the
candidates of its answer passages ranked by the answer step's final score (hand score
plus reading; a sentence that asks is no candidate), and the rank of the first whose
quote (`quotes.in_context`) holds the gold answer. Rank 1 is the lead the answer quotes;
"none": no candidate of the answer passages gives it (retrieval lost it). Run after
eval/run.py and its --gold-style run, which build the indexes under .cache/eval/:

  .venv/bin/python eval/lead_ranks.py [--json ranks.json]

With --reader-scales, also the number of questions led right with the readers' weights
(scoring.W_READER, W_MULTILINGUAL, W_SECOND_READING) times each scale, per collection, and
with the scale chosen without the collection (leave one collection out): how the readers'
weights were set (docs/quality.md, twenty-first round).
"""

from __future__ import annotations

import argparse
import json
import statistics
from collections import Counter
from pathlib import Path

from run import collections, env_for

from qa.answer.question import analyse
from qa.answer.quotes import in_context
from qa.answer.scoring import asks
from qa.api import QA, answer_passages
from qa.config import Settings
from qa.eval import answer_is_correct
from qa.text import languages_of

# the splits decisions are taken on: the collections' tuning halves and the groups
TUNING = ("tune", "held-out")


def tuning_sets():
    for name, (docs, splits) in collections(None, gold_style=True).items():
        for split in TUNING:
            if split in splits:
                yield name, docs, splits[split]


def answerable_candidates(name: str, docs: Path, gold: Path):
    """For each answerable question of a gold file: the item, its analysed question and
    vector, the scorer the answer step uses, and the candidate sentences of its answer
    passages in passage order."""
    qa = QA(Settings.from_env(env_for(name, docs)))
    index = qa.index
    for line in gold.read_text(encoding="utf-8").splitlines():
        item = json.loads(line) if line.strip() else None
        if not item or not item["answerable"]:
            continue
        q = analyse(item["question"], languages_of(index.term_idf))
        query, hits, answerer = qa._retrieve(index, q, qa.settings.top_k)
        scorer = answerer.scorer
        passages = answer_passages(hits, qa.settings.answer_passages)
        yield item, q, query, scorer, scorer.candidates(passages, question=q)


def ranks(name: str, docs: Path, gold: Path) -> list[dict]:
    out = []
    for item, q, query, scorer, candidates in answerable_candidates(name, docs, gold):
        hand = scorer.score(q, query, candidates)
        scored = scorer.read(q, hand)
        # (hand score, what the readings add, answers) per candidate: the readers' weights
        # scaled without asking again (`led_at`)
        parts = [
            (h.score, s.score - h.score, answer_is_correct(in_context(s).text, item["answers"]))
            for h, s in zip(hand, scored, strict=True)
            if not asks(s.text)
        ]
        ranked = sorted((s for s in scored if not asks(s.text)), key=lambda s: -s.score)
        rank = next(
            (
                i
                for i, s in enumerate(ranked, start=1)
                if answer_is_correct(in_context(s).text, item["answers"])
            ),
            None,
        )
        out.append(
            {
                "collection": name,
                "id": item["id"],
                "question": item["question"],
                "rank": rank,
                "gap": round(ranked[0].score - ranked[rank - 1].score, 4) if rank else None,
                "lead": ranked[0].text if ranked else "",
                "answering": ranked[rank - 1].text if rank else "",
                "parts": parts,
            }
        )
    return out


def bucket(rank: int | None) -> str:
    if rank is None:
        return "none"
    return str(rank) if rank <= 5 else "6-10" if rank <= 10 else ">10"


SCALES = (0.0, 0.25, 0.5, 0.75, 1.0, 1.5, 2.0)


def led_at(rows: list[dict], scale: float) -> int:
    """Questions whose lead answers them with the readings' weights times `scale`."""
    led = 0
    for r in rows:
        if r["parts"]:
            best = max(r["parts"], key=lambda p: p[0] + scale * p[1])
            led += best[2]
    return led


def reader_scales(rows: list[dict]) -> None:
    names = sorted({r["collection"] for r in rows})
    by = {n: [r for r in rows if r["collection"] == n] for n in names}
    table = {(n, s): led_at(by[n], s) for n in names for s in SCALES}
    print("led right, the readers' weights times: " + "  ".join(f"{s:g}" for s in SCALES))
    held_out = 0
    for n in names:
        # the scale best without n; ties go to the one nearest the shipped weights
        pick = max(SCALES, key=lambda s: (sum(table[m, s] for m in names if m != n), -abs(s - 1)))
        held_out += table[n, pick]
        cells = "  ".join(f"{table[n, s]:>3}" for s in SCALES)
        print(f"  {n:<10}{len(by[n]):>4}  {cells}   without it: x{pick:g} -> {table[n, pick]}")
    cells = "  ".join(f"{sum(table[n, s] for n in names):>3}" for s in SCALES)
    print(f"  {'all':<10}{len(rows):>4}  {cells}   leave one out: {held_out}")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--json", type=Path, help="write every question's row here")
    ap.add_argument(
        "--reader-scales",
        action="store_true",
        help="also the leads with the readers' weights scaled",
    )
    args = ap.parse_args()
    rows = [row for sets in tuning_sets() for row in ranks(*sets)]
    counts = Counter(bucket(r["rank"]) for r in rows)
    order = ["1", "2", "3", "4", "5", "6-10", ">10", "none"]
    print(f"{len(rows)} answerable questions; rank of the first answering candidate:")
    print("  " + "  ".join(f"{b}: {counts[b]}" for b in order))
    gaps = [r["gap"] for r in rows if r["rank"] == 2]
    if gaps:
        print(
            f"  median score gap of a second-placed answer to the lead: {statistics.median(gaps):.3f}"
        )
    if args.reader_scales:
        reader_scales(rows)
    if args.json:
        args.json.write_text(json.dumps(rows, ensure_ascii=False, indent=1), encoding="utf-8")


if __name__ == "__main__":
    main()
