"""Retrieved passages -> an extractive answer: verbatim sentences, each with its citation.

Grounded by construction: the answer is made only of sentences copied from the passages.
When no passage is similar enough to the question, or the passages lack what the question
asks for (a figure, a date, the names it is about), the answer abstains and the closest
passages are still returned for the reader to judge.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import replace

import numpy as np

from qa.answer.abstention import Gate, signals
from qa.answer.figures import has_answer_kind
from qa.answer.places import language_name
from qa.answer.question import Question, as_question
from qa.answer.quotes import Sentence, in_context
from qa.answer.scoring import SentenceScorer, asks, with_neighbours
from qa.documents import ABSTAIN_MESSAGE, Answer, Citation, Document, Hit, Passage
from qa.text import content_terms, languages_of

# A further sentence joins the answer only when it scores close to the best one and adds
# question terms that the sentences already chosen do not cover (multi-part questions); a
# little less close when what it adds is a name or figure the question asks about. Ratios
# of scores: set, when the score's weights changed (qa/answer/scoring.py), so that as many
# runner-ups pass as passed 0.8 and 0.6 before over the tuning questions' candidates
# (eval/fit_weights.py's features): the answers stay as long. Set again when the readers'
# weights were halved (twenty-first round): as many runner-ups pass 0.905 and 0.8275 over
# the candidates of the tuning data's 662 answerable questions as passed 0.885 and 0.755.
CLOSE_TO_BEST = 0.905
CLOSE_TO_BEST_FOR_NAMES = 0.8275
# ...and what it adds must be at least this share of the question's term weight.
MIN_NEW_WEIGHT = 0.2
# How far beside a sentence the lines that are no sentence are read for the names a how-much
# or when question requires: a short line or two.
GAP_CHARS = 120


class ExtractiveAnswerer:
    def __init__(
        self,
        scorer: SentenceScorer,
        min_score: Callable[[Passage], float],
        max_sentences: int = 3,
        gate: Gate | None = None,
    ) -> None:
        """`min_score(passage)`: the similarity that passage must reach for the question
        to count as on topic (see qa/store/calibration.py); `gate`: how likely the
        documents answer it at all, the answer's `answerable`, and its calibrated
        confidence (qa/answer/abstention.py; `QA.ask` abstains on it for the whole
        question; None: neither)."""
        self.scorer = scorer
        self.min_score = min_score
        self.max_sentences = max_sentences
        self.gate = gate

    def __call__(
        self,
        question: Question | str,
        hits: list[Hit],
        documents: dict[str, Document],
        query_vector: np.ndarray | None = None,
    ) -> Answer:
        question = as_question(question, languages_of(self.scorer.idf))
        metas = {h.passage.doc_id: documents[h.passage.doc_id].meta for h in hits}
        margin = self.margin(hits)
        answer = self._answer(question, hits, documents, query_vector, margin, metas)
        return replace(answer, margin=margin)

    def margin(self, hits: list[Hit]) -> float:
        """How far the best of `hits` is above its calibrated threshold (<0: off-topic)."""
        return max((h.score - self.min_score(h.passage) for h in hits), default=-1.0)

    def _answer(self, q: Question, hits, documents, query_vector, margin, metas) -> Answer:
        question = q.text
        if margin < 0:
            return Answer(question, ABSTAIN_MESSAGE, True, (), tuple(hits), metas)
        if query_vector is None:
            query_vector = self.scorer.embedder.embed_queries([question])[0]
        sentences = self.scorer.score(q, query_vector, self.scorer.candidates(hits, question=q))
        sentences = self.scorer.read(q, sentences)
        q_terms = self.scorer.question_terms(q)
        key_names = q_terms.key_names
        language = q.language
        if language == "und" and not any(s.terms for s in sentences):
            reason = "the question is in a script or language that no document shares"
            return Answer(question, ABSTAIN_MESSAGE, True, (), tuple(hits), metas, reason)
        # each passage's document title and the headings above it
        titles = {h.passage.passage_id: self.scorer.heading_of(h.passage) for h in hits}
        in_titles = _title_only_terms(q_terms.found_in, titles, sentences)
        sections = _sections(documents)
        # a sentence that asks is context (its neighbours' and the reader's), never a quote
        quotable = [s for s in sentences if not asks(s.text)]
        support = supporting_sentences(
            q,
            sentences,
            key_names,
            self.scorer.vocabulary,
            language,
            in_titles,
            sections,
            q_terms.found_in,
        )
        if support is not None:
            support = [s for s in support if not asks(s.text)]
        reason = unsupported_reason(q, hits, support, key_names, titles)
        if reason:
            return Answer(question, ABSTAIN_MESSAGE, True, (), tuple(hits), metas, reason)
        chosen = _select(
            quotable, q_terms.names, self.max_sentences, q_terms.coverage, best_from=support
        )
        if not chosen:
            return Answer(question, ABSTAIN_MESSAGE, True, (), tuple(hits), metas)
        learned = self.scorer.probabilities(q, query_vector, sentences, margin)
        confidence = next(
            float(p) for s, p in zip(sentences, learned, strict=True) if _same(s, chosen[0])
        )
        answerable = None
        if self.gate is not None:
            own = self.scorer.idf.get(language)
            vocabulary = self.scorer.idf.get("*", {})
            titled = set().union(*map(content_terms, titles.values()))
            known = (lambda t: t in vocabulary or t in titled) if own else None
            x = signals(margin, confidence, chosen[0].score, chosen[0].reading, q_terms, known)
            answerable = self.gate.probability(x)
            confidence = self.gate.confidence(confidence, answerable)
        chosen = _drop_held([in_context(s) for s in chosen])
        citations = []
        parts = []
        for n, s in enumerate(chosen, start=1):
            doc = documents[s.hit.passage.doc_id]
            c = Citation.of_span(n, doc, s.start, s.end, round(s.score, 4), s.hit.passage)
            shown = _section_shown(q, q_terms.found_in, sections(s), s.text, doc.meta.title)
            c = replace(c, section=shown)
            citations.append(c)
            parts.append(f"{c.stated} [{n}]")
        return Answer(
            question,
            " ".join(parts),
            False,
            tuple(citations),
            tuple(hits),
            metas,
            confidence=confidence,
            answerable=answerable,
        )


def _sections(documents: Mapping[str, Document]) -> Callable[[Sentence], tuple[str, ...]]:
    """sentence -> the headings above it, outermost first, without its document's title
    (a changelog's "[v3.0.0] - 2023-09-17", "Changed")."""

    def section(s: Sentence) -> tuple[str, ...]:
        doc = documents[s.hit.passage.doc_id]
        return tuple(h for h in doc.headings_at(s.start) if h != doc.meta.title)

    return section


def _section_shown(
    question: Question,
    found_in: Callable[[str], frozenset[str]],
    headings: tuple[str, ...],
    quote: str,
    title: str,
) -> str:
    """The headings to state before a quote: from the first that holds what the question
    asks and neither the quote nor the document's title (which the citation names) says --
    a figure of the question (the release, year or article number in "What changed in
    6.1?", "the stable version of 2022"), or the figure or date a how-much or when
    question asks ("When was 3.0.0 released?" under "[v3.0.0] - 2023-09-17") -- down to
    the quote. "" when the quote and its citation say it all: a heading that only repeats
    the question's words would make the answer longer, not more right."""
    kind, known = question.kind, set(question.figures)
    said = found_in(quote) | found_in(title)
    needs_kind = bool(kind) and not has_answer_kind(quote, kind, known)
    for i, heading in enumerate(headings):
        if (found_in(heading) & known) - said or (
            needs_kind and has_answer_kind(heading, kind, known)
        ):
            return " › ".join(headings[i:])
    return ""


def _title_only_terms(
    found_in: Callable[[str], frozenset[str]], titles: Mapping[str, str], sentences: list[Sentence]
) -> dict[str, frozenset[str]]:
    """passage_id -> the question's terms that its title or headings have and its
    document's retrieved sentences never write: what the document or section is (Monroe's
    message, the 1790 report, release 3.0.0) rather than what it mentions. A name the text
    itself uses must be found there ("Denmark" in a title does not put every figure of the
    article next to Denmark)."""
    in_text: dict[str, set[str]] = {}
    doc_of = {}
    for s in sentences:
        in_text.setdefault(s.hit.passage.doc_id, set()).update(s.terms)
        doc_of[s.hit.passage.passage_id] = s.hit.passage.doc_id
    return {p: found_in(t) - in_text.get(doc_of.get(p, ""), set()) for p, t in titles.items()}


def unsupported_reason(
    question: Question,
    hits: list[Hit],
    support: list[Sentence] | None,
    key_names: set[str],
    titles: Mapping[str, str] = {},
) -> str | None:
    """Why the passages cannot answer although they look similar: a figure the question
    names (a year, an amount) appears in none of them nor in their titles and headings
    (`titles`: passage_id -> `Document.heading_at`; "the 1790 message"), or the question
    asks how much or when and no sentence supports an answer (see `supporting_sentences`)."""
    known = question.figures
    passages = " ".join([h.passage.text for h in hits] + list(titles.values()))
    missing = sorted(
        f
        for f in known
        if len(f) >= 2 and not re.search(rf"(?<![\d.,]){re.escape(f)}(?!\d)", passages)
    )
    if missing:
        return f"no retrieved passage mentions {', '.join(missing)}"
    if support is None or support:
        return None
    what = "date" if question.kind == "date" else "figure"
    if key_names:
        return f"no retrieved sentence gives a {what} about {', '.join(sorted(key_names))}"
    return f"no retrieved sentence gives a {what}"


def supporting_sentences(
    question: Question,
    sentences: list[Sentence],
    key_names: set[str],
    vocabulary: Callable[[str], set[str] | dict[str, float]],
    language: str,
    in_titles: Mapping[str, frozenset[str]] = {},
    sections: Callable[[Sentence], tuple[str, ...]] = lambda s: (),
    found_in: Callable[[str], frozenset[str]] = content_terms,
) -> list[Sentence] | None:
    """For a how-much / when question, the sentences that can answer it: they give a new
    figure or date, with the question's key names in them, next to them or in their
    title and headings (`in_titles`: passage_id -> the question's terms they have). The
    figure or date may be in the headings above the sentence (`sections`: a changelog's
    "[v3.0.0] - 2023-09-17"), which the answer then shows with it. In a passage of
    another language than the question's only the names that language's passages use are
    required ("Estonia" is written alike in English and Vietnamese, "Na Uy" is not
    Norway's English name), and the places whose names there are known (Denmark is "Đan
    Mạch": a Vietnamese sentence about Luxembourg's aid does not answer for Denmark) --
    but not the name of the passage's own language ("the Vietnamese report says...").
    None for other questions. `sentences` are in passage order."""
    kind = question.kind
    if not kind:
        return None
    known = set(question.figures)
    # places whose names in the other languages are known: a sentence there must name them
    named = set().union(*(content_terms(p.written) for p in question.places if p.elsewhere))

    def required_in(passage_language: str) -> set[str]:
        if passage_language == language:
            return key_names
        # "the Vietnamese report" names the passage's language, not a place it must name
        own = content_terms(language_name(passage_language, language))
        usable = vocabulary(passage_language)
        return {n for n in key_names if (n in usable or n in named) and n not in own}

    required = {lang: required_in(lang) for lang in {s.hit.passage.language for s in sentences}}
    contexts = with_neighbours(sentences, [s.terms for s in sentences])
    out = []
    for i, s in enumerate(sentences):
        if not has_answer_kind(s.text, kind, known) and not any(
            has_answer_kind(h, kind, known) for h in sections(s)
        ):
            continue  # neither it nor its section gives the figure or date
        # the sentence, its neighbours in the same passage, and its title and headings;
        # failing those, the short lines beside it
        near = contexts[i] | in_titles.get(s.hit.passage.passage_id, frozenset())
        need = required[s.hit.passage.language]
        if need <= near or need <= near | found_in(_between(sentences, i)):
            out.append(s)
    return out


def _between(sentences: list[Sentence], i: int) -> str:
    """The text of sentences[i]'s passage between it and the sentences beside it
    (`sentences` in passage order), up to GAP_CHARS on each side: the lines too short to be
    sentences that name what a date line or a figure is about ("Author: Igor Pavlov" above
    "Date: 2015-06-14", a version's title above "Released January, 2008"). In prose it is
    blank, but for a sentence cut by the passage's edge or one whose copy in an
    overlapping, better-ranked passage is the candidate: then up to GAP_CHARS of it count
    too."""
    s = sentences[i]
    p = s.hit.passage
    start, end = s.start - p.start, s.end - p.start
    before, after = 0, len(p.text)
    if i > 0 and sentences[i - 1].hit is s.hit:
        before = sentences[i - 1].end - p.start
    if i + 1 < len(sentences) and sentences[i + 1].hit is s.hit:
        after = sentences[i + 1].start - p.start
    lo, hi = max(before, start - GAP_CHARS, 0), min(after, end + GAP_CHARS)
    return p.text[lo:start] + "\n" + p.text[end:hi]


def _select(
    sentences: list[Sentence],
    names: set[str],
    limit: int,
    weight_of: Callable[[set[str]], float],
    best_from: list[Sentence] | None = None,
) -> list[Sentence]:
    """The best sentence (of `best_from`, the sentences that can answer, when given); then,
    for each name or figure of the question that it leaves out, the best sentence that has
    it; then close runners-up that add other question terms. The best leads even when a
    runner-up scores higher (one that restates a how-much question without its figure):
    the answer, its confidence and the gate are about the sentence that answers."""
    if not sentences:
        return []
    ranked = sorted(sentences, key=lambda s: s.score, reverse=True)
    best = max(best_from, key=lambda s: s.score) if best_from else ranked[0]
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
    for s in ranked:
        if s is best:
            continue
        if len(chosen) >= limit or s.score < CLOSE_TO_BEST * best.score:
            break
        if weight_of(s.terms - covered) >= MIN_NEW_WEIGHT and not _overlaps(s, chosen):
            chosen.append(s)
            covered |= s.terms
    return [best] + sorted(chosen[1:], key=lambda s: -s.score)


def _drop_held(chosen: list[Sentence]) -> list[Sentence]:
    """The quotes without those another quote holds (a list quoted whole holds its items):
    the holder takes the place of the first quote it holds."""

    def holds(c: Sentence, s: Sentence) -> bool:
        return c.hit.passage.doc_id == s.hit.passage.doc_id and c.start <= s.start <= s.end <= c.end

    kept: list[Sentence] = []
    for s in chosen:
        if any(holds(k, s) for k in kept):
            continue
        held = [i for i, k in enumerate(kept) if holds(s, k)]
        if held:
            kept[held[0]] = s
            kept = [k for i, k in enumerate(kept) if i not in held[1:]]
        else:
            kept.append(s)
    return kept


def _same(a: Sentence, b: Sentence) -> bool:
    return (a.hit.passage.doc_id, a.start, a.end) == (b.hit.passage.doc_id, b.start, b.end)


def _overlaps(s: Sentence, chosen: list[Sentence]) -> bool:
    return any(
        c.hit.passage.doc_id == s.hit.passage.doc_id and c.start < s.end and s.start < c.end
        for c in chosen
    )


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
            if key in by_span:
                continue  # a sentence that answers two parts is quoted once
            by_span[key] = len(citations) + 1
            citations.append(replace(c, n=by_span[key]))
            texts.append(f"{c.stated} [{by_span[key]}]")
    confidence = min((a.confidence for a in parts if a.confidence is not None), default=None)
    # a question is answerable when one of its parts is
    answerable = max((a.answerable for a in parts if a.answerable is not None), default=None)
    return Answer(
        question,
        " ".join(texts),
        False,
        tuple(citations),
        tuple(hits),
        metas,
        margin=margin,
        confidence=confidence,
        answerable=answerable,
    )
