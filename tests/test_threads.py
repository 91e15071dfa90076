"""Importing qa makes worker threads sleep instead of spin, unless the user chose otherwise."""

import subprocess
import sys

from qa.threads import DEFAULTS, set_thread_defaults

SHOW = "import os, qa; print(os.environ['OMP_WAIT_POLICY'], os.environ['OPENBLAS_NUM_THREADS'])"


def _env_after_import(**env: str) -> str:
    base = {k: v for k, v in __import__("os").environ.items() if k not in DEFAULTS}
    out = subprocess.run([sys.executable, "-c", SHOW], env={**base, **env}, capture_output=True,
                         text=True, check=True)  # fmt: skip
    return out.stdout.strip()


def test_importing_qa_sets_passive_waiting_and_one_blas_thread():
    assert _env_after_import() == "PASSIVE 1"


def test_thread_settings_already_in_the_environment_win():
    assert _env_after_import(OMP_WAIT_POLICY="ACTIVE", OPENBLAS_NUM_THREADS="2") == "ACTIVE 2"


def test_set_thread_defaults_fills_only_missing_names():
    environ = {"OMP_WAIT_POLICY": "ACTIVE"}
    set_thread_defaults(environ)
    assert environ == {"OMP_WAIT_POLICY": "ACTIVE", "OPENBLAS_NUM_THREADS": "1"}
