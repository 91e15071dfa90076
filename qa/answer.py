"""Retrieved passages -> an extractive answer: verbatim sentences, each with its citation.

Grounded by construction: the answer is made only of sentences copied from the passages.
When the best passage is not similar enough to the question, the answer abstains and the
closest passages are still returned for the reader to judge.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Protocol

import numpy as np

from .documents import Answer, Citation, Document, Hit, Passage
from .embedding import Embedder
from .language import detect_language
from .sentences import split_sentences
from .text import (
    content_terms,
    coordinated_names,
    expected_answer_kind,
    figures,
    has_answer_kind,
    named_terms,
)

ABSTAIN_MESSAGE = "The documents do not answer this."

# Weights of the sentence score. Cosine similarity carries meaning; the share of the
# question's content terms that a sentence contains rewards the sentence that names what
# was asked (a country, a number) over one that is merely on topic.
W_COSINE, W_OVERLAP, W_PASSAGE = 0.55, 0.30, 0.15
# A question that asks "how much" or "when" is answered by a sentence with a figure or date.
W_KIND = 0.15
# A further sentence joins the answer only when it scores close to the best one and covers
# question terms that the sentences already chosen do not (multi-part questions); a little
# less close when the term it adds is a name or figure the question asks about.
CLOSE_TO_BEST = 0.8
# Names and figures in the question (Norway, 2024) are what it is about: a sentence that
# lacks them rarely answers it, so they count double in the overlap.
NAME_WEIGHT = 2.0
# ...and a runner-up must add at least this share of the question's term weight.
MIN_NEW_WEIGHT = 0.2
CLOSE_TO_BEST_FOR_NAMES = 0.6


class Answerer(Protocol):
    """Turns hits into an Answer; the extractive answerer is the default implementation."""

    def __call__(
        self,
        question: str,
        hits: list[Hit],
        documents: dict[str, Document],
        query_vector: np.ndarray | None = None,
    ) -> Answer: ...


@dataclass(frozen=True)
class _Sentence:
    hit: Hit
    start: int  # in the document text
    end: int
    text: str
    vector: np.ndarray | None = None
    score: float = 0.0
    terms: frozenset[str] = frozenset()


@dataclass(frozen=True)
class QuestionTerms:
    """The question's content terms with weights; coordinated names form groups of which
    one member is enough (the question asks the same of each)."""

    weights: dict[str, float]
    groups: list[set[str]]

    def coverage(self, terms: set[str] | frozenset[str]) -> float:
        """Share of the question's term weight that `terms` covers, in [0, 1]."""
        grouped = set().union(*self.groups) if self.groups else set()
        total = sum(w for t, w in self.weights.items() if t not in grouped)
        got = sum(self.weights[t] for t in terms if t in self.weights and t not in grouped)
        for g in self.groups:
            total += max(self.weights[t] for t in g)
            got += max((self.weights[t] for t in g & set(terms)), default=0.0)
        return got / total if total else 0.0


class ExtractiveAnswerer:
    def __init__(
        self,
        embedder: Embedder,
        min_score: float,
        max_sentences: int = 3,
        idf: dict[str, float] | None = None,
        sentence_vectors: Callable[[Passage], np.ndarray] | None = None,
    ) -> None:
        """`sentence_vectors(passage)` gives the stored vectors of the passage's sentences;
        without it the sentences are embedded at question time (slower)."""
        self.embedder = embedder
        self.sentence_vectors = sentence_vectors
        self.min_score = min_score
        self.max_sentences = max_sentences
        self.idf = idf or {}
        # a term the corpus never uses weighs as much as the rarest one it does
        self.unseen_idf = max(self.idf.values(), default=1.0)

    def _question_terms(self, question: str) -> QuestionTerms:
        """IDF of each content term of the question, doubled for names and figures."""
        names = named_terms(question)
        weights = {
            t: self.idf.get(t, self.unseen_idf) * (NAME_WEIGHT if t in names else 1.0)
            for t in content_terms(question)
        }
        groups = [g & set(weights) for g in coordinated_names(question)]
        return QuestionTerms(weights, [g for g in groups if len(g) >= 2])

    def __call__(
        self,
        question: str,
        hits: list[Hit],
        documents: dict[str, Document],
        query_vector: np.ndarray | None = None,
    ) -> Answer:
        metas = {h.passage.doc_id: documents[h.passage.doc_id].meta for h in hits}
        if not hits or max(h.score for h in hits) < self.min_score:
            return Answer(question, ABSTAIN_MESSAGE, True, (), tuple(hits), metas)
        if query_vector is None:
            query_vector = self.embedder.embed_queries([question])[0]
        sentences = self._score(question, query_vector, self._candidates(hits))
        q_terms = self._question_terms(question)
        key_names = {n for n in named_terms(question) if q_terms.coverage({n}) >= MIN_NEW_WEIGHT}
        reason = unsupported_reason(question, hits, sentences, key_names, detect_language(question))
        if reason:
            return Answer(question, ABSTAIN_MESSAGE, True, (), tuple(hits), metas, reason)
        chosen = _select(sentences, named_terms(question), self.max_sentences, q_terms.coverage)
        if not chosen:
            return Answer(question, ABSTAIN_MESSAGE, True, (), tuple(hits), metas)
        citations = []
        parts = []
        for n, s in enumerate(chosen, start=1):
            doc = documents[s.hit.passage.doc_id]
            citations.append(
                Citation(
                    n=n,
                    document=doc.doc_id,
                    title=doc.meta.title,
                    publisher=doc.meta.publisher,
                    date=doc.meta.date,
                    url=doc.meta.url,
                    page=doc.page_at(s.start),
                    page_end=doc.page_at(s.end - 1),
                    quote=s.text,
                    start=s.start,
                    end=s.end,
                    score=round(s.score, 4),
                    passage_id=s.hit.passage.passage_id,
                )
            )
            parts.append(f"{s.text} [{n}]")
        return Answer(question, " ".join(parts), False, tuple(citations), tuple(hits), metas)

    def _candidates(self, hits: list[Hit]) -> list[_Sentence]:
        """Sentences of the retrieved passages, with vectors; one copy of each, from its
        best-ranked passage (overlapping chunks repeat sentences)."""
        seen: set[tuple[str, int, int]] = set()
        out = []
        for hit in hits:
            p = hit.passage
            spans = p.sentences or tuple(split_sentences(p.text))
            vectors = self.sentence_vectors(p) if self.sentence_vectors and p.sentences else None
            for i, (a, b) in enumerate(spans):
                key = (p.doc_id, p.start + a, p.start + b)
                text = p.text[a:b]
                if key in seen or len(text.split()) < 4:
                    continue
                seen.add(key)
                vector = vectors[i] if vectors is not None else None
                out.append(_Sentence(hit, p.start + a, p.start + b, text, vector))
        missing = [s for s in out if s.vector is None]
        if missing:
            embedded = self.embedder.embed_passages([s.text for s in missing])
            fill = {id(s): v for s, v in zip(missing, embedded, strict=True)}
            out = [replace(s, vector=fill[id(s)]) if s.vector is None else s for s in out]
        return out

    def _score(
        self, question: str, query_vector: np.ndarray, sentences: list[_Sentence]
    ) -> list[_Sentence]:
        if not sentences:
            return []
        cosines = np.vstack([s.vector for s in sentences]) @ query_vector
        q_terms = self._question_terms(question)
        kind = expected_answer_kind(question)
        known = figures(question)
        scored = []
        for s, cos in zip(sentences, cosines, strict=True):
            terms = frozenset(content_terms(s.text) & set(q_terms.weights))
            overlap = q_terms.coverage(terms)
            score = W_COSINE * float(cos) + W_OVERLAP * overlap + W_PASSAGE * s.hit.score
            if has_answer_kind(s.text, kind, known):
                score += W_KIND
            scored.append(replace(s, score=score, terms=terms))
        return scored


