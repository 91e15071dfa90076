"""Errors the user can act on: each message says what happened and what to do next.

QAError                  base: catch this one
├── DocumentError        a source file cannot be turned into text
│   ├── UnsupportedFile  unknown suffix
│   ├── EmptyDocument    no text (empty file, image-only PDF)
│   └── UnreadableFile   corrupt, encrypted, binary or undecodable
├── IndexError_          the index is missing, damaged or built differently
│   ├── IndexMissing
│   └── IndexIncompatible
├── IndexBusy            another process is updating the index
├── DatabaseError        the postgres backend cannot be reached or used
├── BadQuestion          empty or over-long question
└── ModelError           the embedding model cannot be loaded
"""

from __future__ import annotations


class QAError(Exception):
    """Base class for every error this package raises on purpose."""


class DocumentError(QAError):
    """A source file could not be turned into text; nothing was indexed from it."""


class UnsupportedFile(DocumentError):
    pass


class EmptyDocument(DocumentError):
    pass


class UnreadableFile(DocumentError):
    pass


class IndexError_(QAError):  # noqa: N801 - avoid shadowing the builtin IndexError
    """The index cannot be used as it is."""


class IndexMissing(IndexError_):
    pass


class IndexIncompatible(IndexError_):
    pass


class IndexBusy(QAError):
    pass


class BadQuestion(QAError):
    pass


class ModelError(QAError):
    pass


class DatabaseError(QAError):
    """The postgres backend (QA_DATABASE_URL) cannot be reached or used as it is."""
