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
├── ModelError           the embedding model cannot be loaded
└── LLMError             the language model server failed (the llm answerer then shows
    │                    the extractive answer with this message)
    ├── LLMUnavailable   no server at the address, or it failed (5xx)
    ├── LLMTimeout       no complete reply within QA_LLM_TIMEOUT
    ├── LLMModelNotFound the server does not know QA_LLM_MODEL
    ├── LLMRateLimited   the server refuses more requests for now (429)
    ├── LLMAuthFailed    the API key is missing or refused (401/403)
    └── LLMBadReply      any other refusal or an unreadable reply
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


class LLMError(QAError):
    """The language model server could not write an answer; the message says what to do."""


class LLMUnavailable(LLMError):
    pass


class LLMTimeout(LLMError):
    pass


class LLMModelNotFound(LLMError):
    pass


class LLMRateLimited(LLMError):
    pass


class LLMAuthFailed(LLMError):
    pass


class LLMBadReply(LLMError):
    pass
