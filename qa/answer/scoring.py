"""Sentence scoring shared by reranking and answering: how well a sentence answers a question.

score = 0.77 · cosine(question, sentence) + 0.115 · weighted term coverage
      + 0.115 · cosine(question, passage) + 0.23 · the question's terms in the sentence's
        title and headings [+ 0.115 when the sentence gives what the question asks: a new
        figure / date, a new name, a reason]
      [+ 0.027 · the reader's logit, for the answer: `SentenceScorer.read`;
       + 0.03 · the multilingual reader's, for an English question's best three]

Cosine carries meaning; term coverage (IDF-weighted, names and figures counted double,
coordinated names "Sweden and Norway" counted once) rewards the sentence that names what
was asked over one that is merely on topic -- and, weighted more, the sentence that only
restates the question's words over the one after it that answers. The weights are fitted
to the sentence that answers on the tuning halves and the gold-style groups, validated
leave-one-collection-out (eval/fit_weights.py; docs/quality.md, seventeenth round).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace

import numpy as np

from qa.answer import quotes
from qa.answer.figures import dates, figures, has_answer_kind
from qa.answer.question import Question, as_question
from qa.answer.quotes import Sentence, is_heading
from qa.answer.ranker import Candidate, Ranker, features, is_prose, load_ranker
from qa.answer.reader import Deferred, MultilingualReader, Reader
from qa.documents import Hit, Passage
from qa.ingest.sentences import split_sentences
from qa.store.embedding import Embedder
from qa.text import capitalized_terms, content_terms, languages_of

# fitted by eval/fit_weights.py (the fitted weights taken back part of the way to those
# before; both measured, docs/quality.md, seventeenth round), scaled to sum to 1 as before
W_COSINE, W_OVERLAP, W_PASSAGE = 0.769, 0.115, 0.115
W_KIND = 0.115
# Times the share of the question's terms that the sentence's document title and section
# headings have: a question that names its source ("the newbie guide", "Monroe's message",
# "the 3.0.0 release") asks about that document or section.
W_TITLE = 0.231
# Names and figures in the question (Norway, 2024) are what it is about: a sentence that
# lacks them rarely answers it, so they count double in the coverage.
NAME_WEIGHT = 2.0
MIN_WORDS = 4  # shorter "sentences" are headings and captions, not answers
DATE_LINE_WORDS = 8  # ...but a line this short that gives a date answers "when"
# The reader (qa/answer/reader.py) reads the hand score's best READ_TOP sentences; its logit
# joins their score with weight W_READER. A readable sentence below those takes the lowest
# logit read: had it read better, the hand score would rarely have put it below. The three
# readers' weights were halved together in the twenty-first round (`eval/lead_ranks.py
# --reader-scales`): over the 662 answerable questions of the tuning halves and the groups,
# the lead answered 444 at half the weights against 437, and half was the scale chosen
# without each collection for every one of the eleven. They had been fitted on the 111
# questions of four tuning halves (.035, then scaled with the hand score's weights).
W_READER = 0.0135
# The multilingual reader's logit joins with the weight that gives it the English reader's
# spread: W_READER times the ratio of the two readers' logit spreads over the same English
# candidates: 0.444 on the held-out questions of eval/reader/train_multilingual.py
# (its logits spread about twice as wide).
W_MULTILINGUAL = 0.00615
# The English reader reads the best 10: on the tuning halves the answering sentence was
# 7th-10th by the hand score often enough that reading 10 instead of 6 won two answers and
# lost none (reading every candidate won no more), for ~10-15 ms a question. The
# multilingual reader, twice the cost per pair, reads 6 (4 lost a tuning answer).
READ_TOP = 10
MULTILINGUAL_READ_TOP = 6
# For an English question the multilingual reader then reads the best 3 again, its logit
# added with this weight: leave one collection out, the answering sentence led 429 of 644
# English tuning questions against 420 (eval/reader/README.md's readers, neither trained
# on them); reading 6 led 429 too, for twice the time (docs/quality.md, eighteenth round).
# Its weight, 0.03 then, was halved with the others (above).
SECOND_READ_TOP = 3
W_SECOND_READING = 0.015
# A name with this share of the question's term weight is what the question is about (not
# the collection's own subject, "Ukraine", found everywhere).
KEY_NAME_WEIGHT = 0.2


def asks(text: str) -> bool:
    """A question, not an answer: a page of questions and answers asks the user's question
    in the user's words, so its own question would outscore the sentence that answers."""
    return text.rstrip().rstrip("\"'”’»)").endswith(("?", "？"))


