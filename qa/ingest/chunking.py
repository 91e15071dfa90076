"""Document -> passages: whole sentences packed up to a token budget, with sentence overlap.

Passages never cut a sentence unless one sentence alone exceeds the budget (then it is cut
at word boundaries). Every passage is an exact slice of the document text.
"""

from __future__ import annotations

import bisect
import re
from collections.abc import Callable
from itertools import pairwise

from qa.documents import Document, Passage
from qa.ingest.language import detect_language
from qa.ingest.sentences import split_sentences

TokenCounter = Callable[[str], int]


def approximate_tokens(text: str) -> int:
    """Word-piece estimate for when no tokenizer is at hand (about 1.3 pieces per word)."""
    return int(len(text.split()) * 1.3) + 1


def _split_long(text: str, start: int, end: int, budget: int, count: TokenCounter):
    """Cut an over-long sentence into word-boundary pieces within the budget (linear time:
    tokens are counted per word). A single "word" over the budget (a URL, a base64 blob, a
    line without spaces) is cut between characters."""
    words: list[tuple[int, int, int]] = []  # (start, end, tokens)
    for m in re.finditer(r"\S+", text[start:end]):
        a, b = start + m.start(), start + m.end()
        n = count(text[a:b])
        if n <= budget:
            words.append((a, b, n))
            continue
        step = max(1, (b - a) * budget // (2 * n))  # about half the budget per piece
        for x in range(a, b, step):
            y = min(x + step, b)
            words.append((x, y, count(text[x:y])))
    piece_start, used = 0, 0
    for k, (_, _, n) in enumerate(words):
        if k > piece_start and used + n > budget:
            yield words[piece_start][0], words[k - 1][1]
            piece_start, used = k, 0
        used += n
    if words:
        yield words[piece_start][0], words[-1][1]


def chunk_document(
    doc: Document,
    max_tokens: int = 200,
    overlap: int = 1,
    count_tokens: TokenCounter = approximate_tokens,
) -> list[Passage]:
    """Pack the document's sentences into passages of at most `max_tokens` tokens. A passage
    stays in the section it starts in: it ends before a heading of the same or a shallower
    level (a changelog's next version), once it holds more than headings, and the next one
    starts there, without overlap; a section's subsections may share its passage. A heading
    is a unit of its own, never glued to a sentence."""
    units: list[tuple[int, int, int]] = []  # (start, end, tokens)
    for a, b in _split_at_headings(split_sentences(doc.text), doc):
        n = count_tokens(doc.text[a:b])
        if n <= max_tokens:
            units.append((a, b, n))
        else:
            units.extend(
                (x, y, count_tokens(doc.text[x:y]))
                for x, y in _split_long(doc.text, a, b, max_tokens, count_tokens)
            )
    heading_level = {start: level for start, _, level in doc.sections}
    heading_starts = [start for start, _, _ in doc.sections]
    floor = _floor(doc)
    passages: list[Passage] = []
    i = 0
    while i < len(units):
        k = bisect.bisect_right(heading_starts, units[i][0]) - 1  # the heading it is under
        base = max(doc.sections[k][2] if k >= 0 else 0, floor)
        j, total, body = i, 0, False
        while j < len(units) and (j == i or total + units[j][2] <= max_tokens):
            level = heading_level.get(units[j][0])
            if j > i and body and level is not None and level <= base:
                break  # the next section of this level or a shallower one
            body = body or level is None
            total += units[j][2]
            j += 1
        passages.append(_passage(doc, [(a, b) for a, b, _ in units[i:j]]))
        if j >= len(units):
            break
        if units[j][0] in heading_level:
            i = j  # a section starts afresh
        else:
            i = max(j - overlap, i + 1)  # step back `overlap` sentences, but always move on
    return passages


def _floor(doc: Document) -> int:
    """The shallowest level that divides the document: a lone top heading (the title) holds
    everything, so its sections are the next level's."""
    levels = sorted(level for _, _, level in doc.sections)
    if not levels:
        return 0
    if len(levels) > 1 and levels[0] < levels[1]:
        return levels[1]
    return levels[0]


def _split_at_headings(spans: list[tuple[int, int]], doc: Document) -> list[tuple[int, int]]:
    """Sentence spans cut where a heading starts or ends, so that a heading line the sentence
    splitter joined to its neighbours becomes a unit of its own."""
    if not doc.sections:
        return spans
    cuts = sorted({x for start, end, _ in doc.sections for x in (start, end)})
    out = []
    for a, b in spans:
        k = bisect.bisect_right(cuts, a)
        edges = [a]
        while k < len(cuts) and cuts[k] < b:
            edges.append(cuts[k])
            k += 1
        edges.append(b)
        for x, y in pairwise(edges):
            piece = doc.text[x:y]
            x2, y2 = x + len(piece) - len(piece.lstrip()), y - len(piece) + len(piece.rstrip())
            if x2 < y2:
                out.append((x2, y2))
    return out


def _passage(doc: Document, units: list[tuple[int, int]]) -> Passage:
    start, end = units[0][0], units[-1][1]
    return Passage(
        passage_id=f"{doc.doc_id}#{start}-{end}",
        doc_id=doc.doc_id,
        start=start,
        end=end,
        page_start=doc.page_at(start),
        page_end=doc.page_at(end - 1),
        text=doc.text[start:end],
        sentences=tuple((a - start, b - start) for a, b in units),
        language=detect_language(doc.text[start:end]),
    )
