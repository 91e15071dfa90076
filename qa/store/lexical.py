"""BM25 over passages (bm25s), with a tokenizer for English and Vietnamese.

Vietnamese writes one syllable per space-separated token, so a Unicode word tokenizer
serves both languages; English words are lightly stemmed, Vietnamese syllables are not
(suffix rules would damage them). Words with diacritics are indexed as written and folded
(see `tokenize`); on the development set folding measured the same as keeping diacritics
only, and it lets a question typed without them match.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np

from qa.documents import Passage
from qa.text import STOPWORDS, idf_by_language, stem, strip_marks, words


def fold_diacritics(word: str) -> str:
    """ "thỏa" -> "thoa", "đức" -> "duc": how Vietnamese is often typed in a hurry."""
    return strip_marks(word.replace("đ", "d").replace("Đ", "D"))


def tokenize(text: str) -> list[str]:
    """Lower-cased word tokens without stopwords; ASCII words stemmed. A word with
    diacritics also yields its folded form, so that a question typed without them still
    matches, while one typed with them matches twice (exact forms rank first)."""
    out = []
    for w in words(text):
        if w in STOPWORDS:
            continue
        if w.isascii():
            out.append(stem(w))
            continue
        out.append(w)
        folded = fold_diacritics(w)
        if folded != w:
            out.append(folded)
    return out


# 2: a passage's BM25 document is its document's title and its text; 3: and the headings
# above it. An index of an older kind is rewritten (nothing embedded again) by the next update
VERSION = 3


def lexical_text(heading: str, text: str) -> str:
    """What BM25 indexes for a passage: its document's title and the headings above it
    (`Document.heading_at`), then its text. A question that names its source ("the Quick
    reStructuredText reference", "Monroe's message", "the 3.0.0 release") then finds that
    document's or section's passages, as a title field does in a search engine."""
    return f"{heading}\n{text}"


class LexicalIndex:
    """BM25 (Lucene variant, k1=1.2, b=0.75) over passages; row i is passage i."""

    def __init__(self, retriever, size: int) -> None:
        self._retriever = retriever
        self.size = size

    @classmethod
    def build(cls, texts: list[str]) -> LexicalIndex:
        import bm25s

        retriever = bm25s.BM25(k1=1.2, b=0.75)
        corpus = [tokenize(t) or ["∅"] for t in texts]  # bm25s needs a token per document
        if corpus:
            retriever.index(corpus, show_progress=False)
        return cls(retriever, len(texts))

    def save(self, folder: Path) -> None:
        if self.size:
            self._retriever.save(str(folder), show_progress=False)
        else:
            folder.mkdir(parents=True, exist_ok=True)

    @classmethod
    def load(cls, folder: Path, size: int) -> LexicalIndex:
        import bm25s

        if not size:
            return cls(None, 0)
        return cls(bm25s.BM25.load(str(folder), show_progress=False, verbosity=0), size)

    def search(
        self, question: str, k: int, allowed: np.ndarray | None = None
    ) -> list[tuple[int, float]]:
        """(row, score) of the best k passages that share a term with the question; with
        `allowed` (a mask over rows), only among those."""
        tokens = tokenize(question)
        if not self.size or not tokens:
            return []
        scores = self._retriever.get_scores(tokens)
        if allowed is not None:
            scores = np.where(allowed, scores, 0.0)
        k = min(k, self.size)
        top = np.argpartition(-scores, k - 1)[:k]
        top = top[np.argsort(-scores[top], kind="stable")]
        return [(int(i), float(scores[i])) for i in top if scores[i] > 0]


def term_idf(passages: Sequence[Passage]) -> dict[str, dict[str, float]]:
    """IDF of the passages' terms by passage language ("*": all), what scoring weighs
    question terms with; the same for every store."""
    return idf_by_language([p.text for p in passages], [p.language for p in passages])