@dataclass(frozen=True)
class QuestionTerms:
    """The question's content terms with weights; coordinated names form groups of which
    one member is enough (the question asks the same of each)."""

    weights: dict[str, float]
    groups: list[set[str]]
    names: set[str]
    # a place the question names (its terms) and its names in other languages (their terms)
    aliases: tuple[tuple[frozenset[str], tuple[frozenset[str], ...]], ...] = ()

    def found_in(self, text: str) -> frozenset[str]:
        """The question's terms that a text contains: a name only where the text writes it
        with its capital too (Vietnamese "Pháp" is France, "pháp" law; "US" is not "us"),
        and a place also where the text names it in another language."""
        terms = content_terms(text)
        capitalized = capitalized_terms(text)
        found = {
            t
            for t in terms & set(self.weights)
            if t not in self.names or t in capitalized or any(ch.isdigit() for ch in t)
        }
        for own, elsewhere in self.aliases:
            if any(alias <= terms for alias in elsewhere):
                found |= own & set(self.weights)
        return frozenset(found)

    @property
    def key_names(self) -> set[str]:
        return {n for n in self.names if self.coverage({n}) >= KEY_NAME_WEIGHT}

    def coverage(self, terms: set[str] | frozenset[str]) -> float:
        """Share of the question's term weight that `terms` covers, in [0, 1]."""
        grouped = set().union(*self.groups) if self.groups else set()
        total = sum(w for t, w in self.weights.items() if t not in grouped)
        got = sum(self.weights[t] for t in terms if t in self.weights and t not in grouped)
        for g in self.groups:
            total += max(self.weights[t] for t in g)
            got += max((self.weights[t] for t in g & set(terms)), default=0.0)
        return got / total if total else 0.0


