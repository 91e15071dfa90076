"""Source file -> raw text with page boundaries, by suffix (.txt, .md, .rst, .html/.htm, .pdf).

Loaders decide nothing about content; they turn bytes into text and say exactly why when
they cannot (corrupt, encrypted, image-only, binary, undecodable).
"""

from __future__ import annotations

import codecs
import re
from dataclasses import dataclass, field
from html.parser import HTMLParser
from pathlib import Path
from typing import NamedTuple

from qa.errors import EmptyDocument, UnreadableFile, UnsupportedFile

# reStructuredText is read as plain text: its markup is light enough to quote as written
SUPPORTED_SUFFIXES = (".txt", ".md", ".markdown", ".rst", ".html", ".htm", ".pdf")

PAGE_BREAK = "\f"  # pages are joined with a form feed, as pdftotext does


class Heading(NamedTuple):
    """A heading the file declares: its level (1 outermost), its words, and for a PDF
    outline entry the index of its page (from 0)."""

    level: int
    text: str
    page: int | None = None


@dataclass(frozen=True)
class RawText:
    """Text as extracted. Pages are separated by form feeds; hints come from the file itself."""

    text: str
    encoding: str | None = None
    hints: dict[str, str] = field(default_factory=dict)  # e.g. title, language
    headings: tuple[Heading, ...] = ()  # in document order


def is_supported(path: Path) -> bool:
    return path.suffix.lower() in SUPPORTED_SUFFIXES


def load(path: Path, *, max_pdf_pages: int = 2000) -> RawText:
    """Read one file. Raises a DocumentError subclass whose message says what to do."""
    suffix = path.suffix.lower()
    if suffix not in SUPPORTED_SUFFIXES:
        raise UnsupportedFile(
            f"{path.name}: file type {suffix or '(none)'} is not supported; "
            f"use one of {', '.join(SUPPORTED_SUFFIXES)}."
        )
    data = path.read_bytes()
    if not data.strip():
        raise EmptyDocument(f"{path.name}: the file is empty; nothing to index.")
    if suffix == ".pdf":
        raw = _load_pdf(path, data, max_pdf_pages)
    else:
        text, encoding = decode_text(data, path.name)
        if suffix in (".html", ".htm"):
            raw = _from_html(text, encoding)
        elif suffix in (".md", ".markdown"):
            raw = _from_markdown(text, encoding)
        elif suffix == ".rst":
            raw = RawText(text, encoding, headings=_rst_headings(text))
        else:
            raw = RawText(text, encoding, headings=_text_headings(text))
    if not raw.text.strip():
        raise EmptyDocument(f"{path.name}: no text found in the file; nothing to index.")
    return raw


# --- text decoding -------------------------------------------------------------------

_BOMS = (
    (codecs.BOM_UTF32_LE, "utf-32"),
    (codecs.BOM_UTF32_BE, "utf-32"),
    (codecs.BOM_UTF8, "utf-8-sig"),
    (codecs.BOM_UTF16_LE, "utf-16"),
    (codecs.BOM_UTF16_BE, "utf-16"),
)


def decode_text(data: bytes, name: str) -> tuple[str, str]:
    """Decode bytes, returning (text, encoding). A byte-order mark wins, then UTF-8, then a
    detector (charset-normalizer) whose choice is reported; binary data is refused."""
    for bom, encoding in _BOMS:
        if data.startswith(bom):
            try:
                return _check_textual(data.decode(encoding), name), encoding
            except UnicodeDecodeError:
                raise UnreadableFile(
                    f"{name}: starts with a {encoding} byte-order mark but is not valid "
                    f"{encoding}; re-save it as UTF-8."
                ) from None
    if b"\x00" in data:
        raise UnreadableFile(
            f"{name}: looks like a binary file (it contains NUL bytes), not text; "
            "check that the file is what its name says."
        )
    try:
        return _check_textual(data.decode("utf-8"), name), "utf-8"
    except UnicodeDecodeError:
        pass
    from charset_normalizer import from_bytes

    best = from_bytes(data).best()
    # Short texts often fit several Latin code pages equally; prefer the commonest one,
    # Windows-1252, unless it reads clearly worse.
    western = from_bytes(data, cp_isolation=["cp1252"]).best()
    if western is not None and (best is None or western.chaos <= best.chaos + 0.1):
        best = western
    if best is None:
        raise UnreadableFile(
            f"{name}: the text encoding could not be recognised; re-save the file as UTF-8."
        )
    return _check_textual(str(best), name), best.encoding


