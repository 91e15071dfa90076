"""The postgres passage store: documents, passages and vectors in PostgreSQL + pgvector.

Selected by QA_DATABASE_URL. Many app instances and indexers share one database:

- each document is written in its own transaction, under an advisory lock on its id, and
  skipped when its content hash is already there (documents.sha256 is unique), so
  concurrent `qa index` runs neither duplicate nor lose documents;
- every write bumps `generation` in qa_meta; readers compare it with their snapshot's and
  reload, so an app sees documents that another process added without restarting;
- dense search runs on HNSW indexes (inner product over normalised vectors = cosine) of
  passage and sentence vectors, with the filters in the same SQL statement; the lexical
  leg is BM25 computed in SQL over the same tokens as the local index (qa/store/lexical.py), so
  both backends rank alike.

Documents and passage texts are loaded into each app instance (answers quote them and
score their sentences); vectors and term postings stay in the database.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable
from dataclasses import asdict, replace
from enum import Enum
from functools import cached_property
from pathlib import Path
from typing import Any

import numpy as np

from qa.documents import Document, Hit, Metadata, Passage
from qa.errors import DatabaseError, IndexIncompatible, QAError
from qa.filters import Filters, date_bounds, document_date_bounds
from qa.ingest.pipeline import (
    Progress,
    Skipped,
    UpdateReport,
    chunking_settings,
    discover,
    finish_report,
    read_files,
)
from qa.store.calibration import VERSION as CALIBRATION_VERSION
from qa.store.calibration import (
    calibrate_min_score,
    described,
    document_thresholds,
    language_offsets,
    probe_languages,
    probe_vectors,
)
from qa.store.embedding import Embedder, embed_in_batches
from qa.store.lexical import lexical_text, term_idf, tokenize

SCHEMA_VERSION = 4
SCHEMA_LOCK = 7_466_201  # advisory lock id held while the schema is created or migrated
EF_SEARCH = 200  # HNSW candidate list: at least the most rows a query asks for


def _v1(conn, dimension: int) -> None:
    """Documents, passages, sentences with their vectors and HNSW indexes."""
    conn.execute(f"""
        CREATE TABLE documents (
            doc_id text PRIMARY KEY,
            source text NOT NULL,
            sha256 text NOT NULL UNIQUE,
            meta jsonb NOT NULL,
            publisher text,
            language text,
            date_first text,
            date_last text,
            text text NOT NULL,
            page_starts integer[] NOT NULL,
            page_labels integer[] NOT NULL,
            encoding text,
            chunking jsonb NOT NULL,
            indexed_at timestamptz NOT NULL DEFAULT now()
        );
        CREATE TABLE passages (
            id bigserial PRIMARY KEY,
            passage_id text NOT NULL UNIQUE,
            doc_id text NOT NULL REFERENCES documents ON DELETE CASCADE,
            start_offset integer NOT NULL,
            end_offset integer NOT NULL,
            page_start integer NOT NULL,
            page_end integer NOT NULL,
            sentences jsonb NOT NULL,
            language text NOT NULL,
            embedding vector({dimension}) NOT NULL
        );
        CREATE INDEX passages_doc ON passages (doc_id);
        CREATE TABLE sentences (
            id bigserial PRIMARY KEY,
            passage bigint NOT NULL REFERENCES passages ON DELETE CASCADE,
            doc_id text NOT NULL,
            language text NOT NULL,
            embedding vector({dimension}) NOT NULL
        );
        CREATE INDEX sentences_passage ON sentences (passage);
        CREATE INDEX passages_embedding ON passages USING hnsw (embedding vector_ip_ops);
        CREATE INDEX sentences_embedding ON sentences USING hnsw (embedding vector_ip_ops);
        INSERT INTO qa_meta VALUES ('generation', '0'), ('dimension', '{dimension}');
    """)


def _v2(conn, dimension: int) -> None:
    """The lexical leg: each passage's BM25 tokens, filled in from the stored text."""
    conn.execute("ALTER TABLE passages ADD COLUMN tokens text[], ADD COLUMN ntokens integer")
    rows = conn.execute("""
        SELECT p.id, substr(d.text, p.start_offset + 1, p.end_offset - p.start_offset)
        FROM passages p JOIN documents d USING (doc_id)
    """).fetchall()
    with conn.cursor() as cur:
        cur.executemany(
            "UPDATE passages SET tokens = %s, ntokens = %s WHERE id = %s",
            [(t, len(t), i) for i, text in rows for t in [tokenize(text) or ["∅"]]],
        )
    conn.execute("""
        ALTER TABLE passages ALTER COLUMN tokens SET NOT NULL,
                             ALTER COLUMN ntokens SET NOT NULL;
        CREATE INDEX passages_tokens ON passages USING gin (tokens);
    """)


