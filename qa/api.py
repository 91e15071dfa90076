"""The library API that the CLI and the app call: build the index, ask questions.

qa = QA(Settings.from_env())
qa.ensure_index()                  # builds from corpus/ on first use
answer = qa.ask("What did Sweden pledge?")
for partial in qa.ask_stream("What did Sweden pledge?"):  # the llm answerer, as it writes
    show(partial)                                          # the last one has final=True
"""

from __future__ import annotations

import re
import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np

from qa.answer.abstention import Gate, load_gate
from qa.answer.disagreement import find_disagreements
from qa.answer.extractive import ExtractiveAnswerer, combine
from qa.answer.question import Question, analyse, as_question
from qa.answer.quotes import Sentence
from qa.answer.ranker import load_ranker
from qa.answer.reader import (
    MULTILINGUAL_ADAPTERS,
    Deferred,
    Reader,
    load_multilingual_reader,
    load_reader,
)
from qa.answer.rerank import CANDIDATES as RERANK_CANDIDATES
from qa.answer.rerank import make_reranker
from qa.answer.retrieval import retrieve
from qa.answer.scoring import SentenceScorer
from qa.config import Settings
from qa.documents import NO_PAGE, Answer, Document, Hit
from qa.errors import BadQuestion, DocumentError, IndexMissing, QAError
from qa.filters import Filters
from qa.ingest.pipeline import Progress, UpdateReport, fingerprint, read_document
from qa.library import is_upload, publish, retire, stage_upload, write_metadata
from qa.store.calibration import similarity_offsets, threshold_for
from qa.store.embedding import Embedder, get_embedder
from qa.store.stores import Admitted, Snapshot, Store, open_store
from qa.text import languages_of

# Used only for an index built before calibration existed; see qa/store/calibration.py.
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


@dataclass(frozen=True)
class DocumentInfo:
    """A row of the library list: what is indexed, from where, and how much of it."""

    doc_id: str
    title: str
    publisher: str | None
    date: str | None
    language: str | None
    url: str | None
    kind: str | None
    pages: int  # 0: a source without pages (plain text, a web page)
    passages: int
    characters: int
    uploaded: bool  # lives in the upload folder (and is deleted when removed)


