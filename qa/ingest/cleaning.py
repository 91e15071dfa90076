"""Raw extracted text -> clean text, keeping for every clean character the offset it came from.

Fixes what PDF extraction leaves behind: running headers and footers (also when glued to the
page number), page numbers, footnotes that interrupt a sentence across a page break, link
URLs repeated as bare lines, line-end hyphenation, hard-wrapped lines, control characters and
Unicode compatibility forms. Everything here is a pure function of the input text.

The offset map is what lets a citation name its page: a clean character's page is the page
of the raw character it came from, even after footnotes are moved to the end.
"""

from __future__ import annotations

import re
import unicodedata
from collections import Counter
from dataclasses import dataclass

from qa.documents import NO_PAGE
from qa.ingest.loaders import PAGE_BREAK


@dataclass(frozen=True)
class CleanText:
    text: str
    offsets: tuple[int, ...]  # offsets[i]: index in the raw text of clean character i
    page_starts: tuple[int, ...]  # runs: page_labels[i] starts at clean offset page_starts[i]
    page_labels: tuple[int, ...]


class _Stream:
    """Text with a parallel list of raw offsets; every edit keeps the two in step."""

    def __init__(self, text: str, offsets: list[int]) -> None:
        assert len(text) == len(offsets)
        self.text, self.offsets = text, offsets

    def sub(self, pattern: re.Pattern[str], repl) -> _Stream:  # repl: str | (Match) -> str
        parts: list[str] = []
        offs: list[int] = []
        pos = 0
        for m in pattern.finditer(self.text):
            parts.append(self.text[pos : m.start()])
            offs.extend(self.offsets[pos : m.start()])
            new = repl(m) if callable(repl) else m.expand(repl)
            kept = _kept_positions(m.group(0), new)
            span = max(1, m.end() - m.start())
            for i in range(len(new)):
                # a character that was only kept (a deletion around it) points at itself;
                # a replacement character at the matched character in the same place
                at = kept[i] if kept else min(i, span - 1)
                j = min(m.start() + at, len(self.offsets) - 1)
                offs.append(self.offsets[j] if self.offsets else 0)
            parts.append(new)
            pos = m.end()
        parts.append(self.text[pos:])
        offs.extend(self.offsets[pos:])
        return _Stream("".join(parts), offs)


def _kept_positions(old: str, new: str) -> list[int] | None:
    """Where each character of `new` sits in `old` when `new` is `old` with characters
    deleted ("th e" -> "the"); None for any other replacement."""
    if len(new) >= len(old):
        return None
    out, j = [], 0
    for ch in new:
        while j < len(old) and old[j] != ch:
            j += 1
        if j == len(old):
            return None
        out.append(j)
        j += 1
    return out


# --- page-level: headers, footers, footnotes, repeated URLs ---------------------------

_PAGE_NUMBER = re.compile(r"^\s*(?:page\s+)?(\d{1,4})(?:\s*(?:/|of)\s*\d{1,4})?\s*$", re.I)
# The words end on a non-space character, so only such ends are tried ("\S(?:.*?\S)??",
# not "\S.*?"), and a run of spaces is read by one repeat, not two side by side ("\s\s\s*",
# not "\s{2,}\s*"): otherwise a long run of spaces in a line took quadratic time.
_NUMBERED_LINE = re.compile(
    r"^\s*(\d{1,4})\s*(\S(?:.*?\S)??)\s*$|^\s*(\S(?:.*?\S)??)\s*(\d{1,4})\s*$"
)
_FOOTNOTE_START = re.compile(r"^\s*\d{1,3}(?:\u2003|\u2002|\t|\s\s)\s*\S")
_BARE_URL = re.compile(r"^\s*(?:https?://|www\.)\S+\s*$")
_TERMINAL = ".!?:;\"'”’»)…"


def _key(line: str, digits: bool = False) -> str:
    """Compare header candidates ignoring spacing, case, quote style and (unless `digits`)
    the numbers in them."""
    line = unicodedata.normalize("NFKC", line).replace("’", "'").replace("‘", "'")
    if not digits:
        line = re.sub(r"\d+", "#", line)
    return re.sub(r"\s+", " ", line).strip().casefold()


