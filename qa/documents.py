"""The records that flow through the pipeline: Document -> Passage -> Hit -> Answer(Citations)."""

from __future__ import annotations

import bisect
from dataclasses import asdict, dataclass, field
from functools import cached_property
from typing import Any

# The page of a source that has no pages (plain text without form feeds, a web page): a
# citation names none. An int, so that every store keeps its integer page columns.
NO_PAGE = 0

# The answer when the documents do not answer (also what the llm answerer is told to say).
ABSTAIN_MESSAGE = "The documents do not answer this."


@dataclass(frozen=True)
class Metadata:
    """What a reader needs to cite a document. Every field but the title may be unknown."""

    title: str
    publisher: str | None = None
    date: str | None = None  # ISO 8601, possibly partial: "2024", "2024-07", "2024-07-10"
    language: str | None = None  # ISO 639-1, e.g. "en", "vi"
    url: str | None = None
    kind: str | None = None  # "news article", "policy report", ...
    notes: str | None = None


# A heading of a document: (start, end, level 1-6), `text[start:end]` being its words.
Section = tuple[int, int, int]


@dataclass(frozen=True)
class Document:
    """A cleaned document. `text` is what passages and citations point into.

    `page_starts[i]` is the offset in `text` where page `page_labels[i]` begins; a document
    without pages (plain text with no form feeds, HTML) has one run labelled NO_PAGE.
    """

    doc_id: str  # stable: the source path relative to the project, posix style
    source: str  # path of the source file as given to the indexer
    sha256: str  # of the source file's bytes: an unchanged file is not re-embedded
    meta: Metadata
    text: str
    page_starts: tuple[int, ...] = (0,)
    page_labels: tuple[int, ...] = (1,)
    encoding: str | None = None  # how the bytes were decoded (text files only)
    sections: tuple[Section, ...] = ()  # the headings its markup declared, in text order

    def page_at(self, offset: int) -> int:
        """Printed page number of the character at `offset`."""
        i = bisect.bisect_right(self.page_starts, offset) - 1
        return self.page_labels[max(i, 0)]

    def headings_at(self, offset: int) -> tuple[str, ...]:
        """The headings above `offset`, outermost first: of each level, the last one before
        it that no shallower heading has closed since. A heading starting at `offset` counts.
        Found walking back from the nearest heading (asked per passage and per sentence of
        every answer, so it must not read a long manual's every heading)."""
        starts, top = self._heading_index
        i = bisect.bisect_right(starts, offset) - 1
        path: list[str] = []
        above = 7  # deeper than any heading level
        while i >= 0 and above > top:
            start, end, level = self.sections[i]
            if level < above:
                path.append(" ".join(self.text[start:end].split()))
                above = level
            i -= 1
        return tuple(reversed(path))

    @cached_property
    def _heading_index(self) -> tuple[list[int], int]:
        """The sections' starts (for bisection) and their shallowest level."""
        return [s for s, _, _ in self.sections], min((lv for _, _, lv in self.sections), default=1)

    def heading_at(self, offset: int) -> str:
        """What a reader sees above `offset`: the title, then the headings (one per line)."""
        return "\n".join(dict.fromkeys((self.meta.title, *self.headings_at(offset))))


@dataclass(frozen=True)
class Passage:
    """A chunk of a document: `document.text[start:end] == text`, always."""

    passage_id: str  # "<doc_id>#<start>-<end>": survives a rebuild of unchanged documents
    doc_id: str
    start: int
    end: int
    page_start: int
    page_end: int
    text: str
    sentences: tuple[tuple[int, int], ...] = ()  # sentence spans, relative to `text`
    language: str = "und"  # detected from the passage text (ISO 639-1)


@dataclass(frozen=True)
class Hit:
    """A passage retrieved for a question, with its score and rank (1 = best)."""

    passage: Passage
    score: float
    rank: int


@dataclass(frozen=True)
class Citation:
    """One quoted sentence and where it comes from; `start`/`end` index the document text."""

    n: int
    document: str
    title: str
    publisher: str | None
    date: str | None
    url: str | None
    page: int  # page where the quote starts
    page_end: int  # page where it ends (a sentence may run over a page break)
    quote: str
    start: int
    end: int
    score: float
    passage_id: str
    language: str = "und"  # of the quoted passage; shown when it differs from the question's
    # the headings above the quote ("[v3.0.0] - 2023-09-17 › Changed"), when they hold what
    # the question asks and the quote does not say: the answer shows them before the quote
    section: str = ""

    @property
    def stated(self) -> str:
        """The quote as the answer states it: after its section, when that is shown."""
        return f"{self.section}: {self.quote}" if self.section else self.quote

    @classmethod
    def of_span(
        cls, n: int, doc: Document, start: int, end: int, score: float, passage: Passage
    ) -> Citation:
        """The citation of `doc.text[start:end]`, quoted from `passage`."""
        return cls(
            n=n,
            document=doc.doc_id,
            title=doc.meta.title,
            publisher=doc.meta.publisher,
            date=doc.meta.date,
            url=doc.meta.url,
            page=doc.page_at(start),
            page_end=doc.page_at(end - 1),
            quote=doc.text[start:end],
            start=start,
            end=end,
            score=score,
            passage_id=passage.passage_id,
            language=passage.language,
        )


@dataclass(frozen=True)
class Figure:
    """One document's value for a disputed thing, with where it is written."""

    value: str  # as written, with its qualifier: "more than 20", "EUR 6.5 billion", "10/7"
    normalized: str  # what is compared: "20", "EUR 6500000000", "2024-07-10", "--07-10"
    document: str
    title: str
    publisher: str | None
    date: str | None
    url: str | None
    page: int
    page_end: int
    quote: str  # the sentence that gives the value
    start: int  # offsets of the sentence in the document text
    end: int
    n: int | None = None  # the answer's citation of this sentence, if it is cited
    language: str = "und"


