"""Check the reader's training questions: python3 eval/reader/check_data.py eval/reader/data/*.jsonl

Each line: {"id", "source", "question", "answer", "evidence", "type"}.
- source: path of the document relative to eval/reader/docs (fetch_docs.py brings sotu/, sotu2/, webnews/)
- evidence: verbatim text of the document (whitespace may differ), one or two sentences; a PDF
  is read as pypdf extracts it (eval/check.py `read`, so run this with the project's Python)
- answer: short; must occur inside evidence (case-insensitive, whitespace collapsed)
Prints problems and a summary (word overlap of question with evidence: lower is better,
the question should not copy its answer sentence).
"""

import json
import re
import sys
import unicodedata
from pathlib import Path

ROOT = Path(__file__).resolve().parent / "docs"
sys.path.insert(0, str(ROOT.parent.parent))
from check import read  # noqa: E402  (eval/check.py: a PDF as pypdf extracts it)


def norm(s):
    s = unicodedata.normalize("NFKC", s).casefold()
    s = re.sub(r"[\u2018\u2019]", "'", s)
    s = re.sub(r"[\u201c\u201d]", '"', s)
    return re.sub(r"\s+", " ", s).strip()


def words(s):
    return set(re.findall(r"\w+", norm(s)))


bad = 0
overlaps = []
seen = set()
cache = {}
lines = [x for f in sys.argv[1:] for x in Path(f).read_text().splitlines()]
for n, line in enumerate(lines, 1):
    if not line.strip():
        continue
    try:
        r = json.loads(line)
    except Exception as e:
        print(f"line {n}: not JSON: {e}")
        bad += 1
        continue
    miss = [k for k in ("id", "source", "question", "answer", "evidence", "type") if not r.get(k)]
    if miss:
        print(f"line {n}: missing {miss}")
        bad += 1
        continue
    src = Path(r["source"])
    src = src if src.is_absolute() else ROOT / src
    if not src.exists():
        print(f"line {n} {r['id']}: no such source {src}")
        bad += 1
        continue
    if src not in cache:
        if src.suffix == ".pdf":
            cache[src] = norm(read(src))
        else:
            cache[src] = norm(src.read_text(errors="replace"))
    if norm(r["evidence"]) not in cache[src]:
        print(f"line {n} {r['id']}: evidence not verbatim in {src.name}: {r['evidence'][:80]!r}")
        bad += 1
    if norm(r["answer"]) not in norm(r["evidence"]):
        print(f"line {n} {r['id']}: answer {r['answer']!r} not inside evidence")
        bad += 1
    if len(r["evidence"].split()) > 60:
        print(f"line {n} {r['id']}: evidence over 60 words; quote the sentence(s) that answer only")
        bad += 1
    key = norm(r["question"])
    if key in seen:
        print(f"line {n} {r['id']}: duplicate question")
        bad += 1
    seen.add(key)
    q = words(r["question"]) - {
        "the",
        "a",
        "an",
        "of",
        "to",
        "in",
        "what",
        "which",
        "who",
        "how",
        "did",
        "does",
        "is",
        "was",
        "and",
        "for",
        "on",
        "by",
        "that",
        "with",
    }
    if q:
        overlaps.append(len(q & words(r["evidence"])) / len(q))
print(
    f"{len(lines)} lines, {bad} problems; mean share of question words found in evidence: "
    f"{sum(overlaps) / max(1, len(overlaps)):.2f}"
)
sys.exit(1 if bad else 0)