def _title_key(line: str) -> str:
    return re.sub(r"[\W_]+", "", _key(line).replace("#", ""))


@dataclass
class _Line:
    text: str
    start: int  # raw offset of the line's first character


def _split_lines(page: str, base: int) -> list[_Line]:
    lines, pos = [], 0
    for part in page.split("\n"):
        lines.append(_Line(part, base + pos))
        pos += len(part) + 1
    return lines


def _edge_lines(lines: list[_Line], n: int = 2) -> list[int]:
    """Indexes of the first and last n non-blank lines of a page."""
    filled = [i for i, ln in enumerate(lines) if ln.text.strip()]
    return sorted(set(filled[:n] + filled[-n:]))


def _find_running_lines(
    pages: list[list[_Line]], title: str | None
) -> tuple[set[tuple[int, int]], dict[int, int]]:
    """Lines to drop as running headers/footers, and printed page numbers found in them.
    A source of one page has nothing that runs from page to page: its first line is its own
    (a web article titled "21 Security Agreements" is not page 21)."""
    if len(pages) < 2:
        return set(), {}
    counts: Counter[str] = Counter()  # numbers ignored: "Report, page 3" repeats
    exact: Counter[str] = Counter()  # numbers kept: plain repeated lines
    for lines in pages:
        counts.update({_key(lines[i].text) for i in _edge_lines(lines)})
        exact.update({_key(lines[i].text, digits=True) for i in _edge_lines(lines)})
    repeat = max(3, (len(pages) + 1) // 2) if len(pages) >= 3 else None
    title_k = _title_key(title) if title else ""
    drop: set[tuple[int, int]] = set()
    numbers: dict[int, int] = {}
    for p, lines in enumerate(pages):
        for i in _edge_lines(lines):
            text = lines[i].text
            number = None
            if m := _PAGE_NUMBER.match(text):
                number = int(m.group(1))
            elif m := _NUMBERED_LINE.match(text):
                words = m.group(2) or m.group(3)
                number = int(m.group(1) or m.group(4))
                if not (len(title_k) >= 12 and _title_key(words) == title_k):
                    number = None if not (repeat and counts[_key(text)] >= repeat) else number
            if number is not None:
                drop.add((p, i))
                numbers[p] = number
            elif repeat and exact[_key(text, digits=True)] >= repeat and len(text.strip()) < 120:
                drop.add((p, i))
            elif (
                repeat
                and counts[_key(text)] >= repeat
                and len(text.strip()) < 120
                and text.rstrip()[-1:] not in ".!?"
            ):
                drop.add((p, i))  # the same line with another number on each page: a footer
    return drop, numbers


# Line numbers in a margin (a review draft, a pleading, a numbered listing): a number at the
# end of a line -- glued to it by the PDF's extraction ("mergers31", "up to 8.32" for "up to
# 8." on line 32) -- or at its start, one more on each numbered line. Followed from line to
# line across at most MAX_NUMBER_GAP lines without one (a sidebar, a heading), never across
# a line with another number there (a table of contents, whose page numbers only sometimes
# follow on by one); a page's numbers are taken only when runs of at least MIN_NUMBERED_RUN
# cover at least half its lines (a table's last column is no margin) -- four in five for
# numbers at the start, where a list of one-line clauses ("1 Short title", "2 Commencement")
# also counts up by one and keeps its numbers.
MIN_NUMBERED_RUN = 5
MAX_NUMBER_GAP = 2
MARGIN_SHARE = {False: 0.5, True: 0.8}  # numbers at the end, at the start
_LEADING_NUMBER = re.compile(r"^\s*(\d{1,4})(?=\s|$)")


def _number_at(text: str, n: int, leading: bool) -> int | None:
    """Where line number `n` starts (at the end) or ends (at the start) in `text`; None if
    it is not there. At the end it may be glued to a figure ("8." + "32"): the run of
    numbers before and after it is what says it is a line number."""
    digits = str(n)
    if leading:
        m = _LEADING_NUMBER.match(text)
        return m.end() if m and m.group(1) == digits else None
    body = text.rstrip()
    return len(body) - len(digits) if body.endswith(digits) else None


def _strip_line_numbers(lines: list[_Line]) -> list[_Line]:
    """The page's lines without their margin's line numbers (see MIN_NUMBERED_RUN)."""
    filled = [i for i, ln in enumerate(lines) if ln.text.strip()]
    for leading in (False, True):
        cuts: dict[int, int] = {}
        k = 0
        while k < len(filled):
            run = _run_from(lines, filled, k, leading)
            if len(run) >= MIN_NUMBERED_RUN:
                cuts.update(run)
                k = filled.index(max(run)) + 1
            else:
                k += 1
        if cuts and len(cuts) >= MARGIN_SHARE[leading] * len(filled):
            return [_cut(ln, cuts[i], leading) if i in cuts else ln for i, ln in enumerate(lines)]
    return lines


def _run_from(lines: list[_Line], filled: list[int], k: int, leading: bool) -> dict[int, int]:
    """The longest run of line numbers starting on filled line k: line index -> cut."""
    text = lines[filled[k]].text
    if leading:
        m = _LEADING_NUMBER.match(text)
        starts = [int(m.group(1))] if m else []
    else:
        tail = re.search(r"(\d{1,4})\s*$", text)
        # the whole number first: of runs as long, "95, 96, 97" is read before "5, 6, 7"
        starts = [int(tail.group(1)[-w:]) for w in range(len(tail.group(1)), 0, -1)] if tail else []
    best: dict[int, int] = {}
    for n in starts:
        run: dict[int, int] = {}
        expect, gap = n, 0
        for i in filled[k:]:
            text = lines[i].text
            cut = _number_at(text, expect, leading)
            if cut is None:
                # a line passed over has no number where the margin's are: in a table of
                # contents every line ends in one, and only some follow on by one
                gap += 1
                numbered = _LEADING_NUMBER.match(text) if leading else text.rstrip()[-1:].isdigit()
                if not run or gap > MAX_NUMBER_GAP or numbered:
                    break
                continue
            run[i], expect, gap = cut, expect + 1, 0
        if len(run) > len(best):
            best = run
    return best


def _cut(line: _Line, cut: int, leading: bool) -> _Line:
    if leading:
        return _Line(line.text[cut:], line.start + cut)
    return _Line(line.text[:cut], line.start)


def _page_labels(n_pages: int, numbers: dict[int, int]) -> list[int]:
    """Printed page numbers: the offset most pages agree on, else 1, 2, 3..."""
    deltas = Counter(num - p for p, num in numbers.items())
    delta = deltas.most_common(1)[0][0] if deltas else 1
    if delta < 1:  # printed numbers that start below 1 (front matter): count pages instead
        delta = 1
    return [p + delta for p in range(n_pages)]


# A line of nothing but rule characters ("-----", "=====", "* * *"): a visual separator,
# read as a paragraph break so that it never joins the heading or sentence beside it.
_SEPARATOR = re.compile(r"^\s*([-=_*~#+.·•─━]\s*){3,}$")


def _paragraphs(lines: list[_Line]) -> list[list[_Line]]:
    paras: list[list[_Line]] = [[]]
    for ln in lines:
        if ln.text.strip() and not _SEPARATOR.match(ln.text):
            paras[-1].append(ln)
        elif paras[-1]:
            paras.append([])
    return [p for p in paras if p]


def _repeated_urls(para: list[_Line], squeezed_raw: str) -> bool:
    """A block of bare URL lines each written elsewhere too: link annotations that PDF
    extraction appends to a page, or plain duplicates."""
    return all(_BARE_URL.match(ln.text) and squeezed_raw.count(ln.text.strip()) >= 2 for ln in para)


# --- character-level fixes ------------------------------------------------------------

_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\u200b\u200e\u200f\ufeff\r]")
_BULLET = re.compile(r"(?m)^[ \t]*[\ufffd\uf0a7\uf0b7\uf076\u25aa\u25cf\u2022][ \t]*")
_REPLACEMENT = re.compile(r"[\ufffd\ue000-\uf8ff]")
_CLUSTER = re.compile(r"[^\W\d_][\u0300-\u036f]+|[^\x00-\x7f]")
_HYPHEN_BREAK = re.compile(r"([^\W\d_]{1,40})-[ \t]*\n[ \t]*([^\W\d_][\w]*)")
_BETWEEN_LETTERS = re.compile(r"(?<=[^\W\d_])[ \n](?=[^\W\d_])")
_SOFT_BREAK = re.compile(r"([^\n])[ \t]*\n[ \t]*(?=[^\n])")
_SPACES = re.compile(r"[ \t\u00a0\u2000-\u200a\u202f\u205f\u3000]+")
_EDGE_SPACES = re.compile(r" *\n *")
_BLANKS = re.compile(r"\n{3,}")
_LIST_ITEM = re.compile(r"\s*(?:[•\-*–]\s|\d{1,2}[.)]\s)")


