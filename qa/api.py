"""The library API that the CLI and the app call: build the index, ask questions.

qa = QA(Settings.from_env())
qa.ensure_index()                  # builds from corpus/ on first use
answer = qa.ask("What did Sweden pledge?")
for partial in qa.ask_stream("What did Sweden pledge?"):  # the llm answerer, as it writes
    show(partial)                                          # the last one has final=True
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

from .answer import ExtractiveAnswerer, combine
from .calibration import threshold_for
from .config import Settings
from .documents import Answer, Document, Hit
from .embedding import Embedder, get_embedder
from .errors import BadQuestion, IndexError_, IndexMissing, QAError
from .index import (
    LocalIndex,
    Progress,
    UpdateReport,
    current_version,
    index_exists,
    load_index,
    update_index,
)
from .language import detect_language
from .rerank import CANDIDATES as RERANK_CANDIDATES
from .rerank import make_reranker
from .retrieval import retrieve
from .scoring import SentenceScorer
from .text import split_question

# Used only for an index built before calibration existed; see qa/calibration.py.
FALLBACK_MIN_SCORE = 0.30


def answer_passages(hits: list[Hit], n: int) -> list[Hit]:
    """The n best hits, plus the best two of each language that they leave out: a
    multilingual model ranks passages in the question's language a little higher whatever
    they say, and the answer may be in another language."""
    chosen = list(hits[:n])
    for language in dict.fromkeys(h.passage.language for h in hits[n:]):
        if not any(h.passage.language == language for h in chosen):
            chosen += [h for h in hits[n:] if h.passage.language == language][:2]
    return chosen


class QA:
    """Settings + model + the live index. Thread-safe for asking; picks up a rebuilt index."""

    def __init__(self, settings: Settings | None = None, embedder: Embedder | None = None) -> None:
        self.settings = settings or Settings.from_env()
        self._embedder = embedder
        self._index: LocalIndex | None = None
        self._lock = threading.Lock()
        self._min_similarity: dict[str, float] = {}  # per index version (llm answerer)

    @property
    def embedder(self) -> Embedder:
        if self._embedder is None:
            self._embedder = get_embedder(self.settings.model, self.settings.batch_size)
        return self._embedder

    # --- index ---

    def build(
        self,
        paths: list[Path] | None = None,
        *,
        rebuild: bool = False,
        on_progress: Progress | None = None,
    ) -> UpdateReport:
        s = self.settings
        report = update_index(
            paths or [s.corpus_dir],
            s.index_dir,
            self.embedder,
            chunk_tokens=s.chunk_tokens,
            chunk_overlap=s.chunk_overlap,
            max_file_mb=s.max_file_mb,
            max_pdf_pages=s.max_pdf_pages,
            rebuild=rebuild,
            on_progress=on_progress,
        )
        with self._lock:
            self._index = None  # reload on next use
        return report

    def ensure_index(self, on_progress: Progress | None = None) -> UpdateReport | None:
        """Build the index from the corpus folder if there is none yet, or rebuild it if it
        cannot be used as it is (another format or model, damaged); the documents it had
        are indexed again. None when the index is fine."""
        if index_exists(self.settings.index_dir):
            try:
                load_index(self.settings.index_dir, expected_model=self.embedder.name)
                return None
            except IndexError_:
                pass
        return self.build(on_progress=on_progress)

    @property
    def index(self) -> LocalIndex:
        """The live index, reloaded when another process has switched to a new version."""
        with self._lock:
            live = current_version(self.settings.index_dir)
            if self._index is None or (live and live != self._index.version):
                if not live:
                    raise IndexMissing(
                        f"No index in {self.settings.index_dir}/. Build it with `qa index`."
                    )
                self._index = load_index(self.settings.index_dir, expected_model=self.embedder.name)
            return self._index

    @property
    def documents(self) -> dict[str, Document]:
        return self.index.documents

    # --- questions ---

    def ask(self, question: str, k: int | None = None, *, answerer: str | None = None) -> Answer:
        """Answer a question; a question that asks several things is answered part by part.
        `answerer`: "extractive" or "llm" (default: the setting)."""
        if answerer not in (None, "extractive", "llm"):
            raise QAError(f"answerer={answerer!r}: use extractive or llm.")
        if (answerer or self.settings.answerer) == "llm":
            *_, answer = self.ask_stream(question, k, stream=False)
            return answer
        question = self.check_question(question)
        k = k or self.settings.top_k
        if k < 1:
            raise BadQuestion("k must be at least 1.")
        index = self.index
        parts = split_question(question)
        if len(parts) > 1:
            answer = combine(question, [self._ask_one(index, p, k) for p in parts], k)
        else:
            answer = self._ask_one(index, question, k)
        return replace(answer, language=detect_language(question), index_version=index.version)

    def _ask_one(self, index: LocalIndex, question: str, k: int) -> Answer:
        query = self.embedder.embed_queries([question])[0]
        scorer = SentenceScorer(self.embedder, index.term_idf, index.passage_sentence_vectors)
        reranker = make_reranker(self.settings.reranker, scorer)
        n = max(k, RERANK_CANDIDATES, self.settings.answer_passages)
        candidates = retrieve(index, query, question, n, self.settings.dense_unit)
        if reranker:
            candidates = reranker(question, query, candidates)
        if self.settings.min_score is not None:
            fixed = self.settings.min_score
            min_score = lambda passage_language: fixed  # noqa: E731
        else:
            min_score = threshold_for(
                index.manifest.get("calibration", {}),
                detect_language(question),
                FALLBACK_MIN_SCORE,
            )
        answerer = ExtractiveAnswerer(scorer, min_score, self.settings.max_answer_sentences)
        passages = answer_passages(candidates, self.settings.answer_passages)
        answer = answerer(question, passages, index.documents, query)
        cited = {c.passage_id for c in answer.citations}
        shown = candidates[:k] + [h for h in candidates[k:] if h.passage.passage_id in cited]
        return replace(answer, hits=tuple(shown))

    def ask_stream(
        self, question: str, k: int | None = None, *, stream: bool = True
    ) -> Iterator[Answer]:
        """The llm answerer's answer as the model writes it: an Answer after each checked
        sentence (`final` False), then the final one. Whatever goes wrong with the model
        ends in the extractive answer with a `notice`; a refused question raises BadQuestion
        before anything is yielded. See qa/llm_answer.py."""
        from .llm import LLMClient
        from .llm_answer import LLMAnswerer

        extractive = self.ask(question, k, answerer="extractive")
        index = self.index
        answerer = LLMAnswerer(LLMClient.from_settings(self.settings), self._checker_for(index))
        yield from answerer.stream(extractive, index.documents, stream=stream)

    def _checker_for(self, index: LocalIndex):
        from .verify import SentenceChecker, calibrate_similarity, make_judge

        threshold = self.settings.llm_min_similarity
        if threshold is None:
            if index.version not in self._min_similarity:
                self._min_similarity[index.version] = calibrate_similarity(
                    index.sentence_vectors, [len(p.sentences) for p in index.passages]
                )
            threshold = self._min_similarity[index.version]
        judge = make_judge(self.settings.llm_checker, threshold)
        return lambda hits: SentenceChecker(
            self.embedder, index.passage_sentence_vectors, judge, hits
        )

    def check_question(self, question: str) -> str:
        question = " ".join((question or "").split())
        if not question:
            raise BadQuestion("The question is empty; type a question about the documents.")
        limit = self.settings.max_question_chars
        if len(question) > limit:
            raise BadQuestion(
                f"The question is {len(question):,} characters long; the limit is {limit:,}. "
                "Ask a shorter question (or raise QA_MAX_QUESTION_CHARS)."
            )
        if not any(ch.isalnum() for ch in question):
            raise BadQuestion("The question has no words in it; type a question in words.")
        return question
