"""Mine human-written (question, answer sentence) pairs from the documentation shipped in
PyPI source distributions: FAQ pages, and any doc section whose heading is a question.

Downloads the pinned sdists below with pip (PyPI only), extracts their .rst/.txt/.md docs,
finds question headings (reST underlined titles, Markdown '#' titles, bold '**Q: ...?**'
lines), and takes the text up to the next heading of any kind as the answer. Markup, code
blocks and directives are stripped; the answer is split into sentences with
qa.ingest.sentences. Per question it writes:

    {"pkg", "file", "question", "pos": [first 1-2 answer sentences, or all of a short one],
     "hard": [sentences of other answers in the same file], "rand": [sentences of other files]}

to eval/reader/faq_pairs.jsonl. None of the evaluation collections' projects (docutils, pip,
pygame, fastapi, orange3, wordfreq, langcodes, bitstring, pyrad, zlib, gzip) is used.

    PYTHONPATH=. .venv/bin/python eval/reader/mine_faq.py [SDIST_DIR]
"""

import io
import json
import random
import re
import subprocess
import sys
import tarfile
from pathlib import Path

from qa.answer.ranker import is_prose
from qa.ingest.sentences import split_sentences

PACKAGES = [
    "Django==5.1.4",
    "SQLAlchemy==2.0.36",
    "celery==5.4.0",
    "Scrapy==2.12.0",
    "Sphinx==8.1.3",
    "mypy==1.13.0",
    "ansible-core==2.19.14",
    "bottle==0.13.4",
    "CherryPy==18.10.0",
    "coverage==7.17.5",
    "Cython==3.3.1",
    "dask==2026.8.0",
    "fabric==3.2.3",
    "gunicorn==27.0.1",
    "invoke==3.0.3",
    "Jinja2==3.1.6",
    "mongoengine==0.29.3",
    "paramiko==5.1.0",
    "pexpect==4.9.0",
    "psycopg2==2.9.13",
    "pycryptodome==4.4.0",
    "pylint==4.1.4",
    "pymongo==4.20.1",
    "pyramid==2.1",
    "Pyro5==5.17",
    "pytest-django==4.14.0",
    "requests==2.34.2",
    "rpyc==6.0.2",
    "supervisor==4.3.0",
    "tornado==6.6.1",
    "Twisted==26.10.0",
    "xarray==2026.9.0",
    "aiohttp==3.14.5",
    "alembic==1.20.1",
    "beautifulsoup4==4.15.0",
    "black==26.10.1",
    "cffi==2.1.1",
    "falcon==4.4.0",
    "flake8==7.5.0",
    "Flask==3.1.3",
    "kombu==5.7.0",
    "peewee==4.5.3",
    "pelican==4.12.0",
    "pipenv==2026.10.3",
    "pipx==1.18.4",
    "pybind11==3.1.0",
    "pyinstaller==6.22.3",
    "pytest==9.2.0",
    "tqdm==4.70.1",
    "urllib3==2.8.0",
    "Werkzeug==3.1.9",
    "psutil==7.2.2",
    "pyftpdlib==2.2.0",
    "SQLObject==3.14.0",
    "Pygments==2.21.0",
    "scapy==2.8.0",
    "APScheduler==3.11.3",
    "discord.py==2.7.1",
    "praw==8.0.3",
    "tweepy==4.17.0",
    "apache-libcloud==3.9.1",
    "sh==2.4.0",
    "cx_Freeze==8.7.3",
    "pysnmp==7.1.30",
    "ZODB==6.4",
]
EXCLUDED = re.compile(
    r"docutils|(^|/)pip[-_]|pygame|fastapi|orange3|wordfreq|langcodes|bitstring|pyrad|zlib|gzip",
    re.I,
)
ROOT = Path(__file__).resolve().parent
OUT = ROOT / "faq_pairs.jsonl"
SKIP_PATH = re.compile(r"change|news|history|release|whatsnew|/tests?/|license|authors", re.I)
UNDER = re.compile(r"^([=\-~^\"'`#*+.:_])\1{2,}\s*$")