def _normalize(m: re.Match[str]) -> str:
    return unicodedata.normalize("NFKC", m.group(0))


def _make_hyphen_fixer(text: str):
    """Join "implemen-\\ntation" when the joined word occurs in the document and the
    hyphenated one does not; keep real compounds ("co-\\nchaired", "long-\\nterm")."""
    words = Counter(w.casefold() for w in re.findall(r"[^\W\d_][\w\-]*", text))

    def fix(m: re.Match[str]) -> str:
        left, right = m.group(1), m.group(2)
        joined = (left + right).casefold()
        hyphened = f"{left}-{right}".casefold()
        if right[0].islower() and words[joined] > 0 and words[hyphened] == 0:
            return left + right
        return f"{left}-{right}"

    return fix


# A word as the document uses it: letters, with inner apostrophes ("law’s"); dotted
# abbreviations ("e.g.", "U.S.") and letters in brackets, labels ("section 1201(g)"), are
# words of their own, so their letters never count as standing alone.
_WORD = re.compile(r"\([^\W\d_]\)|(?:[^\W\d_]\.){2,}|[^\W\d_]+(?:['’][^\W\d_]+)*")
# Two runs of letters with one space or line break between them, read overlapping ("a n
# ongoing" gives "a n" and "n ongoing"); the second may carry a glued footnote mark ("b y1").
_WORD_PAIR = re.compile(r"(?<![\w'’.])(?=([^\W\d_]+)[ \n]([^\W\d_]+)(?=[\s.,;:!?)”’\"'\d]|$))")
# Nothing but punctuation and digits (a footnote mark) up to the end of the line; one
# character at a time, so that a long run of figures that no line break ends fails in
# linear time (nested repeats, "(\d+\W*)*", backtrack exponentially over it).
_LINE_END = re.compile(r"(?:[^\w\n]|\d)*(?:\n|\Z)")
_MIN_JOIN_RATIO = 20.0  # joined word this many times likelier than its parts apart
# Splits are a disease of the whole document: joined only when at least this share of the
# document's distinct words, and this many, turn up split (the DMCA summary: 119 of 1,317
# words; the other evaluation documents, ungated: at most 2 of 687, two real words each).
_MIN_SPLIT_SHARE = 0.025
_MIN_SPLITS = 3


