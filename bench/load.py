"""Load test: concurrent clients ask through the app's API while a document is uploaded.

    python bench/load.py                       # starts `qa serve` on a copy of the corpus
    python bench/load.py --url http://127.0.0.1:7860/ --clients 20 --seconds 60 --json out.json
    python bench/load.py --postgres --instances 2   # two `qa serve` on one embedded database
    python bench/load.py --url http://127.0.0.1:7860/ --url http://127.0.0.1:7861/

Clients are spread round-robin over the URLs (several `--url`, or the `--instances`
started here); with `--postgres` the corpus is indexed into a throwaway embedded
PostgreSQL + pgvector (qa/store/db.py) with `qa index --database URL` and every instance is
started with `--database URL`, so they share one database.

Every client is a separate `gradio_client.Client` calling `/ask` in a loop; after a few
seconds one more client uploads a generated document through `/upload`, so the index
switches version while questions are in flight. Afterwards every answer is checked:
- no request failed;
- every citation's quote is exactly the cited span of its document (`/source`);
- answers to the same question computed on the same index version are identical.
Prints throughput and latency percentiles; exits 1 when any check fails. Loopback only.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
QUESTIONS = [
    "How much did Sweden pledge to Ukraine?",
    "Which agreement is registered with the United Nations?",
    "How long is the Denmark agreement valid?",
    "Who signed the agreement for Luxembourg?",
    "Do the agreements offer anything like NATO's Article 5?",
    "How many security agreements has Ukraine signed?",
    "Thủ tướng Luxembourg ký thỏa thuận an ninh với Ukraine vào ngày nào?",
    "What does Norway provide?",
]
UPLOAD_TEXT = (
    "The Kestrel framework agreement between Ukraine and Arandia, signed on 3 March 2025, "
    "funds 1,200 demining specialists for ten years."
)


def percentile(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(q * (len(ordered) - 1))))]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_server(workdir: Path, database: str | None = None, name: str = "serve") -> tuple:
    """`qa serve` in `workdir` (a copy of the corpus, and of the built index when there is
    one; or on `database`)."""
    if not (workdir / "corpus").exists():
        shutil.copytree(ROOT / "corpus", workdir / "corpus")
    if database is None and (ROOT / "index" / "CURRENT").exists():
        shutil.copytree(ROOT / "index", workdir / "index", ignore=shutil.ignore_patterns(".lock"))
    port = free_port()
    log_path = workdir / f"{name}.log"
    command = [sys.executable, "-m", "qa.cli", "serve", "--port", str(port)]
    if database:
        command += ["--database", database]
    proc = subprocess.Popen(
        command, cwd=workdir, stdout=log_path.open("w"), stderr=subprocess.STDOUT
    )
    deadline = time.time() + 600
    while time.time() < deadline:
        if proc.poll() is not None:
            raise SystemExit("qa serve exited:\n" + log_path.read_text())
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return proc, f"http://127.0.0.1:{port}/"
        except OSError:
            time.sleep(0.5)
    proc.kill()
    raise SystemExit("qa serve did not start")


def start_database(workdir: Path) -> str:
    """A throwaway embedded PostgreSQL + pgvector with the corpus indexed into it."""
    sys.path.insert(0, str(ROOT))
    from qa.store import db

    workdir.chmod(0o755)  # as root the server runs as `nobody`
    url = db.start_server(workdir / "pgdata").url
    shutil.copytree(ROOT / "corpus", workdir / "corpus")
    t0 = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "-m", "qa.cli", "index", "--database", url],
        cwd=workdir,
        capture_output=True,
        text=True,
    )
    if done.returncode:
        raise SystemExit("qa index --database failed:\n" + done.stdout + done.stderr)
    print(f"indexed corpus/ into the database in {time.perf_counter() - t0:.0f} s", file=sys.stderr)
    return url


def run(urls: list[str], clients: int, seconds: float, upload_after: float) -> dict:
    from gradio_client import Client, handle_file

    for url in urls:
        if not url.startswith(("http://127.0.0.1", "http://localhost")):
            raise SystemExit("The load test only runs against 127.0.0.1.")
    url = urls[0]  # the upload and the checks go through the first
    results: list[dict] = []
    errors: list[str] = []
    lock = threading.Lock()
    start_barrier = threading.Barrier(clients + 1)
    upload: dict = {}

    def client_loop(i: int) -> None:
        client = Client(urls[i % len(urls)], verbose=False)
        start_barrier.wait()
        n = i
        while time.perf_counter() < deadline:
            q = QUESTIONS[n % len(QUESTIONS)]
            n += 1
            t0 = time.perf_counter()
            try:
                answer = client.predict(q, 5, api_name="/ask")
                row = {
                    "question": q,
                    "seconds": time.perf_counter() - t0,
                    "answer": answer,
                    "url": urls[i % len(urls)],
                }
                with lock:
                    results.append(row)
            except Exception as exc:  # every failure is counted and shown
                with lock:
                    errors.append(f"{q}: {type(exc).__name__}: {str(exc)[:200]}")

    def uploader() -> None:
        client = Client(url, verbose=False)
        time.sleep(upload_after)
        folder = Path(tempfile.mkdtemp(prefix="qa-load-"))
        path = folder / f"kestrel-{os.getpid()}-{int(time.time())}.txt"
        path.write_text(UPLOAD_TEXT, encoding="utf-8")
        t0 = time.perf_counter()
        try:
            upload.update(client.predict(handle_file(str(path)), api_name="/upload"))
            upload["wall_seconds"] = round(time.perf_counter() - t0, 2)
        except Exception as exc:
            errors.append(f"upload: {type(exc).__name__}: {str(exc)[:200]}")

    threads = [threading.Thread(target=client_loop, args=(i,)) for i in range(clients)]
    threads.append(threading.Thread(target=uploader))
    for t in threads:
        t.start()
    deadline = time.perf_counter() + seconds + 3600  # set for real once all have connected
    start_barrier.wait()
    began = time.perf_counter()
    deadline = began + seconds
    for t in threads:
        t.join()
    elapsed = time.perf_counter() - began

    # checks: citations point at the exact text; same question + same version = same answer
    check = Client(url, verbose=False)
    texts: dict[str, str] = {}
    wrong_citations = 0
    by_key: dict[tuple[str, str], set[str]] = defaultdict(set)
    for row in results:
        a = row["answer"]
        by_key[(row["question"], a["index_version"])].add(
            json.dumps([a["answer"], a["citations"]], sort_keys=True)
        )
        for c in a["citations"]:
            if c["document"] not in texts:
                texts[c["document"]] = check.predict(c["document"], api_name="/source")["text"]
            if texts[c["document"]][c["start"] : c["end"]] != c["quote"]:
                wrong_citations += 1
    inconsistent = sum(1 for answers in by_key.values() if len(answers) > 1)
    versions = sorted({r["answer"]["index_version"] for r in results})
    latencies = [r["seconds"] for r in results]
    per_url = {u: sum(1 for r in results if r["url"] == u) for u in urls}
    return {
        "instances": len(urls),
        "requests_per_instance": list(per_url.values()),
        "clients": clients,
        "seconds": round(elapsed, 1),
        "requests": len(results),
        "errors": len(errors),
        "error_samples": errors[:5],
        "throughput_per_s": round(len(results) / elapsed, 2) if elapsed else 0.0,
        "latency_p50_s": round(percentile(latencies, 0.5), 3),
        "latency_p95_s": round(percentile(latencies, 0.95), 3),
        "wrong_citations": wrong_citations,
        "inconsistent_answers": inconsistent,
        "index_versions_seen": len(versions),
        "upload": upload,
    }


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument(
        "--url",
        action="append",
        help="a running app on 127.0.0.1; repeat for several (default: start them)",
    )
    p.add_argument("--instances", type=int, default=1, help="apps to start when no --url")
    p.add_argument(
        "--postgres",
        action="store_true",
        help="start the apps on one throwaway embedded PostgreSQL + pgvector",
    )
    p.add_argument("--clients", type=int, default=20)
    p.add_argument("--seconds", type=float, default=60)
    p.add_argument("--upload-after", type=float, default=5, help="seconds before the upload")
    p.add_argument("--json", type=Path, metavar="OUT", help="also write the figures as JSON")
    args = p.parse_args(argv)
    procs, urls, workdir, database = [], list(args.url or []), None, None
    try:
        if not urls:
            workdir = Path(tempfile.mkdtemp(prefix="qa-load-server-"))
            if args.postgres:
                database = start_database(workdir)
            for i in range(args.instances):
                proc, url = start_server(workdir, database, name=f"serve-{i}")
                procs.append(proc)
                urls.append(url)
        figures = run(urls, args.clients, args.seconds, args.upload_after)
        figures["backend"] = "postgres" if database else ("given" if args.url else "local")
    finally:
        for proc in procs:
            proc.terminate()
        for proc in procs:
            proc.wait(timeout=30)
        if database:
            from qa.store import db

            db.remove_server(workdir / "pgdata")
        if workdir is not None:  # the copied corpus and index, the servers' logs
            shutil.rmtree(workdir, ignore_errors=True)
    width = max(map(len, figures))
    for key, value in figures.items():
        print(f"{key:<{width}}  {value}")
    if args.json:
        args.json.write_text(json.dumps(figures, indent=2, ensure_ascii=False))
    ok = (
        not figures["errors"]
        and not figures["wrong_citations"]
        and not figures["inconsistent_answers"]
        and figures["upload"].get("added")
    )
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
