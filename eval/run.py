"""Every development collection, tuning and report halves, the pipeline beside the naive baseline.

One table: collection x split x system, with the figures of the shared gold-set README
(hit@5, answer accuracy, citation precision, abstention recall, false abstention), the
median answer length in words (accuracy bought with longer quotes is not accuracy) and the
expected calibration error of the answers' confidence (5 bins, `qa.eval.calibration`).

  .venv/bin/python eval/run.py                       # all collections, both halves, both systems
  .venv/bin/python eval/run.py --split tune          # decide on tuning halves only
  .venv/bin/python eval/run.py --collections legal --systems qa --json out.json

Collections are the folders of eval/collections/ (docs/, tune.jsonl, report.jsonl), plus
`shipped`: corpus/ with the shared dev.jsonl (../shared/eval/dev.jsonl) when it is there.
With --gold-style, also the six gold-style groups of eval/reader/ (split `held-out`: their
documents from eval/reader/fetch_docs.py, their answerable and unanswerable questions), which
no model that ships was fitted on.
Each collection gets its own index under .cache/eval/ (built once, updated by `qa index`
when documents change). Both systems are asked through `ask --json --k 10` on standard input
and scored by qa.eval's functions on the JSON, as ../shared/eval/score.py does.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from qa.eval import answer_is_correct, calibration, passage_matches  # noqa: E402

COLLECTIONS = ROOT / "eval" / "collections"
DEV = ROOT.parent / "shared" / "eval" / "dev.jsonl"
CACHE = ROOT / ".cache" / "eval"
BIN = Path(sys.executable).parent
FIGURES = ("hit@5", "answer", "cite.prec", "abst.rec", "false.abst", "words", "calib")


def collections(
    names: list[str] | None, gold_style: bool = False
) -> dict[str, tuple[Path, dict[str, Path]]]:
    """name -> (documents folder, split -> gold file)."""
    found = {}
    if gold_style:
        found |= gold_style_groups()
    if DEV.exists():
        found["shipped"] = (ROOT / "corpus", {"dev": DEV})
    for folder in sorted(p for p in COLLECTIONS.glob("*") if (p / "docs").is_dir()):
        splits = {s: folder / f"{s}.jsonl" for s in ("tune", "report")}
        found[folder.name] = (folder / "docs", {s: p for s, p in splits.items() if p.exists()})
    return {n: c for n, c in found.items() if not names or n in names}


def gold_style_groups() -> dict[str, tuple[Path, dict[str, Path]]]:
    """The gold-style groups as collections: their questions in the gold sets' form, written
    to .cache/eval/<group>/held-out.jsonl."""
    sys.path.insert(0, str(ROOT / "eval"))
    from train_ranker import GOLD_STYLE, documents, gold

    found = {}
    for name in GOLD_STYLE:
        items = [it | {"lang": "en"} for it in gold(name)]
        path = CACHE / name / "held-out.jsonl"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text("".join(json.dumps(it) + "\n" for it in items), encoding="utf-8")
        found[name] = (documents(name), {"held-out": path})
    return found


def env_for(name: str, docs: Path, held_out: bool = True) -> dict[str, str]:
    """The collection's own index; and, when `eval/train_ranker.py` and
    `eval/train_abstention.py` have written them, the answer ranker and the answer gate
    fitted without this collection's questions, so that its figures are those of a
    collection they have not seen."""
    env = os.environ | {
        "QA_CORPUS_DIR": str(docs),
        "QA_INDEX_DIR": str(CACHE / name / "index"),
        "QA_UPLOAD_DIR": str(CACHE / name / "uploads"),
    }
    loco = CACHE / name / "ranker-held-out.json"
    if held_out and loco.exists():
        env["QA_RANKER"] = str(loco)
    gate = CACHE / name / "gate-held-out.json"
    if held_out and gate.exists():
        env["QA_ABSTENTION_GATE"] = str(gate)
    return env


def ask(command: list[str], questions: list[str], env: dict[str, str]) -> list[dict]:
    done = subprocess.run(
        command + ["ask", "--json", "--k", "10"],
        input="\n".join(questions) + "\n",
        capture_output=True,
        text=True,
        cwd=ROOT,
        env=env,
    )
    outs = [json.loads(line) for line in done.stdout.splitlines() if line.startswith("{")]
    if len(outs) != len(questions):
        sys.exit(f"{command[0]}: {len(outs)}/{len(questions)} answers\n{done.stderr[-3000:]}")
    return outs


def score(items: list[dict], outs: list[dict]) -> tuple[dict, list[dict]]:
    """The shared README's figures for one run, and one row per item."""
    rows = []
    for it, o in zip(items, outs, strict=True):
        passages = [p.get("text", "") for p in o.get("passages", [])]
        abstained = bool(o.get("abstained"))
        row = {
            "id": it["id"],
            "type": it["type"],
            "lang": it["lang"],
            "question": it["question"],
            "answerable": it["answerable"],
            "abstained": abstained,
            "answer": o.get("answer", ""),
            "words": 0 if abstained else len(o.get("answer", "").split()),
            "reason": o.get("abstain_reason"),
            "confidence": o.get("confidence"),
            # the best passage's similarity above its calibrated threshold (<0: abstained
            # as off-topic): how near the bar an abstention or an answer was
            "margin": o.get("margin"),
        }  # noqa: E501
        if it["answerable"]:
            quotes = [e["quote"] for e in it["evidence"]]
            first = next(
                (k for k, p in enumerate(passages) if any(passage_matches(p, q) for q in quotes)),
                None,
            )
            row["hit@5"] = first is not None and first < 5
            row["correct"] = not abstained and answer_is_correct(o.get("answer", ""), it["answers"])
            good = [
                any(passage_matches(c.get("quote", ""), q) for q in quotes)
                or answer_is_correct(c.get("quote", ""), it["answers"])
                for c in o.get("citations", [])
            ]
            row["cit_ok"], row["cit_n"] = sum(good), len(good)
        rows.append(row)
    answerable = [r for r in rows if r["answerable"]]
    unanswerable = [r for r in rows if not r["answerable"]]

    def mean(xs: list) -> float | None:
        return round(sum(xs) / len(xs), 3) if xs else None

    cited = sum(r["cit_n"] for r in answerable)
    words = [r["words"] for r in rows if not r["abstained"]]
    figures = {
        "n": len(rows),
        "hit@5": mean([r["hit@5"] for r in answerable]),
        "answer": mean([r["correct"] for r in answerable]),
        "cite.prec": round(sum(r["cit_ok"] for r in answerable) / cited, 3) if cited else None,
        "abst.rec": mean([r["abstained"] for r in unanswerable]),
        "false.abst": mean([r["abstained"] for r in answerable]),
        "words": statistics.median(words) if words else None,
        # expected calibration error of the answers' confidence (an answered unanswerable
        # question counts as wrong); None for a system that gives none
        "calib": calibration(
            [
                (r["confidence"], bool(r.get("correct")))
                for r in rows
                if not r["abstained"] and r["confidence"] is not None
            ]
        )["calibration_error"],
    }
    return figures, rows