class QA:
    """Settings + model + the live index. Thread-safe for asking; picks up a rebuilt index."""

    def __init__(
        self,
        settings: Settings | None = None,
        embedder: Embedder | None = None,
        gate: Gate | None = None,
    ) -> None:
        """`embedder` and `gate` (the answer gate, qa/answer/abstention.py): as the settings
        say when not given."""
        self.settings = settings or Settings.from_env()
        self._embedder = embedder
        self._gate = gate
        self._index: Snapshot | None = None
        self._lock = threading.Lock()
        self.store: Store = open_store(self.settings, lambda: self.embedder.dimension)
        self._min_similarity: dict[str, float] = {}  # per index version (llm answerer)
        # the parts of a multi-part question are answered side by side, each waiting on the
        # models much of its time (a two-part question: ~20% faster); long-lived threads,
        # so that a database store keeps its per-thread connections
        self._parts = ThreadPoolExecutor(max_workers=2, thread_name_prefix="qa-part")

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
        report = self.store.update(
            paths or [self.settings.corpus_dir],
            self.embedder,
            self.settings,
            rebuild=rebuild,
            on_progress=on_progress,
        )
        with self._lock:
            self._index = None  # reload on next use
        return report

    def refresh_index(self, on_progress: Progress | None = None) -> UpdateReport | None:
        """An index written by an older version of qa (calibration, BM25 or cleaning of
        another kind) is brought up to date before answering, reusing what it can; None when
        it is current, or missing (asking without an index is an error that says how to
        build one)."""
        if self.store.live_version() is None:
            return None
        self.store.refresh(self.embedder)  # a shared database: its calibration only
        if self.store.usable(self.embedder.name):
            return None
        return self.build(on_progress=on_progress)

    def ensure_index(self, on_progress: Progress | None = None) -> UpdateReport | None:
        """Build the index from the corpus folder if there is none yet, or rebuild it if it
        cannot be used as it is (another format or model, damaged); the documents it had
        are indexed again. None when the index is fine."""
        if self.store.usable(self.embedder.name):
            return None
        return self.build(on_progress=on_progress)

    @property
    def index(self) -> Snapshot:
        """The live index, reloaded when another process has switched to a new version."""
        with self._lock:
            live = self.store.live_version()
            if self._index is None or (live and live != self._index.version):
                if not live:
                    raise IndexMissing(f"No index in {self.where}. Build it with `qa index`.")
                self._index = self.store.load(self.embedder.name)
            return self._index

    @property
    def where(self) -> str:
        """The store, for messages: the index folder or the database."""
        if self.settings.database_url:
            from qa.store.postgres import redact

            return f"the database {redact(self.settings.database_url)}"
        return f"{self.settings.index_dir}/"

    @property
    def documents(self) -> dict[str, Document]:
        return self.index.documents

    def library(self) -> list[DocumentInfo]:
        """The indexed documents, by title."""
        index = self.index
        counts: dict[str, int] = {}
        for p in index.passages:
            counts[p.doc_id] = counts.get(p.doc_id, 0) + 1
        root = self.settings.index_dir.resolve().parent
        rows = [
            DocumentInfo(
                doc_id=d.doc_id,
                title=d.meta.title,
                publisher=d.meta.publisher,
                date=d.meta.date,
                language=d.meta.language,
                url=d.meta.url,
                kind=d.meta.kind,
                pages=len({x for x in d.page_labels if x != NO_PAGE}),  # footnote runs too
                passages=counts.get(d.doc_id, 0),
                characters=len(d.text),
                uploaded=is_upload(root / d.doc_id, self.settings.uploads),
            )
            for d in index.documents.values()
        ]
        return sorted(rows, key=lambda r: (r.title.casefold(), r.doc_id))

    def add_upload(
        self, source: Path, original_name: str, on_progress: Progress | None = None
    ) -> UpdateReport:
        """Index a file a user uploaded: it is checked and read before it is kept, so a
        failed upload leaves the upload folder and the index as they were."""
        s = self.settings
        staged = stage_upload(source, original_name, s.uploads, s.max_file_mb)
        final = None
        try:
            try:
                read_document(
                    staged, staged.name, max_file_mb=s.max_file_mb, max_pdf_pages=s.max_pdf_pages
                )
            except DocumentError as exc:  # name the user's file, never the staging name
                message = str(exc).replace(f"{staged.name}: ", "", 1).replace(staged.name, "")
                raise type(exc)(f"{original_name}: {message}") from None
            digest = fingerprint(staged)
            same = [d for d in self._documents_or_empty().values() if d.sha256 == digest]
            if same:
                raise DocumentError(
                    f"{original_name}: the same file is already indexed as "
                    f"{same[0].meta.title!r} ({same[0].doc_id})."
                )
            final = publish(staged, s.uploads)
            report = self.build([final], on_progress=on_progress)
            if not (report.added or report.updated):
                reasons = "; ".join(x.reason for x in report.skipped) or "nothing was indexed"
                raise DocumentError(f"{original_name}: {reasons}")
            return report
        except BaseException:
            for path in (staged, final):
                if path is not None:
                    path.unlink(missing_ok=True)
            raise

    def edit_metadata(
        self,
        doc_id: str,
        *,
        title: str,
        publisher: str = "",
        date: str = "",
        url: str = "",
    ) -> UpdateReport:
        """Describe an uploaded document for citing (title, publisher, date, URL): written to
        its metadata sidecar and re-indexed, so the index and every citation carry it."""
        doc = self._documents_or_empty().get(doc_id)
        if doc is None:
            raise DocumentError(f"No document {doc_id!r} in the index; pick one from the list.")
        title, publisher, date, url = (x.strip() for x in (title, publisher, date, url))
        if not title:
            raise DocumentError(f"{doc_id}: a title is needed to cite the document.")
        if date and not re.fullmatch(r"\d{4}(-(0[1-9]|1[0-2])(-(0[1-9]|[12]\d|3[01]))?)?", date):
            raise DocumentError(f"{doc_id}: date {date!r}: write YYYY, YYYY-MM or YYYY-MM-DD.")
        if url and not re.fullmatch(r"https?://\S+", url):
            raise DocumentError(f"{doc_id}: URL {url!r}: write a full http:// or https:// address.")
        source = self.settings.index_dir.resolve().parent / doc_id
        fields = {"title": title, "publisher": publisher, "date": date, "url": url}
        write_metadata(source, self.settings.uploads, fields)
        return self.build([source])

    def remove(self, doc_id: str) -> UpdateReport:
        """Take a document out of the index. An uploaded file is deleted; any other source
        file in the corpus folder is moved to its `.removed/` subfolder (so that `qa index`
        does not bring it back, and nothing is lost)."""
        report = self.store.remove([doc_id], self.embedder)
        with self._lock:
            self._index = None
        root = self.settings.index_dir.resolve().parent
        retire(root / doc_id, self.settings.corpus_dir, self.settings.uploads)
        return report

    def _documents_or_empty(self) -> dict[str, Document]:
        try:
            return self.index.documents
        except IndexMissing:
            return {}

    # --- questions ---

    def ask(
        self,
        question: str,
        k: int | None = None,
        filters: Filters | None = None,
        *,
        answerer: str | None = None,
    ) -> Answer:
        """Answer a question; a question that asks several things is answered part by part.
        With `filters`, only passages of the documents they admit are searched.
        `answerer`: "extractive" or "llm" (default: the setting)."""
        if answerer not in (None, "extractive", "llm"):
            raise QAError(f"answerer={answerer!r}: use extractive or llm.")
        if (answerer or self.settings.answerer) == "llm":
            *_, answer = self.ask_stream(question, k, filters, stream=False)
            return answer
        question = self.check_question(question)
        k = k or self.settings.top_k
        if k < 1:
            raise BadQuestion("k must be at least 1.")
        index = self.index
        if filters is not None and filters.active:
            filters.check(index.documents)
        allowed = index.rows_admitted(filters)
        languages = languages_of(index.term_idf)
        q = analyse(question, languages)  # once: every stage reads this record
        if len(q.parts) > 1:
            parts = [analyse(part, languages) for part in q.parts]
            answers = self._parts.map(lambda p: self._ask_one(index, p, k, allowed), parts)
            answer = combine(question, list(answers), k)
        else:
            answer = self._ask_one(index, q, k, allowed)
        answer = replace(
            answer,
            language=q.language,
            index_version=index.version,
            filters=filters if filters is not None and filters.active else None,
        )
        return replace(answer, disagreements=find_disagreements(q, answer, index.documents))

    def candidates(
        self,
        index: Snapshot,
        question: Question | str,
        query: np.ndarray,
        n: int,
        allowed: Admitted = None,
    ) -> list[Hit]:
        """The n best passages by fused dense and BM25 ranking, before reranking: cosines
        lifted by the calibrated language offsets, and the places the question names also
        searched under their other languages' names (see README, "Across languages")."""
        q = as_question(question, languages_of(index.term_idf))
        return retrieve(
            index,
            query,
            q.text,
            n,
            unit=self.settings.dense_unit,
            allowed=allowed,
            offsets=similarity_offsets(index.manifest.get("calibration", {}), q.language),
            names_elsewhere=[name for place in q.places for name in place.elsewhere],
        )

    def _ask_one(self, index: Snapshot, q: Question, k: int, allowed: Admitted = None) -> Answer:
        query, candidates, answerer = self._retrieve(index, q, k, allowed)
        passages = answer_passages(candidates, self.settings.answer_passages)
        answer = answerer(q, passages, index.documents, query)
        cited = {c.passage_id for c in answer.citations}
        shown = candidates[:k] + [h for h in candidates[k:] if h.passage.passage_id in cited]
        answer = replace(answer, hits=tuple(shown))
        # the gate judges each part of a question on its own: a part the documents answer
        # does not carry an off-topic one, and the question abstains when no part passes
        return self.gate.judge(answer) if self.gate is not None else answer

    @property
    def reader(self) -> Reader | None:
        """The answer's reader as `Settings.reader` chooses it (loaded once per process)."""
        setting = self.settings.reader
        if setting == "off":
            return None
        return load_reader() if setting == "on" else load_reader(setting)

    @property
    def gate(self) -> Gate | None:
        """The answer gate as `Settings.abstention_gate` chooses it (None: off). Off when the
        reader is: it learned from the reader's readings and the scores they lift."""
        if self._gate is not None:
            return self._gate
        setting = self.settings.abstention_gate
        if setting == "off" or self.settings.reader == "off":
            return None
        return load_gate() if setting == "on" else load_gate(Path(setting))

    def warm_up(self) -> None:
        """Load the index and the models before the first question is timed or served: a
        question, the question encoder that runs in torch (qa/store/embedding.py), and the
        multilingual reader, which only a question across languages would otherwise load
        (~1 s)."""
        warm = getattr(self.embedder, "warm_up", None)
        if warm is not None:
            warm()
        self.ask("warm up", answerer="extractive")
        reader = self.multilingual_reader
        if reader is not None:
            load_multilingual_reader(reader.path)

    @property
    def multilingual_reader(self) -> Deferred | None:
        """The reader of other languages as `Settings.multilingual_reader` chooses it, loaded
        when it first reads (None when it is off or none ships)."""
        setting = self.settings.multilingual_reader
        if setting == "off" or self.settings.reader == "off":
            return None
        if setting == "on":
            return Deferred() if MULTILINGUAL_ADAPTERS.exists() else None
        return Deferred(setting)

    def _retrieve(
        self, index: Snapshot, q: Question, k: int, allowed: Admitted = None
    ) -> tuple[np.ndarray, list[Hit], ExtractiveAnswerer]:
        """The question's vector, its candidate passages (fused, then reranked), and the
        answerer for it."""
        query = self.embedder.embed_queries([q.text])[0]
        calibration = index.manifest.get("calibration", {})
        scorer = SentenceScorer(
            self.embedder,
            index.term_idf,
            index.passage_sentence_vectors,
            similarity_offsets(calibration, q.language),
            ranker=load_ranker(Path(self.settings.ranker)) if self.settings.ranker else None,
            heading_of=lambda p: index.documents[p.doc_id].heading_at(p.start),
            reader=self.reader,
            multilingual=self.multilingual_reader,
        )
        if self.settings.min_score is not None:
            fixed = self.settings.min_score
            min_score = lambda passage: fixed  # noqa: E731
        else:
            min_score = threshold_for(calibration, q.language, FALLBACK_MIN_SCORE)
        answerer = ExtractiveAnswerer(
            scorer, min_score, self.settings.max_answer_sentences, gate=self.gate
        )
        n = max(k, RERANK_CANDIDATES, self.settings.answer_passages)
        candidates = self.candidates(index, q, query, n, allowed)
        reranker = make_reranker(self.settings.reranker, scorer)
        if reranker:
            candidates = reranker(q, query, candidates)
        return query, candidates, answerer

    def sentence_candidates(self, question: str) -> tuple[list[Sentence], np.ndarray]:
        """The candidate sentences an answer to `question` picks from (those of its answer
        passages), with the ranker's features for each: what eval/train_ranker.py learns
        the answer's confidence from."""
        index = self.index
        q = analyse(self.check_question(question), languages_of(index.term_idf))
        k = self.settings.top_k
        query, candidates, answerer = self._retrieve(index, q, k)
        passages = answer_passages(candidates, self.settings.answer_passages)
        scorer = answerer.scorer
        return scorer.describe(
            q, query, scorer.candidates(passages, question=q), answerer.margin(passages)
        )

    def ask_stream(
        self,
        question: str,
        k: int | None = None,
        filters: Filters | None = None,
        *,
        stream: bool = True,
    ) -> Iterator[Answer]:
        """The llm answerer's answer as the model writes it: an Answer after each checked
        sentence (`final` False), then the final one. Whatever goes wrong with the model
        ends in the extractive answer with a `notice`; a refused question raises BadQuestion
        before anything is yielded. See qa/answer/llm_answer.py."""
        from qa.answer.llm import LLMClient
        from qa.answer.llm_answer import LLMAnswerer

        extractive = self.ask(question, k, filters, answerer="extractive")
        index = self.index
        answerer = LLMAnswerer(LLMClient.from_settings(self.settings), self._checker_for(index))
        yield from answerer.stream(extractive, index.documents, stream=stream)

    def _checker_for(self, index: Snapshot):
        from qa.answer.verify import SentenceChecker, calibrate_similarity, make_judge

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
