"""Sources-first question answering over a document collection: every claim cites its passage."""

from qa.threads import set_thread_defaults

set_thread_defaults()  # before numpy, faiss or a model library loads; see qa/threads.py

__version__ = "0.1.0"