def _v3(conn, dimension: int) -> None:
    """A passage's BM25 tokens include its document's title (qa/store/lexical.py)."""
    rows = conn.execute("""
        SELECT p.id, d.meta->>'title',
               substr(d.text, p.start_offset + 1, p.end_offset - p.start_offset)
        FROM passages p JOIN documents d USING (doc_id)
    """).fetchall()
    with conn.cursor() as cur:
        cur.executemany(
            "UPDATE passages SET tokens = %s, ntokens = %s WHERE id = %s",
            [
                (t, len(t), i)
                for i, title, text in rows
                for t in [tokenize(lexical_text(title or "", text)) or ["∅"]]
            ],
        )


def _v4(conn, dimension: int) -> None:
    """A document keeps its headings (qa/ingest/sections.py). Documents indexed before have
    none until they are indexed again (their chunking's cleaning version differs)."""
    conn.execute("ALTER TABLE documents ADD COLUMN sections jsonb NOT NULL DEFAULT '[]'")


MIGRATIONS: dict[int, Callable] = {1: _v1, 2: _v2, 3: _v3, 4: _v4}


def vector_literal(v: np.ndarray) -> str:
    return "[" + ",".join(f"{x:.7g}" for x in np.asarray(v, dtype=np.float32)) + "]"


def parse_vector(text: str) -> np.ndarray:
    return np.array(json.loads(text), dtype=np.float32)


def redact(url: str) -> str:
    """The URL without its password, for messages."""
    from urllib.parse import urlsplit, urlunsplit

    parts = urlsplit(url)
    if parts.password:
        netloc = parts.netloc.replace(f":{parts.password}@", ":***@")
        return urlunsplit(parts._replace(netloc=netloc))
    return url


def connect(url: str):
    """A connection with the search settings, or a DatabaseError saying what to check."""
    try:
        import psycopg
    except ImportError:
        raise DatabaseError(
            "QA_DATABASE_URL is set, but the postgres driver is not installed: "
            "pip install 'qa[postgres]'."
        ) from None
    try:
        conn = psycopg.connect(url, autocommit=True, connect_timeout=10)
    except psycopg.Error as exc:
        reason = " ".join(str(exc).split())[:300]
        raise DatabaseError(
            f"Cannot connect to the database at {redact(url)}: {reason}. Check QA_DATABASE_URL "
            "(or --database) and that the server is running; `qa db start` runs a local one."
        ) from None
    try:
        conn.execute(f"SET hnsw.ef_search = {EF_SEARCH}")
        conn.execute("SET hnsw.iterative_scan = relaxed_order")
    except psycopg.Error:
        pass  # no pgvector yet: migrate() says so
    return conn


