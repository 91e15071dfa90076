"""Retrieved passages -> an extractive answer: verbatim sentences, each with its citation.

Grounded by construction: the answer is made only of sentences copied from the passages.
When no passage is similar enough to the question, or the passages lack what the question
asks for (a figure, a date, the names it is about), the answer abstains and the closest
passages are still returned for the reader to judge.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import replace

import numpy as np

from qa.answer.question import Question, as_question
from qa.answer.ranker import select
from qa.answer.scoring import Sentence, SentenceScorer
from qa.documents import ABSTAIN_MESSAGE, Answer, Citation, Document, Hit
from qa.text import languages_of


class ExtractiveAnswerer:
    def __init__(
        self,
        scorer: SentenceScorer,
        min_score: Callable[[str], float],
        max_sentences: int = 3,
    ) -> None:
        """`min_score(passage_language)`: the similarity a passage in that language must
        reach for the question to count as on topic (see qa/store/calibration.py)."""
        self.scorer = scorer
        self.min_score = min_score
        self.max_sentences = max_sentences

    def __call__(
        self,
        question: Question | str,
        hits: list[Hit],
        documents: dict[str, Document],
        query_vector: np.ndarray | None = None,
        margin: float | None = None,
    ) -> Answer:
        """`margin`: how far the best retrieved passage is above its calibrated threshold
        (default: the best of `hits`)."""
        question = as_question(question, languages_of(self.scorer.idf))
        metas = {h.passage.doc_id: documents[h.passage.doc_id].meta for h in hits}
        if margin is None:
            margin = self.margin(hits)
        answer = self._answer(question, hits, documents, query_vector, margin, metas)
        return replace(answer, margin=margin)

    def margin(self, hits: list[Hit]) -> float:
        return max((h.score - self.min_score(h.passage.language) for h in hits), default=-1.0)

    def _answer(self, q: Question, hits, documents, query_vector, margin, metas) -> Answer:
        question = q.text
        if margin < 0:
            return Answer(question, ABSTAIN_MESSAGE, True, (), tuple(hits), metas)
        if query_vector is None:
            query_vector = self.scorer.embedder.embed_queries([question])[0]
        sentences = self.scorer.score(q, query_vector, self.scorer.candidates(hits), margin)
        confidence = max((s.score for s in sentences), default=0.0)

        def abstain(reason: str | None) -> Answer:
            return Answer(
                question,
                ABSTAIN_MESSAGE,
                True,
                (),
                tuple(hits),
                metas,
                reason,
                confidence=confidence,
            )

        if q.language == "und" and not any(s.terms for s in sentences):
            return abstain("the question is in a script or language that no document shares")
        reason = unsupported_reason(q, hits)
        if reason:
            return abstain(reason)
        ranker = self.scorer.ranker
        picked = select(
            np.array([s.score for s in sentences]),
            [(s.hit.passage.doc_id, s.start, s.end) for s in sentences],
            ranker.threshold,
            ranker.runner_up,
            self.max_sentences,
        )
        if picked is None:
            return abstain(
                f"no sentence answers it clearly enough (confidence {confidence:.2f}, "
                f"needs {ranker.threshold:.2f})"
            )
        chosen = [_with_antecedent(sentences[i]) for i in picked]
        citations = []
        parts = []
        for n, s in enumerate(chosen, start=1):
            doc = documents[s.hit.passage.doc_id]
            citations.append(
                Citation.of_span(n, doc, s.start, s.end, round(s.score, 4), s.hit.passage)
            )
            parts.append(f"{s.text} [{n}]")
        return Answer(
            question,
            " ".join(parts),
            False,
            tuple(citations),
            tuple(hits),
            metas,
            confidence=confidence,
        )


def unsupported_reason(question: Question, hits: list[Hit]) -> str | None:
    """Why the passages cannot answer although they look similar: a figure the question
    names (a year, an amount) appears in none of them."""
    passages = " ".join(h.passage.text for h in hits)
    missing = sorted(
        f
        for f in question.figures
        if len(f) >= 2 and not re.search(rf"(?<![\d.,]){re.escape(f)}(?!\d)", passages)
    )
    if missing:
        return f"no retrieved passage mentions {', '.join(missing)}"
    return None


_ANAPHOR = re.compile(
    r"^(this|that|these|those|it|its|they|their|he|she|his|her|such|thus|therefore|"
    r"however|hence|the latter|the former|điều này|điều đó|đây|đó|họ|ông|bà)\b",
    re.I,
)


def _with_antecedent(s: Sentence) -> Sentence:
    """A sentence that opens with a pointer back ("This means...", "It...") is quoted
    together with the sentence before it, so that the quote stands on its own."""
    if not _ANAPHOR.match(s.text):
        return s
    p = s.hit.passage
    spans = [(p.start + a, p.start + b) for a, b in p.sentences]
    if (s.start, s.end) not in spans:
        return s
    i = spans.index((s.start, s.end))
    if i == 0:
        return s
    start = spans[i - 1][0]
    return replace(s, start=start, text=p.text[start - p.start : s.end - p.start])


def combine(question: str, parts: list[Answer], k: int) -> Answer:
    """One answer from the answers to the parts of a multi-part question: their sentences in
    order, citations renumbered, passages interleaved part by part (at most k)."""
    hits: list[Hit] = []
    seen_passages: set[str] = set()
    for rank in range(max(len(a.hits) for a in parts)):
        for a in parts:
            if rank < len(a.hits) and a.hits[rank].passage.passage_id not in seen_passages:
                seen_passages.add(a.hits[rank].passage.passage_id)
                hits.append(replace(a.hits[rank], rank=len(hits) + 1))
    cited = {c.passage_id for a in parts for c in a.citations}
    hits = hits[:k] + [h for h in hits[k:] if h.passage.passage_id in cited]
    metas = {key: m for a in parts for key, m in a.documents.items()}
    margin = max((a.margin for a in parts if a.margin is not None), default=None)
    if all(a.abstained for a in parts):
        reasons = "; ".join(a.abstain_reason for a in parts if a.abstain_reason) or None
        return Answer(
            question, ABSTAIN_MESSAGE, True, (), tuple(hits), metas, reasons, margin=margin
        )
    texts: list[str] = []
    citations: list[Citation] = []
    by_span: dict[tuple[str, int, int], int] = {}
    for a in parts:
        if a.abstained:
            texts.append(f"({a.question.rstrip('?')}? {ABSTAIN_MESSAGE})")
            continue
        # the part's text is its quotes each followed by its marker: rebuilt from the
        # citations, so that brackets inside a quote ("a[0]", "[12]") stay as written
        for c in a.citations:
            key = (c.document, c.start, c.end)
            if key not in by_span:
                by_span[key] = len(citations) + 1
                citations.append(replace(c, n=by_span[key]))
            texts.append(f"{c.quote} [{by_span[key]}]")
    confidence = min((a.confidence for a in parts if a.confidence is not None), default=None)
    return Answer(
        question,
        " ".join(texts),
        False,
        tuple(citations),
        tuple(hits),
        metas,
        margin=margin,
        confidence=confidence,
    )