def download(dirpath: Path) -> None:
    dirpath.mkdir(parents=True, exist_ok=True)
    have = {p.name.lower().replace("-", "_") for p in dirpath.glob("*.tar.gz")}
    for spec in PACKAGES:
        name = spec.split("==")[0].lower().replace("-", "_")
        if any(h.startswith(name + "_" + spec.split("==")[1]) for h in have):
            continue
        subprocess.run(
            [sys.executable, "-m", "pip", "download", "--no-deps", "--no-binary", ":all:"]
            + [spec, "-d", str(dirpath), "-q"],
            check=False,
        )


def clean_inline(s: str) -> str:
    s = re.sub(r":[\w:.-]+:`~?([^`<]*?)\s*(<[^>]*>)?`", r"\1", s)  # :role:`text <target>`
    s = re.sub(r"`([^`<]+?)\s*<[^>]+>`_{1,2}", r"\1", s)  # `text <url>`_
    s = re.sub(r"`([^`]+)`_{1,2}", r"\1", s)
    s = re.sub(r"``([^`]+)``", r"\1", s)
    s = re.sub(r"`([^`]+)`", r"\1", s)
    s = re.sub(r"\[([^\]]+)\]\([^)]*\)", r"\1", s)  # markdown link
    s = re.sub(r"\*\*([^*]+)\*\*", r"\1", s)
    s = re.sub(r"\*([^*]+)\*", r"\1", s)
    s = re.sub(r"\|([\w-]+)\|", r"\1", s)
    s = re.sub(r"<[^>]+>", "", s)
    s = re.sub(r"^\s*(\*\*)?(Answer|A)\s*:\s*(\*\*)?\s*", "", s)
    return re.sub(r"\s+", " ", s).strip()


def headings(lines: list[str]) -> list[tuple[int, int, str]]:
    """(first line, first body line, title) of every heading."""
    out = []
    i = 0
    while i < len(lines):
        line = lines[i].rstrip()
        nxt = lines[i + 1].rstrip() if i + 1 < len(lines) else ""
        if (
            line.strip()
            and not UNDER.match(line)
            and UNDER.match(nxt)
            and len(nxt) >= 0.6 * len(line.strip())
            and not line.startswith(" ")
        ):
            out.append((i, i + 2, line.strip()))
            i += 2
            continue
        m = re.match(r"^#{1,6}\s+(.+?)\s*#*$", line)
        if m:
            out.append((i, i + 1, m.group(1)))
        else:
            m = re.match(r"^\*\*(?:Q\s*:\s*)?(.+\?)\s*\*\*\s*$", line.strip())
            if m and not line.startswith(" "):
                out.append((i, i + 1, m.group(1)))
        i += 1
    return out


def body_text(lines: list[str]) -> str:
    """The prose of an answer: no directives, code blocks, tables, or link targets."""
    paras, cur = [], []
    skip_indent = None
    fence = False
    for raw in lines:
        line = raw.rstrip()
        if line.strip().startswith("```"):
            fence = not fence
            continue
        if fence:
            continue
        indent = len(line) - len(line.lstrip())
        if skip_indent is not None:
            if not line.strip() or indent > skip_indent:
                continue
            skip_indent = None
        s = line.strip()
        if not s:
            if cur:
                paras.append(" ".join(cur))
                cur = []
            continue
        if (
            s.startswith(".. ")
            or s.startswith("!!!")
            or s.startswith("|")
            or s.startswith("+-")
            or UNDER.match(s)
            or s.startswith(">>>")
            or s.startswith("$ ")
        ):
            if cur:
                paras.append(" ".join(cur))
                cur = []
            skip_indent = indent
            continue
        if indent >= 4 and not cur and not re.match(r"[*\-]|\d+\.", s):
            continue  # literal / quoted block
        s = re.sub(r"^([*\-+]|\d+\.|#\.)\s+", "", s)
        if s.endswith("::"):
            s = s[:-1] if not s.endswith(" ::") else s[:-3]
            cur.append(s)
            paras.append(" ".join(cur))
            cur = []
            skip_indent = indent
            continue
        cur.append(s)
    if cur:
        paras.append(" ".join(cur))
    sents = []
    for p in paras:
        p = clean_inline(p)
        for a, b in split_sentences(p):
            t = p[a:b].strip()
            if len(t.split()) >= 4 and len(t) <= 400 and is_prose(t):
                sents.append(t)
    return sents