def migrate(conn, dimension_of: Callable[[], int], target: int = SCHEMA_VERSION) -> int:
    """Create or upgrade the schema to `target` (one transaction, one migrator at a time);
    returns the version found before. A newer schema than this qa knows is refused."""
    import psycopg

    with conn.transaction():
        conn.execute("SELECT pg_advisory_xact_lock(%s)", [SCHEMA_LOCK])
        has_vector = conn.execute("SELECT 1 FROM pg_extension WHERE extname = 'vector'").fetchone()
        if not has_vector:
            try:
                with conn.transaction():
                    conn.execute("CREATE EXTENSION vector")
            except psycopg.Error as exc:
                reason = " ".join(str(exc).split())[:200]
                raise DatabaseError(
                    f"The database has no pgvector extension and it could not be created "
                    f"({reason}). Ask its administrator to install pgvector and run "
                    "CREATE EXTENSION vector; in it (managed Postgres services offer it)."
                ) from None
        conn.execute("CREATE TABLE IF NOT EXISTS qa_meta (key text PRIMARY KEY, value jsonb)")
        row = conn.execute("SELECT value FROM qa_meta WHERE key = 'schema_version'").fetchone()
        found = int(row[0]) if row else 0
        if found > SCHEMA_VERSION:
            raise DatabaseError(
                f"The database schema is version {found}, newer than this qa "
                f"(which knows version {SCHEMA_VERSION}); upgrade qa (pip install -U qa) on "
                "this machine, or point QA_DATABASE_URL at another database."
            )
        if found < target:
            dimension = dimension_of() if found == 0 else None
            if dimension is None:
                dimension = int(
                    conn.execute("SELECT value FROM qa_meta WHERE key='dimension'").fetchone()[0]
                )
            for version in range(found + 1, target + 1):
                MIGRATIONS[version](conn, dimension)
            conn.execute(
                "INSERT INTO qa_meta VALUES ('schema_version', %s) "
                "ON CONFLICT (key) DO UPDATE SET value = excluded.value",
                [json.dumps(target)],
            )
        return found


class Written(Enum):
    """What writing one document did."""

    ADDED = "added"
    UPDATED = "updated"
    UNCHANGED = "unchanged"  # another process wrote this content first
    DUPLICATE = "duplicate"  # another document has the same content