@dataclass(frozen=True)
class _Join:
    at: int  # offset of the space or line break to drop
    left: str
    right: str


def _split_joins(text: str) -> list[_Join]:
    """Words that PDF extraction broke with a space ("Assuranc e", "th e", "a n ongoing",
    "Department o f", "sect ion"), found from the document's own word counts.

    A pair "X Y" is joined when XY occurs as a word of its own in the document and is much
    likelier there than X and Y apart (count(XY)/N against count(X)/N * count(Y)/N, a
    Norvig-style unigram model), and the pair is broken:
    - X or Y is a lone letter that is a fragment: it stands alone less often than it
      appears in such splits ("e", "n"; "a" in "signed a" and "in a" is a word);
    - or X or Y is a fragment seen split at the end of a line more than once ("th");
    - or both are fragments, at the end of a line or each seen only once ("sect ion"):
      a phrase repeated inside lines is written that way ("take down" beside "takedown").
    "in to", "any one" and "log in to" stay: their halves are words. When XY never occurs
    unsplit, it is joined only if one half is a lone fragment letter and the other never
    stands alone ("Assuranc e").

    Counts leave out the occurrences that are themselves candidate splits; justified text
    breaks words at line ends, so the evidence that a piece is a fragment is taken there.
    Nothing is joined unless split words make up a measurable share of the document's
    vocabulary: clean text, web pages and languages of short syllables ("thỏa thuận an
    ninh") are left as they are."""
    tokens = [(m.start(), m.group(0).casefold()) for m in _WORD.finditer(text)]
    n = len(tokens)
    if n == 0:
        return []
    seen = Counter(w for _, w in tokens)
    pairs = []  # (offset of the space, left, right, the right half ends its line)
    for m in _WORD_PAIR.finditer(text):
        eol = _LINE_END.match(text, m.end(2)) is not None
        pairs.append((m.start(1) + len(m.group(1)), m.group(1), m.group(2), eol))
    known = [p for p in pairs if seen[(p[1] + p[2]).casefold()]]
    in_split, at_eol = Counter(), Counter()
    for _, x, y, eol in known:
        for w in (x.casefold(), y.casefold()):
            in_split[w] += 1
            at_eol[w] += eol
    alone = Counter({w: max(0, seen[w] - in_split[w]) for w in seen})

    def fragment(w: str) -> bool:
        return in_split[w] > alone[w]

    def broken(left: str, right: str, eol: bool) -> bool:
        if any(len(w) == 1 and fragment(w) for w in (left, right)):
            return True
        if any(fragment(w) and at_eol[w] >= 2 for w in (left, right)):
            return True
        once = seen[left] == 1 and seen[right] == 1
        return fragment(left) and fragment(right) and (eol or once)

    joins: list[tuple[float, _Join]] = []
    for at, x, y, eol in known:
        left, right, whole = x.casefold(), y.casefold(), (x + y).casefold()
        ratio = max(alone[whole], 1) * n / (max(alone[left], 1) * max(alone[right], 1))
        if ratio >= _MIN_JOIN_RATIO and broken(left, right, eol):
            joins.append((ratio, _Join(at, x, y)))
    # a lone fragment letter beside a piece that never stands alone: "Assuranc e"
    unknown = [
        (at, x, y)
        for at, x, y, _ in pairs
        if not seen[(x + y).casefold()] and (len(x) == 1) != (len(y) == 1)
    ]
    beside_letter: Counter[str] = Counter()
    for _, x, y in unknown:
        letter, piece = (x, y) if len(x) == 1 else (y, x)
        if fragment(letter.casefold()):
            beside_letter[piece.casefold()] += 1
    for at, x, y in unknown:
        letter, piece = (x, y) if len(x) == 1 else (y, x)
        if (
            fragment(letter.casefold())
            and alone[piece.casefold()] <= beside_letter[piece.casefold()]
        ):
            joins.append((0.0, _Join(at, x, y)))
    kinds = len({(j.left + j.right).casefold() for _, j in joins})
    if kinds < _MIN_SPLITS or kinds < _MIN_SPLIT_SHARE * len(seen):
        return []
    # overlapping candidates ("Department o" / "o f"): the likelier join wins
    taken: set[int] = set()  # start offsets of words already joined
    out: list[_Join] = []
    for _, j in sorted(joins, key=lambda rj: (-rj[0], rj[1].at)):
        a, b = j.at - len(j.left), j.at + 1
        if a in taken or b in taken:
            continue
        taken.update((a, b))
        out.append(j)
    return sorted(out, key=lambda j: j.at)