def indented_block(lines: list[str], i: int) -> tuple[list[str], int]:
    """The indented lines from i (blank lines included), dedented, and the index after."""
    j = i
    while j < len(lines) and (not lines[j].strip() or lines[j].startswith((" ", "\t"))):
        j += 1
    block = lines[i:j]
    ind = min((len(x) - len(x.lstrip()) for x in block if x.strip()), default=0)
    return [x[ind:] for x in block], j


def definition_items(lines: list[str]) -> list[dict]:
    """reST definition lists whose term is a question ('How do I ...?' then an indented
    answer), and the 'Q / A' layout (a line 'Q', the indented question, 'A', the answer)."""
    out = []
    i = 0
    while i < len(lines):
        s = lines[i].rstrip()
        if s in ("Q", "Q:") and i + 1 < len(lines):
            qb, j = indented_block(lines, i + 1)
            if j < len(lines) and lines[j].strip() in ("A", "A:"):
                ab, k = indented_block(lines, j + 1)
                q = clean_inline(" ".join(x.strip() for x in qb))
                out.append({"question": q, "answer": body_text(ab)})
                i = k
                continue
        nxt = lines[i + 1] if i + 1 < len(lines) else ""
        if s.startswith("... "):  # Sphinx's FAQ: "How do I..." then "... do this?" terms
            s = "How do I " + s[4:]
        if (
            s
            and not s.startswith((" ", ".."))
            and s.endswith("?")
            and nxt.startswith((" ", "\t"))
            and nxt.strip()
        ):
            ab, k = indented_block(lines, i + 1)
            out.append({"question": clean_inline(s.lstrip(". ")), "answer": body_text(ab)})
            i = k
            continue
        i += 1
    return [r for r in out if r["answer"] and r["question"].endswith("?")]


def mine_file(text: str) -> list[dict]:
    lines = text.splitlines()
    hs = headings(lines)
    out = definition_items(lines)
    for k, (_start, body, title) in enumerate(hs):
        q = clean_inline(title)
        if not q.endswith("?") or len(q.split()) < 3:
            continue
        end = hs[k + 1][0] if k + 1 < len(hs) else len(lines)
        sents = body_text(lines[body:end])
        if sents:
            out.append({"question": q, "answer": sents})
    return out


def main() -> None:
    sdists = Path(sys.argv[1]) if len(sys.argv) > 1 else ROOT.parent.parent / ".cache/reader/sdists"
    download(sdists)
    files = []
    for tgz in sorted(sdists.glob("*.tar.gz")):
        if EXCLUDED.search(tgz.name):
            continue
        with tarfile.open(tgz) as tf:
            for m in tf.getmembers():
                if not m.isfile() or not re.search(r"\.(rst|txt|md)$", m.name):
                    continue
                if not re.search(
                    r"/(docs?|sites|Doc)/|^[^/]+/(README|FAQ)[^/]*$", m.name, re.I
                ) or SKIP_PATH.search(m.name):
                    continue
                text = io.TextIOWrapper(
                    tf.extractfile(m), encoding="utf-8", errors="replace"
                ).read()
                qa = mine_file(text)
                if qa:
                    files.append((tgz.name.rsplit(".tar.gz", 1)[0], m.name.split("/", 1)[1], qa))
    rng = random.Random(0)
    all_sents = [(i, s) for i, (_, _, qa) in enumerate(files) for r in qa for s in r["answer"]]
    n = 0
    with OUT.open("w", encoding="utf-8") as f:
        for i, (pkg, name, qa) in enumerate(files):
            for j, r in enumerate(qa):
                ans = r["answer"]
                pos = ans if len(ans) <= 2 else ans[:2]
                hard = [s for k, o in enumerate(qa) if k != j for s in o["answer"]]
                hard = rng.sample(hard, min(10, len(hard)))
                rand = [s for fi, s in rng.sample(all_sents, 12) if fi != i][:6]
                rec = {
                    "pkg": pkg,
                    "file": name,
                    "question": r["question"],
                    "pos": pos,
                    "hard": hard[:8],
                    "rand": rand[:4],
                }
                f.write(json.dumps(rec, ensure_ascii=False) + "\n")
                n += 1
    by_pkg = {}
    for pkg, _, qa in files:
        by_pkg[pkg] = by_pkg.get(pkg, 0) + len(qa)
    print(n, "questions from", len(files), "files;", json.dumps(by_pkg))


if __name__ == "__main__":
    main()
