"""Shared helpers of the benchmarks: timing, percentiles, memory, the machine, output.

Every benchmark compares its figures with a baseline measured in the same run (the
machines are shared and noisy), prints a table, and with `--json` prints JSON instead.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CORPUS = ROOT / "corpus"
DEV = ROOT.parent / "shared" / "eval" / "dev.jsonl"
MINILM = "all-MiniLM-L6-v2"


def parser(description: str) -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(description=description)
    p.add_argument("--json", action="store_true", help="print the results as JSON")
    return p


def machine() -> dict:
    """What the figures ran on: CPU, cores, memory, load at the start."""
    cpu = "unknown"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    mem_gib = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    return {
        "cpu": cpu,
        "cores": os.cpu_count(),
        "memory_gib": round(mem_gib, 1),
        "load_avg_1m": round(os.getloadavg()[0], 2),
        "python": platform.python_version(),
    }


def percentile(values: Sequence[float], q: float) -> float:
    """Linear-interpolated percentile (q in 0..100) of a non-empty sequence."""
    xs = sorted(values)
    if not xs:
        return float("nan")
    pos = (len(xs) - 1) * q / 100
    lo = int(pos)
    hi = min(lo + 1, len(xs) - 1)
    return xs[lo] + (xs[hi] - xs[lo]) * (pos - lo)


def timed(fn: Callable[[], object]) -> tuple[float, object]:
    started = time.perf_counter()
    out = fn()
    return time.perf_counter() - started, out


def latencies(fn: Callable[[object], object], items: Sequence, warmup: int = 2) -> list[float]:
    """Seconds per call of fn(item) for every item, after `warmup` untimed calls."""
    for item in list(items)[:warmup]:
        fn(item)
    out = []
    for item in items:
        started = time.perf_counter()
        fn(item)
        out.append(time.perf_counter() - started)
    return out


def rss_mib(kind: str = "VmRSS") -> float:
    """Resident memory of this process now (MiB): all of it (VmRSS), or only anonymous
    memory (RssAnon), or only pages of memory-mapped files (RssFile), which the kernel can
    drop and read again."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(kind + ":"):
            return int(line.split()[1]) / 1024
    return float("nan")


def peak_rss_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def as_in_a_new_process() -> None:
    """Forget what the library caches per process (the abstention probes' vectors), so that
    a timed build pays what `qa index` pays when it starts afresh."""
    from qa.store.calibration import forget_probe_vectors

    forget_probe_vectors()


def load_dev(path: Path = DEV) -> list[dict]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line]


def table(rows: list[dict], columns: Sequence[str] | None = None) -> str:
    """A Markdown table of dicts; floats get 3 significant decimals."""
    if not rows:
        return "(no rows)"
    columns = list(columns or dict.fromkeys(k for r in rows for k in r))  # every key, in order

    def cell(v: object) -> str:
        if isinstance(v, float):
            return f"{v:.3f}" if abs(v) < 100 else f"{v:,.0f}"
        return "" if v is None else str(v)

    lines = ["| " + " | ".join(columns) + " |", "|" + "---|" * len(columns)]
    lines += ["| " + " | ".join(cell(r.get(c)) for c in columns) + " |" for r in rows]
    return "\n".join(lines)


def emit(args: argparse.Namespace, name: str, result: dict, text: str) -> None:
    """Print the table (and notes), or the JSON of the result with the machine."""
    if args.json:
        print(json.dumps({"benchmark": name, "machine": machine(), **result}, indent=2))
    else:
        m = machine()
        print(f"# {name}  ({m['cpu']}, {m['cores']} cores, load {m['load_avg_1m']})\n")
        print(text)


def run_json(script: Path, argv: Sequence[str], env: dict[str, str] | None = None) -> dict:
    """Run a benchmark script in a fresh process with `--json` and extra environment."""
    import subprocess

    out = subprocess.run(
        [sys.executable, str(script), *argv, "--json"],
        env={**os.environ, **(env or {})},
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    return json.loads(out)


def parse_env(pairs: str) -> dict[str, str]:
    """'A=1,B=2' -> {'A': '1', 'B': '2'}"""
    return dict(p.split("=", 1) for p in pairs.split(",") if p)
