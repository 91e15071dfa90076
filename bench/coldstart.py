"""Benchmark 3: cold start, from process start to the first answer, and where it goes.

Two measurements, each against `python -c pass` (the interpreter's own start) in the same
run: the real `qa ask QUESTION` command, wall time as a user sees it; and a child process
that takes the same steps and stamps each one (interpreter up, `import qa.api`, model
loaded, index loaded, first answer), which also lists the heavy modules it ended up
importing. Target: <= 10 s.

    nice .venv/bin/python bench/coldstart.py                # index/ in the repository
    nice .venv/bin/python bench/coldstart.py --runs 5 --json
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

from _common import ROOT, emit, parser, percentile, table

QUESTION = "How much did Sweden and Norway pledge?"
HEAVY = ["torch", "transformers", "sentence_transformers", "gradio", "pypdf", "scipy", "sklearn"]

CHILD = r"""
import os, sys, time, json
start = int(os.environ["BENCH_START_NS"])
stamp = lambda: (time.time_ns() - start) / 1e9
stages = {"interpreter up": stamp()}
from qa.api import QA
from qa.config import Settings
stages["import qa.api"] = stamp()
qa = QA(Settings.from_env())
qa.embedder
stages["model loaded"] = stamp()
qa.index
stages["index loaded"] = stamp()
qa.ask(sys.argv[1])
stages["first answer"] = stamp()
heavy = [m for m in json.loads(sys.argv[2]) if m in sys.modules]
print(json.dumps({"stages": stages, "heavy": heavy, "modules": len(sys.modules)}))
"""


def wall(argv: list[str], cwd: Path) -> float:
    started = time.perf_counter()
    subprocess.run(argv, cwd=cwd, check=True, capture_output=True)
    return time.perf_counter() - started


def staged(cwd: Path) -> dict:
    env = {**os.environ, "BENCH_START_NS": str(time.time_ns())}
    out = subprocess.run(
        [sys.executable, "-c", CHILD, QUESTION, json.dumps(HEAVY)],
        cwd=cwd,
        env=env,
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    return json.loads(out.strip().splitlines()[-1])


def main() -> None:
    p = parser(__doc__.splitlines()[0])
    p.add_argument("--runs", type=int, default=3)
    p.add_argument("--cwd", type=Path, default=ROOT, help="folder with index/ (default: repo)")
    args = p.parse_args()
    qa_bin = str(Path(sys.executable).with_name("qa"))
    times: dict[str, list[float]] = {"python -c pass": [], "qa ask (wall)": []}
    stages: dict[str, list[float]] = {}
    heavy: set[str] = set()
    for _ in range(args.runs):  # interleaved, so that load changes hit all alike
        times["python -c pass"].append(wall([sys.executable, "-c", "pass"], args.cwd))
        times["qa ask (wall)"].append(wall([qa_bin, "ask", QUESTION], args.cwd))
        result = staged(args.cwd)
        heavy |= set(result["heavy"])
        previous = 0.0
        for name, at in result["stages"].items():
            stages.setdefault(name, []).append(at - previous)
            previous = at
        stages.setdefault("total (staged child)", []).append(previous)
    rows = [{"what": k, "p50 s": percentile(v, 50), "max s": max(v)} for k, v in times.items()]
    parts = [{"stage": k, "p50 s": percentile(v, 50), "max s": max(v)} for k, v in stages.items()]
    text = (
        table(rows)
        + "\n\nwhere the time goes (each stage's own time):\n\n"
        + table(parts)
        + f"\n\nheavy modules imported: {', '.join(sorted(heavy)) or 'none'} (checked: "
        + ", ".join(HEAVY)
        + f")\n{args.runs} runs; target <= 10 s"
    )
    result = {"rows": rows, "stages": parts, "heavy_modules": sorted(heavy)}
    emit(args, "cold start", result, text)


if __name__ == "__main__":
    main()
