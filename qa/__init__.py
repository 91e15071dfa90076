"""Sources-first question answering over a document collection: every claim cites its passage."""

__version__ = "0.1.0"