class SentenceScorer:
    """Scores sentences for answering and reranking (the weights above); its `ranker`
    gives the answer's confidence (qa/answer/ranker.py)."""

    def __init__(
        self,
        embedder: Embedder,
        idf: dict[str, dict[str, float]] | None = None,
        sentence_vectors: Callable[[Passage], np.ndarray] | None = None,
        offsets: Mapping[str, float] | None = None,
        ranker: Ranker | None = None,
        heading_of: Callable[[Passage], str] | None = None,
        reader: Reader | None = None,
        multilingual: MultilingualReader | Deferred | None = None,
    ) -> None:
        """`idf` maps a language (and "*" for all passages) to term weights (see
        `text.idf_by_language`). `sentence_vectors(passage)` gives the stored vectors of the
        passage's sentences; without it sentences are embedded at question time (slower).
        `offsets`: passage language -> what to add to its cosines with the question (see
        `calibration.similarity_offsets`), so that a sentence in another language than the
        question's is not outranked for its language alone. `heading_of(passage)`: its document's
        title and the headings above it, for questions that say which document or section
        they ask about ("the newbie guide", "the 3.0.0 release").
        `reader`: what `read` adds to the answer's scores (None: nothing); `multilingual`:
        the reader across languages (`_reader_for` says when it reads; None: never)."""
        self.embedder = embedder
        self.heading_of = heading_of or (lambda passage: "")
        self.idf = idf or {}
        self.sentence_vectors = sentence_vectors
        self.offsets = offsets or {}
        self.ranker = ranker or load_ranker()
        self.reader = reader
        self.multilingual = multilingual

    def vocabulary(self, language: str) -> dict[str, float]:
        """The terms used by the passages of a language (with their IDF)."""
        return self.idf.get(language, self.idf.get("*", {}))

    def question_terms(self, question: Question | str) -> QuestionTerms:
        q = as_question(question, languages_of(self.idf))
        aliases = tuple(
            (frozenset(content_terms(place.written)), tuple(map(content_terms, place.elsewhere)))
            for place in q.places
        )
        # a one-word place is a name even where it opens the question ("Pháp ...")
        names = set(q.names).union(*(own for own, _ in aliases if len(own) == 1))
        overall = self.idf.get("*", {})
        own = self.idf.get(q.language, {})
        # a term the collection never uses weighs as much as its rarest one
        unseen = max(overall.values(), default=1.0)
        weights = {
            t: own.get(t, overall.get(t, unseen)) * (NAME_WEIGHT if t in names else 1.0)
            for t in content_terms(q.text)
        }
        groups = [set(g) & set(weights) for g in q.groups]
        return QuestionTerms(weights, [g for g in groups if len(g) >= 2], names, aliases)

    def candidates(
        self, hits: list[Hit], *, dedupe: bool = True, question: Question | None = None
    ) -> list[Sentence]:
        """Sentences of the passages in passage order, with vectors. With `dedupe`, one copy
        of each, from its best-ranked passage (overlapping chunks repeat sentences). For a
        `question` that asks when, a short line that gives a date is one too ("Released
        March 20, 2004", "Date: 2015-06-14" under a title or a version's heading): what
        is a heading or a caption for other questions is the answer to that one."""
        seen: set[tuple[str, int, int]] = set()
        dated = question is not None and question.kind == "date"
        out = []
        for hit in hits:
            p = hit.passage
            spans = p.sentences or tuple(split_sentences(p.text))
            vectors = self.sentence_vectors(p) if self.sentence_vectors and p.sentences else None
            for i, (a, b) in enumerate(spans):
                key = (p.doc_id, p.start + a, p.start + b)
                text = p.text[a:b]
                short = len(text.split()) < MIN_WORDS
                if dedupe and key in seen:
                    continue
                if short or is_heading(text) or not is_prose(text):
                    if not (dated and _is_date_line(text)):
                        continue
                seen.add(key)
                vector = vectors[i] if vectors is not None else None
                out.append(Sentence(hit, p.start + a, p.start + b, text, vector))
        missing = [s for s in out if s.vector is None]
        if missing:
            embedded = self.embedder.embed_passages([s.text for s in missing])
            fill = {id(s): v for s, v in zip(missing, embedded, strict=True)}
            out = [replace(s, vector=fill[id(s)]) if s.vector is None else s for s in out]
        return out

    def describe(
        self,
        question: Question | str,
        query_vector: np.ndarray,
        sentences: list[Sentence],
        margin: float = 0.0,
    ) -> tuple[list[Sentence], np.ndarray]:
        """The sentences with the question's terms they contain, and the ranker's feature
        rows for them (`margin`: how far the best passage is above its calibrated
        threshold, the same for every sentence of a question). `sentences` in passage
        order: a sentence's neighbours are read as its context."""
        if not sentences:
            return [], features([], frozenset(), False, margin)
        cosines = np.vstack([s.vector for s in sentences]) @ query_vector
        q = as_question(question, languages_of(self.idf))
        q_terms = self.question_terms(q)
        question_terms = content_terms(q.text)
        known_names = capitalized_terms(q.text) | question_terms
        known = set(q.figures)
        found = [q_terms.found_in(s.text) for s in sentences]
        names_total = q_terms.coverage(q_terms.names) if q_terms.names else 0.0
        described, candidates = [], []
        contexts = with_neighbours(sentences, found)
        for i, (s, cos, near) in enumerate(zip(sentences, cosines, contexts, strict=True)):
            offset = self.offsets.get(s.hit.passage.language, 0.0)
            terms = content_terms(s.text)
            candidates.append(
                Candidate(
                    text=s.text,
                    cosine=float(cos) + offset,
                    passage_cosine=s.hit.score + offset,
                    coverage=q_terms.coverage(found[i]),
                    context_coverage=q_terms.coverage(near),
                    name_coverage=(
                        q_terms.coverage(found[i] & q_terms.names) / names_total
                        if names_total
                        else 1.0
                    ),
                    gives_kind=has_answer_kind(s.text, q.kind, known),
                    new_names=len(_new_names(s.text, known_names)),
                    new_figures=len(figures(s.text) - known),
                    novelty=len(terms - question_terms) / max(len(terms), 1),
                    other_language=s.hit.passage.language != q.language,
                )
            )
            described.append(replace(s, terms=found[i]))
        return described, features(candidates, q.types, bool(q.kind), margin)

    def score(
        self, question: Question | str, query_vector: np.ndarray, sentences: list[Sentence]
    ) -> list[Sentence]:
        """The sentences with their score: `score_parts` weighted (W_COSINE, W_OVERLAP,
        W_PASSAGE, W_TITLE, W_KIND), and the question's terms each contains."""
        weights = (W_COSINE, W_OVERLAP, W_PASSAGE, W_TITLE, W_KIND)
        described, parts = self.score_parts(question, query_vector, sentences)
        return [
            replace(s, score=sum(w * x for w, x in zip(weights, row, strict=True)))
            for s, row in zip(described, parts, strict=True)
        ]

    def score_parts(
        self, question: Question | str, query_vector: np.ndarray, sentences: list[Sentence]
    ) -> tuple[list[Sentence], list[tuple[float, float, float, float, float]]]:
        """The sentences with the question's terms each contains, and the parts of each
        one's score before they are weighted: cosine with the question, term coverage,
        passage cosine (both cosines with the passage language's offset), the share of the
        question's terms in its title and headings, and 1.0 when it gives what the
        question asks (a new figure or date, a new name, a reason) -- what
        eval/fit_weights.py fits the weights to."""
        if not sentences:
            return [], []
        cosines = np.vstack([s.vector for s in sentences]) @ query_vector
        q = as_question(question, languages_of(self.idf))
        q_terms = self.question_terms(q)
        kind = q.kind
        known = set(q.figures)
        in_title = {
            pid: q_terms.coverage(terms)
            for pid, terms in self.heading_terms(q_terms, sentences).items()
        }
        who = "who" in q.types  # wants a name the question does not have, as how-much a figure
        why = "why" in q.types  # wants a reason
        known_names = capitalized_terms(q.text) | content_terms(q.text)
        described, parts = [], []
        for s, cos in zip(sentences, cosines, strict=True):
            terms = q_terms.found_in(s.text)
            offset = self.offsets.get(s.hit.passage.language, 0.0)
            gives = bool(
                has_answer_kind(s.text, kind, known)
                or (who and _new_names(s.text, known_names))
                or (why and _GIVES_REASON.search(s.text))
            )
            parts.append(
                (
                    float(cos) + offset,
                    q_terms.coverage(terms),
                    s.hit.score + offset,
                    in_title[s.hit.passage.passage_id],
                    1.0 if gives else 0.0,
                )
            )
            described.append(replace(s, terms=terms))
        return described, parts

    def read(self, question: Question, sentences: list[Sentence]) -> list[Sentence]:
        """`score`'s sentences with a reader's judgement added: it reads question and
        sentence together, and so tells a sentence that gives what is asked from one that
        only shares the question's words. The English reader reads English questions; the
        multilingual one reads across languages, where the best sentences are all in
        another language than the question (`_reader_for`). A reader reads only the
        languages it was trained on (see `reading` below)."""
        if not sentences or (self.reader is None and self.multilingual is None):
            return sentences
        # It reads what is said, not of whom: "Sweden pledged 6.5 billion" reads as well
        # for "How much did Norway pledge?". So it reads only sentences said of what the
        # question names: those that hold the most of its key names in their quote or their
        # document's title ("the Kestrin harbour rules"), and those whose passage holds as
        # many ("Commodore Porter, to whom the command of the expedition was confided" in a
        # passage about the pirates of Cuba). The others keep the mean reading of the
        # sentences that hold the names.
        q_terms = self.question_terms(question)
        titled = self.heading_terms(q_terms, sentences)
        key = q_terms.key_names

        def names_held(text: str, passage_id: str) -> int:
            return len((q_terms.found_in(text) | titled[passage_id]) & key)

        # each is read as it would be quoted ("It has a default of 25." with the sentence
        # before it that names what "It" is), so the names are looked for in the quote
        quoted = [quotes.in_context(s).text for s in sentences]
        held = [
            names_held(q, s.hit.passage.passage_id) for s, q in zip(sentences, quoted, strict=True)
        ]
        best = [i for i in range(len(sentences)) if held[i] == max(held)]
        reader = self._reader_for(question, [sentences[i] for i in best])
        if reader is None:
            return sentences

        def reads(s: Sentence) -> bool:
            return reader.languages is None or s.hit.passage.language in reader.languages

        passages = {s.hit.passage.passage_id: s.hit.passage for s in sentences}
        named = {pid: names_held(p.text, pid) for pid, p in passages.items()}
        in_passage = [named[s.hit.passage.passage_id] for s in sentences]
        pool = set(best) | {i for i in range(len(sentences)) if in_passage[i] == max(in_passage)}
        readable = {i for i in pool if reads(sentences[i])}
        limit, weight = (
            (MULTILINGUAL_READ_TOP, W_MULTILINGUAL)
            if reader is self.multilingual
            else (READ_TOP, W_READER)
        )
        top = sorted(readable, key=lambda i: -sentences[i].score)[:limit]
        if not top:
            return sentences
        logits = reader.scores(question.text, [quoted[i] for i in top])
        read = dict(zip(top, logits.tolist(), strict=True))
        # a readable sentence below those read takes the lowest reading; of the readings of
        # the sentences that hold the key names, one without them takes the mean, and one
        # in a language the reader does not read the highest, so that reading English
        # sentences never lifts one over the Vietnamese sentence that answers an English
        # question about a Vietnamese text
        held_read = [read[i] for i in best if i in read] or logits.tolist()
        low, mean, high = float(logits.min()), float(np.mean(held_read)), max(held_read)

        def reading(i: int, s: Sentence) -> float:
            if i in read:
                return read[i]
            if i in readable:
                return low
            return high if not reads(s) else mean

        out = [
            replace(s, score=s.score + weight * reading(i, s), reading=read.get(i))
            for i, s in enumerate(sentences)
        ]
        # a question about several names ("How much did Sweden and Norway pledge?") is
        # answered by one sentence for each, which a reader of the whole question rates
        # low: a second reading would keep the second name's sentence out of the answer
        if reader is self.reader and self.multilingual is not None and not q_terms.groups:
            out = self._read_again(question, out, quoted, pool, best)
        return out

    def _read_again(
        self,
        question: Question,
        sentences: list[Sentence],
        quoted: list[str],
        pool: set[int],
        best: list[int],
    ) -> list[Sentence]:
        """The English reading's SECOND_READ_TOP best read again by the multilingual reader,
        its logit added with weight W_SECOND_READING. Two readers trained apart err apart:
        where the English one rates a sentence that restates the question above the one that
        answers, the other often does not (docs/quality.md, eighteenth round). Those of the
        pool below them take its lowest reading, the others its mean over the sentences that
        hold the key names."""
        top = sorted(pool, key=lambda i: -sentences[i].score)[:SECOND_READ_TOP]
        logits = self.multilingual.scores(question.text, [quoted[i] for i in top])
        read = dict(zip(top, logits.tolist(), strict=True))
        held = [read[i] for i in best if i in read] or logits.tolist()
        low, mean = float(logits.min()), float(np.mean(held))
        return [
            replace(s, score=s.score + W_SECOND_READING * read.get(i, low if i in pool else mean))
            for i, s in enumerate(sentences)
        ]

    def _reader_for(self, question: Question, best: list[Sentence]):
        """Who reads: the English reader when the question is English (it reads the English
        sentences; the others keep the best reading), unless the MULTILINGUAL_READ_TOP best
        of `best` (by the hand score) are all in another language: then the multilingual one,
        which reads across languages. Where question and sentences share a language that is not
        English, or the sentences mix the question's language with another, nobody reads:
        there the multilingual reader's readings followed the language more than the
        content (it put "Luxembourg will help train Ukraine's army" first for "What will
        France help Ukraine with?", both in Vietnamese), and the hand score's terms work."""
        english, multilingual = self.reader, self.multilingual
        top = sorted(best, key=lambda s: -s.score)[:MULTILINGUAL_READ_TOP]
        if (
            multilingual is not None
            and top
            and all(s.hit.passage.language != question.language for s in top)
        ):
            return multilingual
        if english is not None and question.language in english.languages:
            return english
        return None

    def heading_terms(
        self, q_terms: QuestionTerms, sentences: list[Sentence]
    ) -> dict[str, frozenset[str]]:
        """passage_id -> the question's terms that the title and headings above the
        sentences' passages have (once per passage: a passage has many sentences)."""
        passages = {s.hit.passage.passage_id: s.hit.passage for s in sentences}
        return {pid: q_terms.found_in(self.heading_of(p)) for pid, p in passages.items()}

    def probabilities(
        self,
        question: Question | str,
        query_vector: np.ndarray,
        sentences: list[Sentence],
        margin: float,
    ) -> np.ndarray:
        """The ranker's probability that each of `sentences` answers the question: for the
        quoted one, what the answer gate calibrates into the answer's confidence (the
        confidence itself without the gate)."""
        _, x = self.describe(question, query_vector, sentences, margin)
        return self.ranker.probabilities(x)


