"""How a cited source is written for a reader: one form for the CLI, exports and the app."""

from __future__ import annotations

from collections.abc import Callable
from typing import Protocol

from qa.documents import NO_PAGE


class Cited(Protocol):
    """What a reference needs: a Citation has it, and so does a disagreement's Figure."""

    title: str
    publisher: str | None
    date: str | None
    url: str | None
    page: int
    page_end: int


def pages(page: int, page_end: int) -> str:
    """ "p. 3", "pp. 3–4", or "" for a source without pages (NO_PAGE)."""
    if page == NO_PAGE:
        return ""
    return f"p. {page}" if page == page_end else f"pp. {page}–{page_end}"


def reference(
    c: Cited,
    *,
    text: Callable[[str], str] = str,
    link: Callable[[str], str] = str,
) -> str:
    """Title, publisher, date, p. N (pp. N–M), § section, URL: the form a briefing footnote
    takes; the parts that are unknown are left out (the section is a citation's headings,
    when its answer states them). `text` and `link` escape the parts for the output
    format (Markdown, HTML), so that every format words a reference alike."""
    parts = [text(c.title)]
    parts += [text(x) for x in (c.publisher, c.date) if x]
    if c.page != NO_PAGE:
        parts.append(pages(c.page, c.page_end))
    if section := getattr(c, "section", ""):
        parts.append(f"§ {text(section)}")
    if c.url:
        parts.append(link(c.url))
    return ", ".join(parts)