class PgStore:
    """The database side: connections (one per thread), schema, writes, snapshots."""

    def __init__(self, url: str, root: Path, dimension_of: Callable[[], int] | None = None):
        self.url = url
        self.root = root  # doc ids are paths relative to it, as in the local index
        self._dimension_of = dimension_of
        self._local = threading.local()
        self._migrated = False

    def conn(self):
        """This thread's connection, migrated to the current schema; reconnects if lost."""
        conn = getattr(self._local, "conn", None)
        if conn is None or conn.closed or conn.broken:
            conn = connect(self.url)
            self._local.conn = conn
        if not self._migrated:
            migrate(conn, self._dimension)
            self._migrated = True
        return conn

    def _dimension(self) -> int:
        if self._dimension_of is None:
            raise DatabaseError("The database is empty; index documents first with `qa index`.")
        return self._dimension_of()

    def _meta(self, key: str) -> Any:
        row = self._query("SELECT value FROM qa_meta WHERE key = %s", [key])
        return row[0][0] if row else None

    def _query(self, sql: str, params: Any = None) -> list[tuple]:
        import psycopg

        try:
            return self.conn().execute(sql, params).fetchall()
        except psycopg.OperationalError as exc:
            self._local.conn = None
            raise DatabaseError(
                f"Lost the database at {redact(self.url)} ({' '.join(str(exc).split())[:200]}); "
                "try again when it is back."
            ) from None

    # --- reading ---

    def live_version(self) -> str | None:
        generation = int(self._meta("generation") or 0)
        return f"pg-{generation}" if generation else None

    def usable(self, expected_model: str) -> bool:
        return self.live_version() is not None

    def load(self, expected_model: str) -> PgSnapshot:
        conn = self.conn()
        conn.execute("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY")
        try:
            meta = dict(conn.execute("SELECT key, value FROM qa_meta").fetchall())
            docs = conn.execute(
                "SELECT doc_id, source, sha256, meta, text, page_starts, page_labels, encoding, "
                "sections FROM documents"
            ).fetchall()
            rows = conn.execute(
                "SELECT id, passage_id, doc_id, start_offset, end_offset, page_start, page_end, "
                "sentences, language FROM passages ORDER BY doc_id, start_offset"
            ).fetchall()
        finally:
            conn.execute("COMMIT")
        model = meta.get("model")
        if model and model != expected_model:
            raise IndexIncompatible(
                f"The database at {redact(self.url)} was indexed with model {model!r}, but the "
                f"model setting is {expected_model!r}. Set QA_MODEL={model} or use another "
                "database."
            )
        documents = {}
        for doc_id, source, sha, m, text, starts, labels, encoding, sections in docs:
            documents[doc_id] = Document(
                doc_id,
                source,
                sha,
                Metadata(**m),
                text,
                tuple(starts),
                tuple(labels),
                encoding,
                tuple(map(tuple, sections)),
            )
        passages, ids = [], []
        for pid, passage_id, doc_id, start, end, p1, p2, sentences, lang in rows:
            ids.append(pid)
            passages.append(
                Passage(
                    passage_id,
                    doc_id,
                    start,
                    end,
                    p1,
                    p2,
                    documents[doc_id].text[start:end],
                    tuple(tuple(s) for s in sentences),
                    lang,
                )
            )
        manifest = {
            "model": model,
            "calibration": meta.get("calibration") or {},
            "dimension": int(meta.get("dimension") or 0),
        }
        return PgSnapshot(
            self, f"pg-{int(meta.get('generation') or 0)}", manifest, documents, passages, ids
        )

    # --- writing ---

    def update(
        self,
        paths: list[Path],
        embedder: Embedder,
        settings,
        *,
        rebuild: bool = False,
        on_progress: Progress | None = None,
    ) -> UpdateReport:
        """Index new and changed documents under `paths`, each in its own transaction.
        Documents whose files are gone are kept (other indexers may have added them from
        elsewhere): remove them explicitly."""
        started = time.perf_counter()
        self._dimension_of = self._dimension_of or (lambda: embedder.dimension)
        self._claim_model(embedder)
        chunking = chunking_settings(
            embedder.max_tokens, settings.chunk_tokens, settings.chunk_overlap
        )
        files, skipped = discover(paths)
        report = UpdateReport(skipped=skipped)
        known = {
            d: (sha, c)
            for d, sha, c in self._query("SELECT doc_id, sha256, chunking FROM documents")
        }
        todo: list[tuple[Document, list[Passage]]] = []
        reads = read_files(
            files,
            self.root,
            chunking,
            embedder.count_tokens,
            is_unchanged=lambda doc_id, digest: (
                not rebuild and known.get(doc_id) == (digest, chunking)
            ),
            max_file_mb=settings.max_file_mb,
            max_pdf_pages=settings.max_pdf_pages,
        )
        for read in reads:
            if read.unchanged:
                report.unchanged.append(read.doc_id)
            elif read.document is None:
                report.skipped.append(Skipped(str(read.path), read.reason or ""))
            else:
                todo.append((read.document, read.passages))
        total = sum(len(ps) for _, ps in todo)
        done = 0
        for doc, passages in todo:
            progress = None
            if on_progress:
                progress = lambda n, _t, base=done: on_progress(base + n, total)  # noqa: E731
            vectors, sentence_vectors = embed_in_batches(embedder, passages, progress)
            done += len(passages)
            outcome, twin = self._write(doc, passages, vectors, sentence_vectors, chunking, rebuild)
            if outcome is Written.DUPLICATE:
                reason = f"{doc.doc_id}: same content already indexed as {twin}"
                report.skipped.append(Skipped(doc.source, reason))
            else:
                {
                    Written.ADDED: report.added,
                    Written.UPDATED: report.updated,
                    Written.UNCHANGED: report.unchanged,
                }[outcome].append(doc.doc_id)
        if report.added or report.updated or not self._calibrated():
            self.recalibrate(embedder, changed=report.added + report.updated)
        count = int(self._query("SELECT count(*) FROM passages")[0][0])
        report = finish_report(report, done, count, started)
        return replace(report, version=self.live_version())

    def _claim_model(self, embedder: Embedder) -> None:
        conn = self.conn()
        with conn.transaction():
            conn.execute("SELECT pg_advisory_xact_lock(%s)", [SCHEMA_LOCK])
            model = conn.execute("SELECT value FROM qa_meta WHERE key = 'model'").fetchone()
            if model is None:
                conn.execute(
                    "INSERT INTO qa_meta VALUES ('model', %s)", [json.dumps(embedder.name)]
                )
            elif model[0] != embedder.name:
                raise IndexIncompatible(
                    f"The database at {redact(self.url)} holds vectors of model {model[0]!r}, "
                    f"not {embedder.name!r}. Set QA_MODEL={model[0]} or use another database."
                )

    def _write(
        self,
        doc: Document,
        passages: list[Passage],
        vectors: np.ndarray,
        sentence_vectors: np.ndarray,
        chunking: dict,
        rebuild: bool,
    ) -> tuple[Written, str | None]:
        """Replace one document in one transaction. UNCHANGED: another process wrote this
        content first; DUPLICATE: another document has this content (its id is returned)."""
        conn = self.conn()
        with conn.transaction():
            conn.execute("SELECT pg_advisory_xact_lock(hashtextextended(%s, 1))", [doc.doc_id])
            conn.execute("SELECT pg_advisory_xact_lock(hashtextextended(%s, 2))", [doc.sha256])
            previous = conn.execute(
                "SELECT sha256, chunking FROM documents WHERE doc_id = %s", [doc.doc_id]
            ).fetchone()
            if previous and tuple(previous) == (doc.sha256, chunking) and not rebuild:
                return Written.UNCHANGED, None
            twin = conn.execute(
                "SELECT doc_id FROM documents WHERE sha256 = %s AND doc_id <> %s",
                [doc.sha256, doc.doc_id],
            ).fetchone()
            if twin:
                return Written.DUPLICATE, twin[0]
            if previous:
                conn.execute("DELETE FROM documents WHERE doc_id = %s", [doc.doc_id])
            first, last = (None, None)
            if doc.meta.date:
                first, last = document_date_bounds(doc.meta.date) or (None, None)
            conn.execute(
                "INSERT INTO documents (doc_id, source, sha256, meta, publisher, language, "
                "date_first, date_last, text, page_starts, page_labels, encoding, chunking, sections) "
                "VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s)",
                [
                    doc.doc_id,
                    doc.source,
                    doc.sha256,
                    json.dumps(asdict(doc.meta)),
                    doc.meta.publisher or "",
                    doc.meta.language or "und",
                    first,
                    last,
                    doc.text,
                    list(doc.page_starts),
                    list(doc.page_labels),
                    doc.encoding,
                    json.dumps(chunking),
                    json.dumps(doc.sections),
                ],
            )
            ids = [
                r[0]
                for r in conn.execute(
                    "SELECT nextval('passages_id_seq') FROM generate_series(1, %s)", [len(passages)]
                ).fetchall()
            ]
            with conn.cursor().copy(
                "COPY passages (id, passage_id, doc_id, start_offset, end_offset, page_start, "
                "page_end, sentences, language, tokens, ntokens, embedding) FROM STDIN"
            ) as copy:
                for pid, p, v in zip(ids, passages, vectors, strict=True):
                    tokens = tokenize(lexical_text(doc.heading_at(p.start), p.text)) or ["∅"]
                    copy.write_row(
                        [
                            pid,
                            p.passage_id,
                            p.doc_id,
                            p.start,
                            p.end,
                            p.page_start,
                            p.page_end,
                            json.dumps([list(s) for s in p.sentences]),
                            p.language,
                            tokens,
                            len(tokens),
                            vector_literal(v),
                        ]
                    )
            with conn.cursor().copy(
                "COPY sentences (passage, doc_id, language, embedding) FROM STDIN"
            ) as copy:
                at = 0
                for pid, p in zip(ids, passages, strict=True):
                    for v in sentence_vectors[at : at + len(p.sentences)]:
                        copy.write_row([pid, p.doc_id, p.language, vector_literal(v)])
                    at += len(p.sentences)
            self._bump(conn)
        return (Written.UPDATED if previous else Written.ADDED), None

    @staticmethod
    def _bump(conn) -> None:
        conn.execute(
            "UPDATE qa_meta SET value = to_jsonb(value::bigint + 1) WHERE key = 'generation'"
        )

    def remove(self, doc_ids: list[str], embedder: Embedder) -> UpdateReport:
        started = time.perf_counter()
        conn = self.conn()
        with conn.transaction():
            found = {
                r[0]
                for r in conn.execute(
                    "SELECT doc_id FROM documents WHERE doc_id = ANY(%s) FOR UPDATE", [doc_ids]
                ).fetchall()
            }
            unknown = [d for d in doc_ids if d not in found]
            if unknown:
                raise QAError(
                    f"No document {', '.join(map(repr, unknown))} in the index; "
                    "see the library list for what is indexed."
                )
            conn.execute("DELETE FROM documents WHERE doc_id = ANY(%s)", [doc_ids])
            self._bump(conn)
        self.recalibrate(embedder)
        count = int(self._query("SELECT count(*) FROM passages")[0][0])
        report = finish_report(UpdateReport(removed=list(doc_ids)), 0, count, started)
        return replace(report, version=self.live_version())

    def refresh(self, embedder: Embedder) -> bool:
        """A database calibrated by an older qa (no per-document thresholds, say) is
        recalibrated from its own vectors; the generation moves on so that every instance
        reloads. The documents are shared: nothing is read from this machine's corpus."""
        if self.live_version() is None or self._calibrated():
            return False
        self.recalibrate(embedder)
        conn = self.conn()
        with conn.transaction():
            self._bump(conn)
        return True

    def _calibrated(self) -> bool:
        """Whether the stored calibration is of the current kind."""
        return (self._meta("calibration") or {}).get("version") == CALIBRATION_VERSION

    def recalibrate(self, embedder: Embedder, changed: list[str] = ()) -> None:
        """Abstention thresholds (qa/store/calibration.py) from nearest-neighbour queries, so the
        vectors never leave the database; a document's own threshold is computed once, from
        its vectors alone, when it is written (`changed`) or the calibration is outdated."""
        probes = probe_vectors(embedder.embed_queries, embedder.name)
        probe_langs = probe_languages()
        languages = [r[0] for r in self._query("SELECT DISTINCT language FROM passages")]
        table: dict[str, dict[str, float]] = {}
        for passage_lang in languages:
            best = []
            for probe in probes:
                q = vector_literal(probe)
                row = self._query(
                    "SELECT greatest("
                    " (SELECT -(embedding <#> %(q)s::vector) FROM passages WHERE language = %(l)s"
                    "  ORDER BY embedding <#> %(q)s::vector LIMIT 1),"
                    " (SELECT -(embedding <#> %(q)s::vector) FROM sentences WHERE language = %(l)s"
                    "  ORDER BY embedding <#> %(q)s::vector LIMIT 1))",
                    {"q": q, "l": passage_lang},
                )
                best.append(float(row[0][0]))
            for q_lang in sorted(set(probe_langs)):
                scores = [b for b, lg in zip(best, probe_langs, strict=True) if lg == q_lang]
                table.setdefault(q_lang, {})[passage_lang] = round(calibrate_min_score(scores), 4)
        centroids = {
            lang: parse_vector(v)
            for lang, v in self._query(
                "SELECT language, avg(embedding)::text FROM (SELECT language, embedding "
                "FROM passages UNION ALL SELECT language, embedding FROM sentences) v "
                "GROUP BY language"
            )
        }
        old = self._meta("calibration") or {}
        kept = (
            old.get("document_min_score", {}) if old.get("version") == CALIBRATION_VERSION else {}
        )
        present = [r[0] for r in self._query("SELECT doc_id FROM documents ORDER BY doc_id")]
        documents = {d: kept[d] for d in present if d in kept and d not in set(changed)}
        todo = [d for d in present if d not in documents]
        documents |= document_thresholds(((d, self._vectors_of(d)) for d in todo), probes)
        offsets = language_offsets(centroids, probes)
        calibration = described(table, offsets, probe_langs, documents)
        self._query(
            "INSERT INTO qa_meta VALUES ('calibration', %s) ON CONFLICT (key) DO UPDATE "
            "SET value = excluded.value RETURNING 1",
            [json.dumps(calibration)],
        )

    def _vectors_of(self, doc_id: str) -> np.ndarray:
        """One document's passage and sentence vectors."""
        rows = self._query(
            "SELECT embedding::text FROM passages WHERE doc_id = %(d)s "
            "UNION ALL SELECT s.embedding::text FROM passages p JOIN sentences s "
            "ON s.passage = p.id WHERE p.doc_id = %(d)s",  # by the indexed passage keys
            {"d": doc_id},
        )
        return np.vstack([parse_vector(r[0]) for r in rows]) if rows else np.zeros((0, 1))