def _join_splits(s: _Stream) -> _Stream:
    """Drop the spaces that `_split_joins` found inside words; every kept character keeps
    its raw offset."""
    drop = {j.at for j in _split_joins(s.text)}
    if not drop:
        return s
    return s.sub(_BETWEEN_LETTERS, lambda m: "" if m.start() in drop else m.group(0))


def _is_table_row(line: str) -> bool:
    """A row of a pipe table (Markdown, a grid table's cells): "| France | 12 |"."""
    line = line.strip()
    return len(line) > 1 and line[0] == "|" and line[-1] == "|"


def _make_unwrapper(text: str):
    """A single newline inside a paragraph is a line wrap unless the line ended a sentence
    and the next one looks like a new item, both lines are rows of a pipe table, or the
    line is a heading: much shorter than the document's wrapped lines, unpunctuated, and
    followed by a capitalised line ("1 Introduction" / "This document describes..." stays
    two lines)."""
    lengths = sorted(len(line) for line in text.split("\n") if line.strip())
    width = max(lengths, default=0)
    if len(lengths) >= 20:
        width = lengths[int(0.9 * (len(lengths) - 1))]

    def unwrap(m: re.Match[str]) -> str:
        prev = m.group(1)
        rest = m.string[m.end() : m.end() + 3]
        if _LIST_ITEM.match(rest):
            return prev + "\n"
        if prev in _TERMINAL and not rest[:1].islower():
            return prev + "\n"
        line = m.string[m.string.rfind("\n", 0, m.start(1)) + 1 : m.end(1)]
        if _is_table_row(line):
            end = m.string.find("\n", m.end())
            if _is_table_row(m.string[m.end() : end if end >= 0 else None]):
                return prev + "\n"  # rows of a pipe table: each its own line, quoted alone
        if (
            (rest[:1].isupper() or rest[:1].isdigit())
            and prev not in ",;-–(&/"
            and len(line.split()) <= 10
            and len(line) <= 0.6 * width
        ):
            return prev + "\n"
        return prev + " "

    return unwrap