@dataclass(frozen=True)
class Disagreement:
    """Figures that documents give differently for one thing (qa/answer/disagreement.py)."""

    subject: str  # "the number of agreements", "the amount in EUR (Sweden)", "the date"
    figures: tuple[Figure, ...]


VERBATIM = "verbatim"  # copied from the document: true to its source by construction
CHECKED = "checked"  # written by the language model and accepted by the check
UNSUPPORTED = "unsupported"  # written by the model, rejected by the check: never shown as fact


@dataclass(frozen=True)
class AnswerSentence:
    """One sentence of an answer and how far it can be trusted: `kind` is VERBATIM, CHECKED
    or UNSUPPORTED. `citations` are numbers of `Answer.citations` (the supporting quote);
    `passages` are the passage ids the sentence cites, for showing the passage itself."""

    text: str  # without its [n] markers
    kind: str
    citations: tuple[int, ...] = ()
    passages: tuple[str, ...] = ()
    reason: str | None = None  # why the check rejected it ("2025 is not in passage [2]")
    similarity: float | None = None  # closeness to the cited passage, as the check measured it


@dataclass(frozen=True)
class Generation:
    """What the language model wrote and what the check made of it (answerer "llm")."""

    model: str
    text: str = ""  # the model's reply, as written
    accepted: int = 0  # generated sentences the check accepted (shown, kind CHECKED)
    removed: tuple[AnswerSentence, ...] = ()  # rejected ones, kind UNSUPPORTED, with reasons
    fallback: str | None = None  # why the extractive answer is shown instead, if it is
    error: str | None = None  # the server's failure (timeout, down, wrong model, rate limit)
    seconds: float = 0.0


@dataclass(frozen=True)
class Answer:
    question: str
    answer: str  # sentences with [n] markers, or the abstention message
    abstained: bool
    citations: tuple[Citation, ...] = ()
    hits: tuple[Hit, ...] = ()
    documents: dict[str, Metadata] = field(default_factory=dict, compare=False, repr=False)
    abstain_reason: str | None = None  # why, when it abstained on a similar-looking passage
    language: str = "und"  # of the question
    # best passage similarity minus its calibrated threshold: below 0 abstains as off-topic
    margin: float | None = None
    # the chance the answer is right, as the answer gate calibrates it; without the gate,
    # the answer ranker's probability that its best sentence answers the question
    confidence: float | None = None
    # the answer gate's probability that the documents answer it (qa/answer/abstention.py)
    answerable: float | None = None
    index_version: str | None = None  # the index version the answer was computed on
    filters: Any = None  # qa.filters.Filters the search was restricted to, if any
    # figures the cited passages give differently for the question's thing (qa/answer/disagreement.py)
    disagreements: tuple[Disagreement, ...] = ()
    # Set by the llm answerer only (the extractive answer's JSON has none of these):
    sentences: tuple[AnswerSentence, ...] = ()  # the shown sentences with their kind
    generation: Generation | None = None
    notice: str | None = None  # what the reader should know: "showing the extractive answer..."
    final: bool = True  # False for the partial answers a stream yields before the last

    def shown_sentences(self) -> tuple[AnswerSentence, ...]:
        """The answer's sentences with their kind; an extractive answer's are its quotes."""
        if self.sentences or self.abstained:
            return self.sentences
        return tuple(
            AnswerSentence(c.stated, VERBATIM, (c.n,), (c.passage_id,)) for c in self.citations
        )

    @property
    def calibrated_confidence(self) -> float | None:
        """`confidence` where it is the chance the answer is right: the quotes' confidence,
        calibrated by the answer gate (qa/answer/abstention.py). None for an abstention, for
        sentences a language model wrote, and without the gate (then it is only the
        ranker's probability)."""
        if self.abstained or self.answerable is None:
            return None
        if any(s.kind == CHECKED for s in self.sentences):
            return None
        return self.confidence

    def to_dict(self) -> dict[str, Any]:
        """The JSON shape documented in the README (`qa ask --json`)."""
        return {
            "question": self.question,
            "answer": self.answer,
            "abstained": self.abstained,
            "abstain_reason": self.abstain_reason,
            "language": self.language,
            "margin": None if self.margin is None else round(self.margin, 4),
            "confidence": None if self.confidence is None else round(self.confidence, 4),
            "answerable": None if self.answerable is None else round(self.answerable, 4),
            "index_version": self.index_version,
            "filters": None if self.filters is None else self.filters.to_dict(),
            "citations": [asdict(c) for c in self.citations],
            "disagreements": [
                {"subject": d.subject, "figures": [asdict(f) for f in d.figures]}
                for d in self.disagreements
            ],
            "passages": [
                {
                    "rank": h.rank,
                    "document": h.passage.doc_id,
                    "title": self.documents[h.passage.doc_id].title
                    if h.passage.doc_id in self.documents
                    else None,
                    "page": h.passage.page_start,
                    "page_end": h.passage.page_end,
                    "start": h.passage.start,
                    "end": h.passage.end,
                    "text": h.passage.text,
                    "score": round(h.score, 4),
                    "language": h.passage.language,
                    "passage_id": h.passage.passage_id,
                }
                for h in self.hits
            ],
        } | (self._generation_dict() if self.generation is not None else {})

    def _generation_dict(self) -> dict[str, Any]:
        return {
            "answerer": "llm",
            "notice": self.notice,
            "final": self.final,
            "sentences": [asdict(s) for s in self.shown_sentences()],
            "generation": asdict(self.generation),
        }