def main() -> None:
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("--collections", nargs="*", help="names (default: all)")
    ap.add_argument("--split", choices=("tune", "report", "dev", "held-out", "all"), default="all")
    ap.add_argument(
        "--gold-style", action="store_true", help="also the gold-style groups (split held-out)"
    )
    ap.add_argument("--systems", default="baseline,qa", help="comma-separated: qa, baseline")
    ap.add_argument("--json", type=Path, help="write every figure and item row here")
    ap.add_argument("--failures", action="store_true", help="print the failed items of qa")
    ap.add_argument("--rebuild", action="store_true", help="re-embed every collection's index")
    ap.add_argument(
        "--shipped-models",
        action="store_true",
        help="use the shipped ranker and answer gate everywhere, not those fitted without the "
        "collection",
    )
    args = ap.parse_args()
    systems = args.systems.split(",")
    results = {}
    for name, (docs, splits) in collections(args.collections, args.gold_style).items():
        env = env_for(name, docs, not args.shipped_models)
        if "qa" in systems:
            built = subprocess.run(
                [str(BIN / "qa"), "index", str(docs)] + (["--rebuild"] if args.rebuild else []),
                cwd=ROOT,
                env=env,
                capture_output=True,
                text=True,
            )
            if built.returncode:
                sys.exit(f"qa index {docs}: {built.stderr[-2000:]}")
        for split, gold in splits.items():
            if args.split not in ("all", split):
                continue
            items = [
                json.loads(x) for x in gold.read_text(encoding="utf-8").splitlines() if x.strip()
            ]
            questions = [it["question"] for it in items]
            for system in systems:
                command = (
                    [str(BIN / "qa")]
                    if system == "qa"
                    else [
                        str(BIN / "python"),
                        str(ROOT / "bench" / "baseline.py"),
                        str(docs),
                        "--cache",
                        str(CACHE / "baseline"),
                        "--",
                    ]
                )
                figures, rows = score(items, ask(command, questions, env))
                results[(name, split, system)] = {"figures": figures, "rows": rows}
                print(
                    f"{name:<10}{split:<9}{system:<10}"
                    + "".join(f"{k}={v} " for k, v in figures.items()),
                    file=sys.stderr,
                    flush=True,
                )  # noqa: E501
    print(table(results))
    if args.failures:
        for (name, split, system), r in results.items():
            if system != "qa":
                continue
            for row in r["rows"]:
                bad = (not row["abstained"]) if not row["answerable"] else not row.get("correct")
                if bad:
                    print(
                        f"- {name}/{split} {row['id']} [{row['lang']}/{row['type']}] {row['question']}\n"
                        f"    got: {row['answer'][:240]}"
                    )
    if args.json:
        out = {"/".join(k): v for k, v in results.items()}
        args.json.write_text(json.dumps(out, ensure_ascii=False, indent=1))


def table(results: dict) -> str:
    keys = sorted({(n, s) for n, s, _ in results}, key=lambda k: (k[0] != "shipped", k))
    systems = sorted({sy for _, _, sy in results}, key=lambda s: s != "baseline")
    head = "| collection | split | n |" + "".join(f" {f} {sy} |" for f in FIGURES for sy in systems)
    lines = [head, "|" + "---|" * (3 + len(FIGURES) * len(systems))]
    for n, s in keys:
        figs = {sy: results.get((n, s, sy), {}).get("figures", {}) for sy in systems}
        count = next((f["n"] for f in figs.values() if f), "")
        cells = "".join(f" {fmt(figs[sy].get(f))} |" for f in FIGURES for sy in systems)
        lines.append(f"| {n} | {s} | {count} |{cells}")
    return "\n".join(lines)


def fmt(v) -> str:
    return "—" if v is None else (f"{v:.3f}" if isinstance(v, float) and v <= 1 else str(v))


if __name__ == "__main__":
    main()