def clean(raw: str, title: str | None = None) -> CleanText:
    """Clean extracted text. Pages are separated by form feeds in `raw`."""
    pages_raw = raw.split(PAGE_BREAK)
    pages: list[list[_Line]] = []
    base = 0
    for page in pages_raw:
        pages.append(_split_lines(page, base))
        base += len(page) + 1
    drop, numbers = _find_running_lines(pages, title)
    labels = _page_labels(len(pages), numbers)
    squeezed = re.sub(r"\s+", "", raw)

    body: list[tuple[str, list[int]]] = []  # (text, raw offsets) per page
    notes: list[tuple[str, list[int]]] = []  # footnote paragraphs, moved after the body
    for p, lines in enumerate(pages):
        kept = _strip_line_numbers([ln for i, ln in enumerate(lines) if (p, i) not in drop])
        text_parts: list[str] = []
        offs: list[int] = []
        for para in _paragraphs(kept):
            if _repeated_urls(para, squeezed):
                continue
            target = notes if _FOOTNOTE_START.match(para[0].text) else None
            ptext = "\n".join(ln.text for ln in para)
            poffs: list[int] = []
            for ln in para:
                poffs.extend(range(ln.start, ln.start + len(ln.text)))
                poffs.append(ln.start + len(ln.text))  # the newline
            poffs = poffs[: len(ptext)]
            if target is not None:
                target.append((ptext, poffs))
                continue
            if text_parts:
                text_parts.append("\n\n")
                offs.extend([poffs[0], poffs[0]])
            text_parts.append(ptext)
            offs.extend(poffs)
        body.append(("".join(text_parts), offs))

    # Join pages: a sentence that runs over a page break continues with a space.
    out_text: list[str] = []
    out_offs: list[int] = []
    for text, offs in body + notes:
        if not text.strip():
            continue
        if out_text:
            tail = "".join(out_text[-1:]).rstrip()
            sep = (
                " "
                if tail and tail[-1] not in _TERMINAL and text.lstrip()[:1].islower()
                else "\n\n"
            )
            out_text.append(sep)
            out_offs.extend([offs[0]] * len(sep))
        out_text.append(text)
        out_offs.extend(offs)

    s = _Stream("".join(out_text), out_offs)
    s = s.sub(_CONTROL, "")
    s = s.sub(_BULLET, "• ")
    s = s.sub(_REPLACEMENT, "")
    s = s.sub(_CLUSTER, _normalize)
    s = s.sub(_SPACES, " ")
    s = s.sub(_EDGE_SPACES, "\n")
    s = s.sub(_HYPHEN_BREAK, _make_hyphen_fixer(s.text))
    s = _join_splits(s)
    s = s.sub(_SOFT_BREAK, _make_unwrapper(s.text))
    s = _separate_footnote_marks(s)
    s = s.sub(_BLANKS, "\n\n")
    text, offsets = _strip(s)
    raw_page_starts = [lines[0].start for lines in pages]
    if PAGE_BREAK not in raw:  # plain text, a web page: no page to name
        labels = [NO_PAGE]
    page_starts, page_labels = _page_runs(offsets, raw_page_starts, labels)
    return CleanText(text, tuple(offsets), page_starts, page_labels)


