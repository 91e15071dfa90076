"""The pipeline's real candidate sentences for the reader's training questions.

For every group of training documents (a folder of /work/train-docs or eval/reader/docs)
and its questions (eval/reader/data/*.jsonl: question, answer, evidence, source = <group>/<file>), index the
group as a collection of its own, ask each question through the answer step's own candidate
search and label each candidate as eval/train_ranker.py does (`candidate_rows`: a positive
holds 60% of the evidence quote or contains the answer). Written to
.cache/reader/<group>/features.json in the format of .cache/eval/<name>/ranker-features.json
(plus the question text), so training sees the candidates it will have to choose among.

    PYTHONPATH=. .venv/bin/python eval/reader/collect.py DOCS_ROOT GROUP [GROUP ...]
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent.parent
sys.path.insert(0, str(ROOT))
from eval.train_ranker import candidate_rows, collection_qa  # noqa: E402

DATA = ROOT / "eval" / "reader" / "data"
CONTEXT_WORDS = 30  # of the sentence before: what "It" / "They" refer to
CACHE = ROOT / ".cache" / "reader"


def with_context(before: str, sentence: str) -> str:
    """A candidate read after the end of the sentence before it (CONTEXT=1 in train.py)."""
    words = before.split()[-CONTEXT_WORDS:]
    return f"{' '.join(words)} [SEP] {sentence}" if words else sentence


def evidence_by_id() -> dict[str, str]:
    """Every training question's evidence sentence, by question id."""
    out = {}
    for path in sorted(DATA.glob("*.jsonl")):
        for line in path.read_text(encoding="utf-8").splitlines():
            if line.strip():
                item = json.loads(line)
                out[item["id"]] = item["evidence"]
    return out


def collect(docs: Path, group: str) -> list[dict]:
    qa = collection_qa(docs, CACHE / group)
    out = []
    for path in sorted(DATA.glob("*.jsonl")):
        for line in path.read_text(encoding="utf-8").splitlines():
            item = json.loads(line) if line.strip() else {}
            if not item.get("source", "").startswith(f"{group}/"):
                continue
            answers = [[item["answer"]]]
            out.append(
                {
                    "id": item["id"],
                    "question": item["question"],
                    "type": item.get("type"),
                    "answerable": True,
                    "answers": answers,
                }
                | candidate_rows(qa, item["question"], [item["evidence"]], answers)
            )
    found = sum(any(o["y"]) for o in out)
    print(
        f"{group}: {len(out)} questions, {found} with a positive candidate, "
        f"{sum(len(o['y']) for o in out)} candidates"
    )
    return out


if __name__ == "__main__":
    docs_root = Path(sys.argv[1])
    for group in sys.argv[2:]:
        out = collect(docs_root / group, group)
        (CACHE / group).mkdir(parents=True, exist_ok=True)
        (CACHE / group / "features.json").write_text(json.dumps(out))
