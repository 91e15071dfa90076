"""Sources-first question answering over a document collection: every claim cites its passage.

Importing qa changes nothing in the process: the worker-thread defaults of qa/threads.py are
set by the entry points (the `qa` command, and the model loader).
"""

__version__ = "0.1.0"