def filter_sql(filters: Filters | None) -> tuple[str, dict]:
    """A WHERE condition on documents `d` that admits what `filters` admits
    (qa/filters.py), and its parameters."""
    if filters is None or not filters.active:
        return "TRUE", {}
    parts, params = [], {}
    if filters.documents:
        parts.append("d.doc_id = ANY(%(f_docs)s)")
        params["f_docs"] = sorted(filters.documents)
    if filters.publishers:
        parts.append("d.publisher = ANY(%(f_pubs)s)")
        params["f_pubs"] = sorted(filters.publishers)
    if filters.languages:
        parts.append("d.language = ANY(%(f_langs)s)")
        params["f_langs"] = sorted(filters.languages)
    if filters.date_from or filters.date_to:
        parts.append("d.date_first IS NOT NULL")
    if filters.date_from:
        parts.append("d.date_last >= %(f_from)s")
        params["f_from"] = date_bounds(filters.date_from)[0]
    if filters.date_to:
        parts.append("d.date_first <= %(f_to)s")
        params["f_to"] = date_bounds(filters.date_to)[1]
    return " AND ".join(parts), params


class PgSnapshot:
    """One generation of the database as the QA API reads it (see qa/store/stores.py Snapshot)."""

    def __init__(
        self,
        store: PgStore,
        version: str,
        manifest: dict,
        documents: dict[str, Document],
        passages: list[Passage],
        ids: list[int],
    ):
        self.store = store
        self._version = version
        self.manifest = manifest
        self.documents = documents
        self.passages = passages
        self.ids = ids  # database id of row i
        self.row_of_id = {pid: row for row, pid in enumerate(ids)}
        self._sentences: dict[int, np.ndarray] = {}

    @property
    def version(self) -> str:
        return self._version

    @cached_property
    def term_idf(self) -> dict[str, dict[str, float]]:
        return term_idf(self.passages)

    def rows_admitted(self, filters: Filters | None) -> Filters | None:
        return filters if filters is not None and filters.active else None

    def _rows(self, pairs) -> list[tuple[int, float]]:
        """(row, score) best first, for database ids this snapshot knows."""
        out = [(self.row_of_id[i], float(s)) for i, s in pairs if i in self.row_of_id]
        return sorted(out, key=lambda rs: -rs[1])

    def dense_search(
        self,
        query_vector: np.ndarray,
        k: int,
        unit: str = "passage",
        allowed: Filters | None = None,
        language: str | None = None,
    ) -> list[tuple[int, float]]:
        where, params = filter_sql(allowed)
        params.update(q=vector_literal(query_vector), k=k)
        if language is not None:
            where += f" AND {'s' if unit == 'sentence' else 'p'}.language = %(language)s"
            params["language"] = language
        if unit == "sentence":  # a passage ranks by its best sentence
            sql = f"""
                SELECT passage, max(cos) FROM (
                    SELECT s.passage, -(s.embedding <#> %(q)s::vector) AS cos
                    FROM sentences s JOIN documents d USING (doc_id) WHERE {where}
                    ORDER BY s.embedding <#> %(q)s::vector LIMIT %(n)s
                ) best GROUP BY passage ORDER BY 2 DESC LIMIT %(k)s"""
            params["n"] = min(4 * k, EF_SEARCH)
        else:
            sql = f"""
                SELECT p.id, -(p.embedding <#> %(q)s::vector)
                FROM passages p JOIN documents d USING (doc_id) WHERE {where}
                ORDER BY p.embedding <#> %(q)s::vector LIMIT %(k)s"""
        return self._rows(self.store._query(sql, params))[:k]

    def lexical_search(
        self, question: str, k: int, allowed: Filters | None = None
    ) -> list[tuple[int, float]]:
        """BM25 (k1=1.2, b=0.75, Lucene idf) over the passages that share a token with the
        question; statistics over the whole collection, as in qa/store/lexical.py."""
        tokens = tokenize(question)
        if not tokens:
            return []
        where, params = filter_sql(allowed)
        params.update(tokens=tokens, k=k)
        sql = f"""
            WITH q AS (SELECT t, count(*) AS qtf FROM unnest(%(tokens)s::text[]) t GROUP BY t),
            stats AS (SELECT count(*)::float8 AS n, avg(ntokens)::float8 AS avgdl FROM passages),
            idf AS (
                SELECT q.t, q.qtf, ln(1 + (stats.n - df.n + 0.5) / (df.n + 0.5)) AS idf
                FROM q, stats,
                     LATERAL (SELECT count(*) AS n FROM passages WHERE tokens @> ARRAY[q.t]) df
                WHERE df.n > 0
            )
            SELECT p.id, sum(idf.qtf * idf.idf * tf.n * 2.2
                             / (tf.n + 1.2 * (0.25 + 0.75 * p.ntokens / stats.avgdl))) AS score
            FROM passages p JOIN documents d USING (doc_id), stats, idf,
                 LATERAL (SELECT count(*) AS n FROM unnest(p.tokens) x WHERE x = idf.t) tf
            WHERE p.tokens && %(tokens)s::text[] AND tf.n > 0 AND {where}
            GROUP BY p.id ORDER BY score DESC LIMIT %(k)s"""
        return self._rows(self.store._query(sql, params))

    def hits(self, query_vector: np.ndarray, rows: list[int]) -> list[Hit]:
        """Hits for given rows, in that order, scored by the higher of the passage's cosine
        and its best sentence's (as the local index does)."""
        if not rows:
            return []
        found = dict(
            (pid, float(score))
            for pid, score in self.store._query(
                """SELECT p.id, greatest(-(p.embedding <#> %(q)s::vector),
                       (SELECT max(-(s.embedding <#> %(q)s::vector)) FROM sentences s
                        WHERE s.passage = p.id))
                   FROM passages p WHERE p.id = ANY(%(ids)s)""",
                {"q": vector_literal(query_vector), "ids": [self.ids[r] for r in rows]},
            )
        )
        kept = [r for r in rows if self.ids[r] in found]  # a passage removed meanwhile drops
        return [
            Hit(self.passages[r], found[self.ids[r]], rank) for rank, r in enumerate(kept, start=1)
        ]

    def passage_sentence_vectors(self, passage: Passage) -> np.ndarray:
        pid = self.ids[self._row_of_passage[passage.passage_id]]
        if pid not in self._sentences:
            if len(self._sentences) > 20_000:  # a cache, not a copy of the table
                self._sentences.clear()
            rows = self.store._query(
                "SELECT embedding FROM sentences WHERE passage = %s ORDER BY id", [pid]
            )
            self._sentences[pid] = (
                np.vstack([parse_vector(r[0]) for r in rows])
                if rows
                else np.zeros((0, self.manifest["dimension"]), dtype=np.float32)
            )
        return self._sentences[pid]

    @cached_property
    def _row_of_passage(self) -> dict[str, int]:
        return {p.passage_id: i for i, p in enumerate(self.passages)}
