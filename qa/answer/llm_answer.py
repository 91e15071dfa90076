"""The llm answerer: a language model writes the answer from the retrieved passages, and
only the sentences that the check accepts are shown, each cited to its supporting sentence.

It starts from the extractive answer (computed first: it is cheap, names the passages, and
is what the reader gets whenever the model fails): a question the documents do not answer
is not sent to the model; a server that is down, slow, rate-limited or does not know the
model, a refusal, or a reply of which no sentence survives the check all give the
extractive answer with a notice saying why. Streaming yields an Answer after each checked
sentence, so nothing unchecked is ever shown.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from dataclasses import replace

from qa.answer.llm import LLMClient, build_messages
from qa.answer.verify import (
    GeneratedSentence,
    SentenceChecker,
    Verdict,
    finished_sentences,
    is_refusal,
)
from qa.documents import (
    CHECKED,
    UNSUPPORTED,
    Answer,
    AnswerSentence,
    Citation,
    Document,
    Generation,
    Hit,
)
from qa.errors import LLMError

EXTRACTIVE_INSTEAD = "The extractive answer (sentences quoted from the documents) is shown instead."
FAILED = "the language model could not answer"
REFUSED = "the language model found no answer in the passages"
NOTHING_SURVIVED = "no sentence the language model wrote is supported by the passage it cites"


class LLMAnswerer:
    def __init__(
        self, client: LLMClient, make_checker: Callable[[list[Hit]], SentenceChecker]
    ) -> None:
        """`make_checker(hits)`: a SentenceChecker for the passages given to the model."""
        self.client = client
        self.make_checker = make_checker

    def stream(
        self, extractive: Answer, documents: dict[str, Document], *, stream: bool = True
    ) -> Iterator[Answer]:
        """Answers as the reply comes in (`final=False`), then the final one. Each is
        whole: its text holds only checked sentences, each with its citations."""
        started = time.monotonic()
        model = self.client.model or "?"
        if extractive.abstained:  # calibrated abstention stands; no model is asked
            yield replace(extractive, generation=Generation(model), final=True)
            return
        hits = list(extractive.hits)
        state = _Draft(extractive, documents, hits)
        yield state.answer(Generation(model), final=False)
        text = ""
        try:
            checker = self.make_checker(hits)
            messages = build_messages(extractive.question, hits, documents)
            if stream:
                pieces = self.client.stream(messages)
            else:
                pieces = iter([self.client.complete(messages)])
            for piece in pieces:
                text += piece
                if state.take(finished_sentences(text, done=False), checker):
                    yield state.answer(Generation(model, text), final=False)
            state.take(finished_sentences(text, done=True), checker)
        except LLMError as exc:
            gen = Generation(
                model, text, fallback=FAILED, error=str(exc), seconds=time.monotonic() - started
            )
            yield _fallback(extractive, gen, f"{FAILED.capitalize()}: {exc} {EXTRACTIVE_INSTEAD}")
            return
        gen = Generation(
            model,
            text,
            accepted=len(state.shown),
            removed=tuple(state.removed),
            seconds=time.monotonic() - started,
        )
        if not state.shown:
            why = REFUSED if is_refusal(text) or not state.removed else NOTHING_SURVIVED
            yield _fallback(
                extractive, replace(gen, fallback=why), f"{why.capitalize()}. {EXTRACTIVE_INSTEAD}"
            )
            return
        yield state.answer(gen, final=True)


def _fallback(extractive: Answer, gen: Generation, notice: str) -> Answer:
    return replace(
        extractive,
        sentences=extractive.shown_sentences(),
        generation=gen,
        notice=notice,
        final=True,
    )


class _Draft:
    """The answer being assembled: checked sentences with renumbered citations, and the
    removed ones with the reason."""

    def __init__(self, extractive: Answer, documents: dict[str, Document], hits: list[Hit]):
        self.extractive = extractive
        self.documents = documents
        self.hits = hits
        self.seen = 0
        self.shown: list[AnswerSentence] = []
        self.removed: list[AnswerSentence] = []
        self.citations: list[Citation] = []
        self._by_span: dict[tuple[str, int, int], int] = {}

    def take(self, sentences: list[GeneratedSentence], checker: SentenceChecker) -> bool:
        """Check the sentences not seen yet; True when something changed."""
        new = sentences[self.seen :]
        self.seen = max(self.seen, len(sentences))
        for s in new:
            verdict = checker.check(s)
            passages = tuple(
                self.hits[n - 1].passage.passage_id for n in s.cited if 1 <= n <= len(self.hits)
            )
            if verdict.supported:
                numbers = tuple(self._cite(verdict, hit, a, b) for hit, a, b in verdict.support)
                self.shown.append(
                    AnswerSentence(
                        s.text,
                        CHECKED,
                        tuple(dict.fromkeys(numbers)),
                        passages,
                        similarity=_round(verdict.similarity),
                    )
                )
            else:
                self.removed.append(
                    AnswerSentence(
                        s.text,
                        UNSUPPORTED,
                        (),
                        passages,
                        verdict.reason,
                        _round(verdict.similarity),
                    )
                )
        return bool(new)

    def _cite(self, verdict: Verdict, hit: Hit, start: int, end: int) -> int:
        p = hit.passage
        key = (p.doc_id, start, end)
        if key not in self._by_span:
            doc = self.documents[p.doc_id]
            n = len(self.citations) + 1
            self._by_span[key] = n
            self.citations.append(
                Citation.of_span(n, doc, start, end, _round(verdict.similarity) or 0.0, p)
            )
        return self._by_span[key]

    def answer(self, gen: Generation, final: bool) -> Answer:
        text = " ".join(s.text + "".join(f" [{n}]" for n in s.citations) for s in self.shown)
        notice = None
        if self.removed:
            n = len(self.removed)
            notice = (
                f"{n} sentence{'s' if n > 1 else ''} the language model wrote "
                f"{'were' if n > 1 else 'was'} removed: not supported by the cited passage."
            )
        return replace(
            self.extractive,
            answer=text,
            citations=tuple(self.citations),
            sentences=tuple(self.shown),
            generation=replace(gen, accepted=len(self.shown), removed=tuple(self.removed)),
            notice=notice,
            final=final,
        )


def _round(x: float | None) -> float | None:
    return None if x is None else round(x, 4)
