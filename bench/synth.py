"""A larger corpus for the benchmarks: the shipped corpus repeated with variations.

Each copy of each document keeps its sentences but shuffles them within paragraphs,
shifts every figure and swaps country names, so that copies are new texts to the
embedding model and to BM25 (no two chunks are identical) while reading like the original.
"""

from __future__ import annotations

import random
import re
from pathlib import Path

from _common import CORPUS

COUNTRIES = [
    "Sweden",
    "Norway",
    "Latvia",
    "Finland",
    "Denmark",
    "Germany",
    "France",
    "Italy",
    "Canada",
    "Japan",
    "Spain",
    "Poland",
    "Estonia",
    "Lithuania",
    "Belgium",
    "Portugal",
    "Iceland",
    "Netherlands",
    "Czechia",
    "Romania",
]
SUFFIXES = (".txt", ".md", ".html", ".htm")
_SENTENCE_END = re.compile(r"(?<=[.!?])\s+")
_NUMBER = re.compile(r"\d+")
_COUNTRY = re.compile(r"\b(" + "|".join(COUNTRIES) + r")\b")


def vary(text: str, rng: random.Random) -> str:
    def number(m: re.Match) -> str:
        return str(int(m.group()) + rng.randint(1, 9))

    def country(m: re.Match) -> str:
        return rng.choice(COUNTRIES)

    paragraphs = []
    for para in text.split("\n\n"):
        sentences = _SENTENCE_END.split(para)
        if len(sentences) > 2 and rng.random() < 0.7:
            rng.shuffle(sentences)
        paragraphs.append(" ".join(sentences))
    return _COUNTRY.sub(country, _NUMBER.sub(number, "\n\n".join(paragraphs)))


def sources(corpus: Path = CORPUS) -> list[Path]:
    """The corpus files that are text (PDF pages would need a PDF writer)."""
    return sorted(p for p in corpus.iterdir() if p.suffix in SUFFIXES)


def write_copies(folder: Path, copies: int, seed: int = 0, start: int = 0) -> list[Path]:
    """`copies` varied copies of the corpus as text files in `folder`."""
    folder.mkdir(parents=True, exist_ok=True)
    originals = [(p, p.read_text(encoding="utf-8")) for p in sources()]
    written = []
    for i in range(start, start + copies):
        rng = random.Random(seed * 1_000_003 + i)
        for path, text in originals:
            out = folder / f"copy{i:05d}-{path.stem}.txt"
            out.write_text(vary(text, rng), encoding="utf-8")
            written.append(out)
    return written