# A number glued to the end of a word, after optional closing punctuation: "declaration2",
# "Compact3", "of.4", "recovery.”9", "for10". Words in capitals ("AS90", "G7") are names.
_GLUED_NUMBER = re.compile(r"(?<=[^\W\d_]{2})([.,;:!?”’\"')\]]{0,2})(\d{1,3})(?=[\s.,;:)]|$)")
_SUPERSCRIPT = str.maketrans("0123456789", "⁰¹²³⁴⁵⁶⁷⁸⁹")


def _separate_footnote_marks(s: _Stream) -> _Stream:
    """Footnote marks that extraction glued to the word before them, raised (declaration²),
    so that a quote and the source view read as the page did. A mark is a glued number that
    has a footnote (a line that starts with it) and continues the document's footnote sequence (1, 2, 3..., allowing a gap of two); a glued number out of sequence
    lost its space ("valid for10 years") and gets it back when the word before it occurs
    alone in the document. Superscript digits are the same characters under NFKC, one for
    one, so every quote still matches its source and every offset stays exact."""
    words = Counter(w.casefold() for w in re.findall(r"[^\W\d_]+", s.text))
    glued = Counter(w.casefold() for w in re.findall(r"([^\W\d_]+)\d", s.text))
    notes = {int(n) for n in re.findall(r"(?m)^(\d{1,3}) ", s.text)}
    spaced: set[int] = set()
    expected = 1

    def mark(m: re.Match[str]) -> str:
        nonlocal expected
        punct, digits = m.group(1), m.group(2)
        word = re.search(r"[^\W\d_]+$", m.string[max(0, m.start() - 40) : m.start()])
        if word is None or word.group(0).isupper() or glued[word.group(0).casefold()] > 1:
            return m.group(0)  # a name ("AS90") or an identifier ("item1 ... item9")
        number = int(digits)
        if number in notes and expected <= number <= expected + 2:  # a mark may be missed
            expected = number + 1
            return punct + digits.translate(_SUPERSCRIPT)
        if not punct and words[word.group(0).casefold()] >= 2:
            spaced.add(m.start())
        return m.group(0)

    s = s.sub(_GLUED_NUMBER, mark)
    if not spaced:
        return s
    return s.sub(re.compile(r"(?<=[^\W\d_])(?=\d)"), lambda m: " " if m.start() in spaced else "")


def _strip(s: _Stream) -> tuple[str, list[int]]:
    lead = len(s.text) - len(s.text.lstrip())
    end = len(s.text.rstrip())
    return s.text[lead:end], s.offsets[lead:end]


def _page_runs(
    offsets: list[int], raw_page_starts: list[int], labels: list[int]
) -> tuple[tuple[int, ...], tuple[int, ...]]:
    """Runs of clean offsets that come from the same raw page (footnotes moved to the end
    keep their own page)."""
    import numpy as np

    if not offsets:
        return (0,), (labels[0],)
    page_of = np.searchsorted(np.asarray(raw_page_starts), np.asarray(offsets), side="right") - 1
    change = np.flatnonzero(np.diff(page_of)) + 1
    starts = [0, *change.tolist()]
    return tuple(starts), tuple(labels[int(page_of[i])] for i in starts)