def unsupported_reason(
    question: str,
    hits: list[Hit],
    sentences: list[_Sentence],
    key_names: set[str],
    language: str,
) -> str | None:
    """Why the passages cannot answer although they look similar: a figure the question
    names (a year, an amount) appears in none of them; or the question asks how much or
    when, and no sentence gives a new figure or date with the question's key names in it or
    next to it (checked only in passages in the question's language: names differ across
    languages). `sentences` are in passage order."""
    known = figures(question)
    passages = " ".join(h.passage.text for h in hits)
    missing = sorted(
        f
        for f in known
        if len(f) >= 2 and not re.search(rf"(?<![\d.,]){re.escape(f)}(?!\d)", passages)
    )
    if missing:
        return f"no retrieved passage mentions {', '.join(missing)}"
    kind = expected_answer_kind(question)
    if not kind:
        return None
    for i, s in enumerate(sentences):
        if not has_answer_kind(s.text, kind, known):
            continue
        if s.hit.passage.language != language:
            return None
        near = set(s.terms)  # the sentence and its neighbours in the same passage
        for j in (i - 1, i + 1):
            if 0 <= j < len(sentences) and sentences[j].hit is s.hit:
                near |= sentences[j].terms
        if key_names <= near:
            return None
    what = "figure" if kind == "quantity" else "date"
    if key_names:
        return f"no retrieved sentence gives a {what} about {', '.join(sorted(key_names))}"
    return f"no retrieved sentence gives a {what}"


def _select(
    sentences: list[_Sentence],
    names: set[str],
    limit: int,
    weight_of: Callable[[set[str]], float],
) -> list[_Sentence]:
    """The best sentence; then, for each name or figure of the question that it leaves out,
    the best sentence that has it; then close runners-up that add other question terms."""
    if not sentences:
        return []
    ranked = sorted(sentences, key=lambda s: s.score, reverse=True)
    best = ranked[0]
    chosen = [best]
    covered = set(best.terms)
    for name in sorted(names - covered, key=lambda n: -weight_of({n})):
        if weight_of({name}) < MIN_NEW_WEIGHT:
            continue  # a name found everywhere ("Ukraine") does not make a part of its own
        s = next((s for s in ranked if name in s.terms), None)
        if s and len(chosen) < limit and s.score >= CLOSE_TO_BEST_FOR_NAMES * best.score:
            if not _overlaps(s, chosen):
                chosen.append(s)
                covered |= s.terms
    for s in ranked[1:]:
        if len(chosen) >= limit or s.score < CLOSE_TO_BEST * best.score:
            break
        if weight_of(s.terms - covered) >= MIN_NEW_WEIGHT and not _overlaps(s, chosen):
            chosen.append(s)
            covered |= s.terms
    return sorted(chosen, key=lambda s: -s.score)


def _overlaps(s: _Sentence, chosen: list[_Sentence]) -> bool:
    return any(
        c.hit.passage.doc_id == s.hit.passage.doc_id and c.start < s.end and s.start < c.end
        for c in chosen
    )
