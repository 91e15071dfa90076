"""Embedding cache: vectors by engine and exact text, in SQLite beside the index versions.

A build embeds only texts whose vectors it does not already have: identical sentences (a
document that repeats itself, the sentence two overlapping passages share) are encoded
once, a rebuild after a chunking change re-encodes only the sentences that changed, and a
build that is interrupted keeps what it had embedded (each batch is committed; SQLite's
commit is atomic, so a kill leaves either the batch or nothing). The key is a hash of the
engine's id and the text, so another model or engine never reads these vectors. The cache
is bounded (`prune`): least recently used rows go first.
"""

from __future__ import annotations

import hashlib
import sqlite3
from collections.abc import Iterable
from pathlib import Path

import numpy as np

FILE = "embeddings.sqlite"
MIN_ROWS = 50_000  # rows always allowed, however small the index


def text_key(engine: str, text: str) -> bytes:
    return hashlib.sha256(f"{engine}\0{text}".encode()).digest()[:20]


class EmbeddingCache:
    """Float32 vectors (one or more rows per key) by `text_key`; one writer at a time (the
    index lock)."""

    def __init__(self, path: Path, engine: str, dimension: int) -> None:
        self.path, self.engine, self.dimension = path, engine, dimension
        path.parent.mkdir(parents=True, exist_ok=True)
        self._db = sqlite3.connect(path)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=NORMAL")
        self._db.execute(
            "CREATE TABLE IF NOT EXISTS vectors (key BLOB PRIMARY KEY, rows INTEGER, "
            "vector BLOB, used INTEGER)"
        )
        self._db.execute("CREATE INDEX IF NOT EXISTS vectors_used ON vectors (used)")
        self._db.commit()
        (stamp,) = self._db.execute("SELECT COALESCE(MAX(used), 0) + 1 FROM vectors").fetchone()
        self.stamp = int(stamp)  # this build's; rows it reads or writes get it
        self.hits = self.misses = 0

    def key(self, text: str) -> bytes:
        return text_key(self.engine, text)

    def get_many(self, keys: Iterable[bytes]) -> dict[bytes, np.ndarray]:
        """The cached vectors of those keys that have one (marked as used by this build)."""
        keys = list(dict.fromkeys(keys))
        found: dict[bytes, np.ndarray] = {}
        for i in range(0, len(keys), 500):
            part = keys[i : i + 500]
            marks = ",".join("?" * len(part))
            for key, rows, blob in self._db.execute(
                f"SELECT key, rows, vector FROM vectors WHERE key IN ({marks})", part
            ):
                found[key] = np.frombuffer(blob, dtype=np.float32).reshape(rows, self.dimension)
            self._db.execute(
                f"UPDATE vectors SET used = ? WHERE key IN ({marks})", [self.stamp, *part]
            )
        self.hits += len(found)
        self.misses += len(keys) - len(found)
        return found

    def put_many(self, items: Iterable[tuple[bytes, np.ndarray]]) -> None:
        """Store vectors and commit: what is stored survives an interrupted build."""
        rows = [
            (key, int(np.atleast_2d(v).shape[0]), np.ascontiguousarray(v, np.float32).tobytes())
            for key, v in items
        ]
        self._db.executemany(
            "INSERT OR REPLACE INTO vectors (key, rows, vector, used) VALUES (?, ?, ?, ?)",
            [(k, n, b, self.stamp) for k, n, b in rows],
        )
        self._db.commit()

    def __len__(self) -> int:
        return int(self._db.execute("SELECT COUNT(*) FROM vectors").fetchone()[0])

    def prune(self, max_rows: int, min_rows: int = MIN_ROWS) -> int:
        """Delete the least recently used rows beyond `max_rows` (never fewer than
        `min_rows` are kept); returns how many were deleted."""
        excess = len(self) - max(max_rows, min_rows)
        if excess <= 0:
            return 0
        self._db.execute(
            "DELETE FROM vectors WHERE key IN (SELECT key FROM vectors ORDER BY used ASC LIMIT ?)",
            (excess,),
        )
        self._db.commit()
        return excess

    def close(self) -> None:
        self._db.commit()
        self._db.close()

    def __enter__(self) -> EmbeddingCache:
        return self

    def __exit__(self, *exc) -> None:
        self.close()