def _is_date_line(text: str) -> bool:
    """A line of at most DATE_LINE_WORDS words that gives a date, with its month at least:
    a year alone on a line is a reference's "(2022).", a running head's, a table's."""
    return (
        len(text.split()) <= DATE_LINE_WORDS
        and has_answer_kind(text, "date")
        and any(d.month is not None for d in dates(text))
    )


def with_neighbours(sentences: list[Sentence], terms: list[frozenset[str]]) -> list[set[str]]:
    """Each sentence's terms with those of the sentences beside it in the same passage
    (`sentences` in passage order, `terms[i]` those of sentences[i])."""
    out = []
    for i, s in enumerate(sentences):
        near = set(terms[i])
        for j in (i - 1, i + 1):
            if 0 <= j < len(sentences) and sentences[j].hit is s.hit:
                near |= terms[j]
        out.append(near)
    return out


# How a sentence gives a reason, in English and Vietnamese: language, not a collection's words.
_GIVES_REASON = re.compile(
    r"\b(?:because|since|due to|owing to|as a result|so that|in order to|the reason|thanks to|"
    r"therefore|thus|hence|vì|bởi vì|do đó|vì vậy)\b",
    re.I,
)


def _new_names(text: str, known: set[str]) -> set[str]:
    """Capitalised words of `text` (its first is capitalised anyway) that are not in
    `known`: the question's capitalised words and terms."""
    return capitalized_terms(" ".join(text.split()[1:])) - known
