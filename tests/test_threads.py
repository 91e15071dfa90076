"""Worker threads sleep instead of spin when qa runs, unless the user chose otherwise; importing
qa changes nothing in the process (the entry points set the defaults)."""

import os
import subprocess
import sys

from qa.threads import DEFAULTS, set_thread_defaults

SHOW = (
    "import os; from qa.cli import main; main([]); "
    "print(os.environ['OMP_WAIT_POLICY'], os.environ['OPENBLAS_NUM_THREADS'])"
)


def _run(code: str, **env: str) -> str:
    base = {k: v for k, v in os.environ.items() if k not in DEFAULTS}
    out = subprocess.run(
        [sys.executable, "-c", code],
        env={**base, **env},
        capture_output=True,
        text=True,
        check=True,
    )
    return out.stdout.strip().splitlines()[-1]


def test_importing_qa_leaves_the_environment_unchanged():
    code = (
        "import os; before = dict(os.environ); "
        "import qa, qa.api, qa.cli, qa.app.app, qa.store.postgres; "
        "print(dict(os.environ) == before)"
    )
    assert _run(code) == "True"


def test_the_qa_command_sets_passive_waiting_and_one_blas_thread():
    assert _run(SHOW) == "PASSIVE 1"


def test_thread_settings_already_in_the_environment_win():
    assert _run(SHOW, OMP_WAIT_POLICY="ACTIVE", OPENBLAS_NUM_THREADS="2") == "ACTIVE 2"


def test_set_thread_defaults_fills_only_missing_names():
    environ = {"OMP_WAIT_POLICY": "ACTIVE"}
    set_thread_defaults(environ)
    assert environ == {"OMP_WAIT_POLICY": "ACTIVE", "OPENBLAS_NUM_THREADS": "1"}