def _check_textual(text: str, name: str) -> str:
    controls = sum(1 for ch in text if ord(ch) < 32 and ch not in "\n\r\t\f")
    if controls > max(8, len(text) // 100):
        raise UnreadableFile(
            f"{name}: looks like a binary file ({controls} control characters), not text; "
            "check that the file is what its name says."
        )
    return text


# --- HTML and Markdown ---------------------------------------------------------------

_BLOCK_TAGS = {
    "p",
    "div",
    "section",
    "article",
    "header",
    "footer",
    "li",
    "ul",
    "ol",
    "table",
    "tr",
    "h1",
    "h2",
    "h3",
    "h4",
    "h5",
    "h6",
    "blockquote",
    "pre",
    "figure",
    "figcaption",
    "main",
    "aside",
    "nav",
    "dd",
    "dt",
    "dl",
    "hr",
    "title",
}
_HEADING_TAGS = {"h1", "h2", "h3", "h4", "h5", "h6"}
_SKIPPED_TAGS = {"script", "style", "noscript", "template", "svg", "head"}
# The permalink marks documentation generators put after each heading (Sphinx's "¶"):
# on their own they are links, not text, and glued to a heading they would be quoted.
_ANCHOR_MARKS = {"¶", "§", "🔗"}


class _HTMLText(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self.skip_depth = 0
        self.title: list[str] = []
        self.in_title = False
        self.lang: str | None = None
        self.headings: list[Heading] = []
        self.heading: tuple[int, int] | None = None  # (level, index in parts) while in one

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "html":
            self.lang = dict(attrs).get("lang") or None
        if tag == "title":
            self.in_title = True
        elif tag in _SKIPPED_TAGS:
            self.skip_depth += 1
        elif tag == "br":
            self.parts.append("\n")
        elif tag in _BLOCK_TAGS:
            self.parts.append("\n\n")
            if tag in _HEADING_TAGS and not self.skip_depth:
                self.heading = (int(tag[1]), len(self.parts))

    def handle_endtag(self, tag: str) -> None:
        if tag == "title":
            self.in_title = False
        elif tag in _SKIPPED_TAGS:
            self.skip_depth = max(0, self.skip_depth - 1)
        elif tag in _BLOCK_TAGS:
            if tag in _HEADING_TAGS and self.heading:
                level, at = self.heading
                if text := " ".join("".join(self.parts[at:]).split()):
                    self.headings.append(Heading(level, text))
                self.heading = None
            self.parts.append("\n\n")

    def handle_data(self, data: str) -> None:
        if self.in_title:
            self.title.append(data)
        elif not self.skip_depth and data.strip() not in _ANCHOR_MARKS:
            self.parts.append(data)


def _from_html(html: str, encoding: str) -> RawText:
    parser = _HTMLText()
    parser.feed(html)
    parser.close()
    text = re.sub(r"[ \t]*\n[ \t\n]*\n[ \t]*", "\n\n", "".join(parser.parts))
    hints = {}
    if title := " ".join("".join(parser.title).split()):
        hints["title"] = title
    if parser.lang:
        hints["language"] = parser.lang.split("-")[0].lower()
    return RawText(text.strip(), encoding, hints, tuple(parser.headings))


_MD_IMAGE = re.compile(r"!\[([^\]]*)\]\([^)]*\)")
_MD_FENCE = re.compile(r"^(```|~~~).*?^\1[^\n]*$", re.S | re.M)  # a fenced code block
_MD_CODE = re.compile(_MD_FENCE.pattern + r"|`[^`\n]+`", re.S | re.M)  # ... or inline code
# Raw HTML that Markdown allows inline (READMEs are full of it): tags of HTML's own
# vocabulary only, so that "List<String>" or "<your-token>" in prose stay as written.
_HTML_NAMES = (
    "a|abbr|b|blockquote|br|center|code|dd|del|details|div|dl|dt|em|figcaption|figure|"
    "h[1-6]|hr|i|img|ins|kbd|li|mark|ol|p|picture|pre|s|small|source|span|strong|sub|"
    "summary|sup|table|tbody|td|tfoot|th|thead|tr|u|ul"
)
_HTML_BREAK = re.compile(r"<br\s*/?>", re.I)
_HTML_BLOCK = re.compile(
    r"</?(?:blockquote|center|details|div|dl|figure|h[1-6]|hr|li|ol|p|pre|summary|table|"
    r"tbody|tfoot|thead|tr|ul)\b[^<>]*>",
    re.I,
)
_HTML_TAG = re.compile(rf"</?(?:{_HTML_NAMES})\b[^<>]*>", re.I)
_HTML_COMMENT = re.compile(r"<!--.*?-->", re.S)


def _drop_html(md: str) -> str:
    """Markdown without its inline HTML tags (their words kept), except in code."""
    out, at = [], 0
    for code in _MD_CODE.finditer(md):
        out.append(_drop_tags(md[at : code.start()]))
        out.append(code.group(0))
        at = code.end()
    out.append(_drop_tags(md[at:]))
    return "".join(out)


def _drop_tags(text: str) -> str:
    text = _HTML_COMMENT.sub("", text)
    text = _HTML_BREAK.sub("\n", text)
    text = _HTML_BLOCK.sub("\n\n", text)
    text = _HTML_TAG.sub("", text)
    return re.sub(r"\n{3,}", "\n\n", text)


_MD_HEADING = re.compile(r"^#{1,6}\s+", re.M)
_MD_HEADING_LINE = re.compile(r"^(#{1,6})[ \t]+(.+?)(?:[ \t]+#+)?[ \t]*$", re.M)
# "Title" over a line of "=" (level 1) or "-" (level 2), after a blank line or the start
_MD_SETEXT = re.compile(
    r"(?:(?<=\n\n)|(?<=\A))[ ]{0,3}([^\s#>*+|-][^\n]*?)[ \t]*\n[ ]{0,3}(=+|-+)[ \t]*$", re.M
)
_MD_BOLD = re.compile(r"(\*\*|__)(.+?)\1")
# A link reference definition ("[v1.0]: https://...") declares where a [v1.0] link points;
# the page shows nothing of it. Footnotes ("[^1]: ...") are text and stay.
_MD_LINK_DEFINITION = re.compile(
    r"^ {0,3}\[(?!\^)[^\]\n]+\]:[ \t]*<?\S+>?(?:[ \t]+(?:\"[^\"\n]*\"|'[^'\n]*'|\([^)\n]*\)))?[ \t]*\n?",
    re.M,
)
_MD_FRONT_MATTER = re.compile(r"\A---[ \t]*\n(.*?)\n(?:---|\.\.\.)[ \t]*\n", re.S)
_DATE_FORMATS = ("%Y-%m-%d", "%d %B %Y", "%B %d, %Y", "%d %b %Y", "%b %d, %Y", "%Y-%m", "%Y")


def _iso_date(value) -> str | None:
    """A front-matter date as ISO 8601 ("11 August 2017" -> "2017-08-11"), or None."""
    from datetime import date, datetime

    if isinstance(value, date):
        return value.isoformat()[:10]
    text = str(value).strip()
    for form in _DATE_FORMATS:
        try:
            parsed = datetime.strptime(text, form)
        except ValueError:
            continue
        return parsed.strftime(form if form in ("%Y", "%Y-%m") else "%Y-%m-%d")  # as precise
    return None


def _names(value) -> list[str]:
    """Names as front matter lists them: a string, a list of strings, or of {name: ...}."""
    items = value if isinstance(value, list) else [value]
    out = []
    for item in items:
        name = item.get("name") if isinstance(item, dict) else item
        if isinstance(name, str) and name.strip():
            out.append(name.strip())
    return out


def _front_matter(block: str) -> tuple[dict[str, str], str]:
    """What YAML front matter (Jekyll, Hugo, MkDocs pages, JOSS papers) says of the document:
    its title, date and language as metadata, and the lines a reader reads at the top of the
    page -- the title, the authors, their affiliations, the date -- without the keys,
    identifiers and build settings beside them."""
    import yaml

    try:
        data = yaml.safe_load(block)
    except yaml.YAMLError:
        return {}, ""
    if not isinstance(data, dict):
        return {}, ""
    hints: dict[str, str] = {}
    lines = []
    title = data.get("title")
    if isinstance(title, str) and title.strip():
        hints["title"] = " ".join(title.split())
        lines.append(hints["title"])
    for key in ("subtitle", "description"):
        if isinstance(data.get(key), str) and data[key].strip():
            lines.append(data[key].strip())
    for key in ("authors", "author", "affiliations"):
        if names := _names(data.get(key)):
            lines.append(", ".join(names))
    if "date" in data and (day := _iso_date(data["date"])):
        hints["date"] = day
        lines.append(str(data["date"]).strip())
    language = data.get("lang") or data.get("language")
    if isinstance(language, str) and re.fullmatch(r"[a-zA-Z]{2}(?:[-_]\w+)?", language):
        hints["language"] = language[:2].lower()
    return hints, "\n\n".join(lines)


def _from_markdown(md: str, encoding: str) -> RawText:
    """Markdown is read as it is written, which is how it is meant to be read: a sentence
    keeps its links and emphasis, so that its quote is found in the file (of 322 evidence
    quotes written from Markdown files in eval/, 55 carry them and none drops them). What is
    dropped is what no sentence holds: # marks, link definitions, inline HTML tags, an
    image's target (its alt text stays). Front matter gives the title and date, and its
    title, authors and date are read as the page shows them."""
    hints, head = {}, ""
    if m := _MD_FRONT_MATTER.match(md):
        hints, head = _front_matter(m.group(1))
        md = (head + "\n\n" if head else "") + md[m.end() :]
    md = _MD_LINK_DEFINITION.sub("", _drop_html(md))
    if "title" not in hints and (m := re.search(r"^#\s+(.+)$", md, re.M)):
        hints["title"] = m.group(1).strip()
    md = _MD_IMAGE.sub(r"\1", md)
    fences = [m.span() for m in _MD_FENCE.finditer(md)]
    found = [(m.start(), len(m.group(1)), m.group(2)) for m in _MD_HEADING_LINE.finditer(md)] + [
        (m.start(), 1 if m.group(2)[0] == "=" else 2, m.group(1)) for m in _MD_SETEXT.finditer(md)
    ]
    headings = tuple(
        Heading(level, _MD_BOLD.sub(r"\2", words).strip())
        for at, level, words in sorted(found)
        if not any(a <= at < b for a, b in fences)  # "# comment" in a code block
    )
    text = _MD_HEADING.sub("", md)
    return RawText(text, encoding, hints, headings)


_RST_ADORNMENT = re.compile(r"([!-/:-@\[-`{-~])\1{2,}[ \t]*")


def _rst_headings(text: str) -> tuple[Heading, ...]:
    """reStructuredText section titles: a line underlined (and perhaps overlined) with one
    punctuation character at least as long as it. Levels come from the order in which the
    document first uses each style, as docutils reads them."""
    return tuple(Heading(level, title) for _, level, title in _rst_titles(text.split("\n")))


def _rst_titles(lines: list[str]) -> list[tuple[int, int, str]]:
    """(line number, level, title) of each reStructuredText section title in `lines`."""
    styles: list[tuple[str, bool]] = []
    out = []
    for i in range(len(lines) - 1):
        title, under = lines[i].strip(), lines[i + 1].rstrip()
        if not title or _RST_ADORNMENT.fullmatch(title) or not _RST_ADORNMENT.fullmatch(under):
            continue
        if len(under.strip()) < len(title) or lines[i][:1].isspace():
            continue
        over = i > 0 and lines[i - 1].rstrip() == under
        style = (under[0], over)
        if style not in styles:
            styles.append(style)
        out.append((i, styles.index(style) + 1, title))
    return out


# A version number ("1.1.8", "v2.0") or a year: what an entry of a change log or a news file
# is headed by.
_VERSION_OR_YEAR = re.compile(r"(?<![\w.])v?\d+\.\d+(?:\.\d+)*(?![\w.])|\b(?:19|20)\d\d\b")
ENTRY_WORDS = 8  # an entry's heading is short...
MIN_ENTRIES = 3  # ...and one of a series written alike


def _text_headings(text: str) -> tuple[Heading, ...]:
    """The headings of a plain text: titles underlined as reStructuredText writes them, and
    the lines that head the entries of a dated record -- a change log's "2024-07-04 Version
    1.1.8", "Version 2.0.13 - September 2, 2019", "* Release 0.19.1 (13 Mar 2025)" -- one
    level below those titles. Under its entry, "Add ARC signing" is read as a change of
    version 0.6.0 of 2017-01-23, which the line itself does not say."""
    lines = text.split("\n")
    titles = _rst_titles(lines)
    taken = {i for i, _, _ in titles} | {i + 1 for i, _, _ in titles}
    below = max((level for _, level, _ in titles), default=0) + 1
    entries = [(i, below, line) for i, line in _entry_lines(lines) if i not in taken]
    return tuple(Heading(level, title) for _, level, title in sorted(titles + entries))


def _entry_lines(lines: list[str]) -> list[tuple[int, str]]:
    """(line number, line) of each line that heads an entry: at the margin after a blank
    line, at most ENTRY_WORDS words with a version number or a year, not ending as a
    sentence or a lead-in does, and of the same shape (its first two words, digits aside)
    as at least MIN_ENTRIES - 1 others, each line of the series its own. A lone dated line
    (a letter's date) is not a series, nor is a page's running head, the same line on
    every page: neither says what the text below it is about."""
    series: dict[str, list[tuple[int, str]]] = {}
    for i, line in enumerate(lines):
        words = line.split()
        if not words or line[:1].isspace() or (i and lines[i - 1].strip()):
            continue
        if len(words) > ENTRY_WORDS or line.rstrip()[-1] in ".,;:!?":
            continue
        if not _VERSION_OR_YEAR.search(line):
            continue
        shape = " ".join(re.sub(r"\d+", "0", w.casefold()) for w in words[:2])
        series.setdefault(shape, []).append((i, line.strip()))
    return sorted(
        entry
        for found in series.values()
        if len(found) >= MIN_ENTRIES and len({line for _, line in found}) == len(found)
        for entry in found
    )


# --- PDF -----------------------------------------------------------------------------


def _load_pdf(path: Path, data: bytes, max_pages: int) -> RawText:
    import io
    import logging

    from pypdf import PdfReader

    logging.getLogger("pypdf").setLevel(logging.ERROR)  # malformed-but-readable PDFs are common
    name = path.name
    if not data.lstrip().startswith(b"%PDF"):
        raise UnreadableFile(f"{name}: not a PDF file (no %PDF header); check the file.")
    try:
        reader = PdfReader(io.BytesIO(data))
        if reader.is_encrypted:
            try:
                unlocked = reader.decrypt("")
            except Exception:  # pypdf raises several types for unsupported crypto
                unlocked = 0
            if not unlocked:
                raise UnreadableFile(
                    f"{name}: the PDF is password-protected; save an unprotected copy "
                    "(e.g. `qpdf --decrypt`) and index that."
                )
        n_pages = len(reader.pages)
        if n_pages == 0:
            raise EmptyDocument(f"{name}: the PDF has no pages; nothing to index.")
        if n_pages > max_pages:
            raise UnreadableFile(
                f"{name}: {n_pages} pages is more than the limit of {max_pages}; "
                "raise QA_MAX_PDF_PAGES or split the file."
            )
        pages = []
        for number, page in enumerate(reader.pages, start=1):
            try:
                pages.append(page.extract_text() or "")
            except Exception as exc:  # a third-party parser on untrusted input: any error
                raise UnreadableFile(
                    f"{name}: text extraction failed on page {number} ({type(exc).__name__}: "
                    f"{str(exc)[:200]}); re-export or repair the PDF (e.g. `qpdf in.pdf "
                    "out.pdf`) and index it again."
                ) from exc
        title = (reader.metadata or {}).get("/Title") if reader.metadata else None
        headings = _outline(reader)
    except (UnreadableFile, EmptyDocument):
        raise
    except Exception as exc:  # pypdf raises many types on malformed files; none may escape
        raise UnreadableFile(
            f"{name}: the PDF is damaged and could not be read ({type(exc).__name__}: "
            f"{str(exc)[:200]}); re-export or repair it (e.g. `qpdf in.pdf out.pdf`)."
        ) from exc
    if not any(p.strip() for p in pages):
        raise EmptyDocument(
            f"{name}: the PDF has no extractable text ({n_pages} pages); it is probably "
            "scanned images and needs OCR first (e.g. `ocrmypdf in.pdf out.pdf`)."
        )
    hints = {"title": str(title).strip()} if title and str(title).strip() else {}
    text = PAGE_BREAK.join(p.replace(PAGE_BREAK, "\n") for p in pages)
    return RawText(text, None, hints, headings)


def _outline(reader) -> tuple[Heading, ...]:
    """The PDF's outline (its bookmarks: what a viewer's sidebar shows), flattened in order
    with each entry's depth and page. A damaged or missing outline gives none."""
    out: list[Heading] = []

    def walk(items, level: int) -> None:
        for item in items:
            if isinstance(item, list):
                walk(item, level + 1)
                continue
            try:
                page = reader.get_destination_page_number(item)
            except Exception:  # a third-party parser on untrusted input: any error
                page = None
            title = " ".join(str(getattr(item, "title", "") or "").split())
            if title and page is not None and page >= 0:
                out.append(Heading(level, title, page))

    try:
        walk(reader.outline, 1)
    except Exception:  # an outline that does not parse is no reason to refuse the text
        return ()
    return tuple(out)
