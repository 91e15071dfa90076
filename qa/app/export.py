"""A conversation's answers as a briefing document: Markdown or Word, every quote a footnote.

Users paste cited passages into briefings; an export keeps each quote tied to its source
(title, publisher, date, page, URL) as a footnote, numbered across the whole conversation.
Document text is escaped: a quote containing `*`, `[`, backticks or `<script>` is shown as
written, never interpreted.
"""

from __future__ import annotations

import html
import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

from qa.documents import Answer
from qa.ingest.language import language_name
from qa.references import Cited, reference

TITLE = "Questions and answers from the documents"


@dataclass(frozen=True)
class Note:
    """One footnote: the quoted sentence and where it comes from."""

    k: int  # footnote number, unique across the conversation
    quote: str
    source: Cited  # a Citation, or a Figure of "Sources disagree"
    language: str | None  # the quote's language when it is not the question's


@dataclass(frozen=True)
class Entry:
    """One question and its answer, split at the footnote markers."""

    question: str
    abstained: bool
    message: str  # the abstention message (and why), when abstained
    parts: tuple[tuple[str, int | None], ...]  # answer text, then the footnote after it
    notes: tuple[Note, ...]
    disagreements: tuple[tuple[str, tuple[tuple[str, int], ...]], ...]  # subject, (value, k)


def entries(answers: Sequence[Answer]) -> list[Entry]:
    """The conversation with footnotes numbered 1, 2, ... across all answers. A citation
    quoted twice in one answer keeps one footnote; a figure of "Sources disagree" that the
    answer quotes points to the same footnote."""
    out = []
    k = 0
    for a in answers:
        if a.abstained:
            why = f" ({a.abstain_reason})" if a.abstain_reason else ""
            out.append(Entry(a.question, True, a.answer + why, (), (), ()))
            continue
        notes: list[Note] = []
        number: dict[int, int] = {}  # citation n -> footnote k
        for c in a.citations:
            k += 1
            number[c.n] = k
            notes.append(Note(k, c.quote, c, _foreign(c.language, a.language)))
        parts = [(text, number.get(n) if n is not None else None) for text, n in _split(a)]
        disagreements = []
        for d in a.disagreements:
            figures = []
            for f in d.figures:
                if f.n is not None and f.n in number:
                    figures.append((f.value, number[f.n]))
                    continue
                k += 1
                notes.append(Note(k, f.quote, f, _foreign(f.language, a.language)))
                figures.append((f.value, k))
            disagreements.append((d.subject, tuple(figures)))
        out.append(Entry(a.question, False, "", tuple(parts), tuple(notes), tuple(disagreements)))
    return out


def _foreign(quote_language: str, question_language: str) -> str | None:
    if quote_language in (question_language, "und") or question_language == "und":
        return None
    return language_name(quote_language)


def _split(answer: Answer) -> list[tuple[str, int | None]]:
    """The answer text cut after each `[n]` marker that follows its citation's quote; a
    bracketed number inside a quote (a document's own footnote) stays text."""
    by_n = {c.n: c for c in answer.citations}
    text = answer.answer
    out: list[tuple[str, int | None]] = []
    pos = 0
    for m in re.finditer(r" ?\[(\d+)\]", text):
        c = by_n.get(int(m.group(1)))
        if c is None or m.start() < pos or not text[pos : m.start()].endswith(c.quote):
            continue
        out.append((text[pos : m.start()], c.n))
        pos = m.end()
    out.append((text[pos:], None))
    return [(t, n) for t, n in out if t.strip() or n is not None]


def _stamp(index_version: str | None, exported_at: datetime | None) -> str:
    when = (exported_at or datetime.now(timezone.utc)).strftime("%Y-%m-%d %H:%M %Z").strip()
    return f"Exported {when}" + (f" from index {index_version}" if index_version else "")


def _version(answers: Sequence[Answer], index_version: str | None) -> str | None:
    return index_version or next((a.index_version for a in answers if a.index_version), None)


# --- Markdown ---------------------------------------------------------------------------

# What Markdown reads as syntax inside a line: emphasis, code, links (a "(" is a link's only
# after "]", which is escaped), strikethrough, math and table cells. Other punctuation is left
# as written, so that an exported file reads cleanly as plain text too.
_MD_SPECIAL = re.compile(r"([\\`*_\[\]~$|])")


def md_escape(text: str) -> str:
    """Text shown literally in Markdown: one line, HTML and Markdown syntax escaped."""
    text = " ".join(text.split())
    text = _MD_SPECIAL.sub(r"\\\1", text)
    text = html.escape(text, quote=False)
    # no heading, list, rule or quote block at the start of the line
    text = re.sub(r"^([-=>#+])", r"\\\1", text)
    return re.sub(r"^(\d+)([.)])", r"\1\\\2", text)  # "1\. item": a number, not a list


def _md_link(url: str) -> str:
    if re.fullmatch(r"https?://[^\s<>\"'`]+", url):
        return f"<{url}>"
    return md_escape(url)


def _md_note(note: Note) -> str:
    ref = reference(note.source, text=md_escape, link=_md_link)
    lang = f" (in {md_escape(note.language)})" if note.language else ""
    return f"[^{note.k}]: “{md_escape(note.quote)}” — {ref}{lang}"


def conversation_markdown(
    answers: Sequence[Answer],
    *,
    index_version: str | None = None,
    exported_at: datetime | None = None,
) -> str:
    """The questions and answers as Markdown: a heading per question, the answer with
    footnote references `[^k]`, then the footnotes `[^k]: “quote” — Title, Publisher,
    Date, p. N, URL`. An abstained answer says so, without footnotes."""
    lines = [f"# {TITLE}", "", md_escape(_stamp(_version(answers, index_version), exported_at))]
    for i, e in enumerate(entries(answers), start=1):
        lines += ["", f"## {i}. {md_escape(e.question)}", ""]
        if e.abstained:
            lines.append(f"*{md_escape(e.message)}*")
            continue
        lines.append(
            "".join(md_escape(t.strip()) + (f"[^{k}] " if k else "") for t, k in e.parts).strip()
        )
        for subject, figures in e.disagreements:
            lines += ["", f"**Sources disagree on {md_escape(subject)}:**", ""]
            lines += [f"- {md_escape(value)}[^{k}]" for value, k in figures]
        lines.append("")
        lines += [_md_note(n) for n in e.notes]
    sources = cited_sources(answers)
    if sources:
        lines += ["", "## Sources", ""]
        lines += [f"- {_md_source(x)}" for x in sources]
    return "\n".join(lines).rstrip() + "\n"


def cited_sources(answers: Sequence[Answer]) -> list[Cited]:
    """Each document the answers cite, once, in order of first citation: the source list
    that closes a briefing."""
    seen: dict[str, Cited] = {}
    for a in answers:
        if a.abstained:
            continue
        for c in a.citations:
            seen.setdefault(c.document, c)
        for d in a.disagreements:
            for f in d.figures:
                seen.setdefault(f.document, f)
    return list(seen.values())


def _source_line(c: Cited, text=str, link=str) -> str:
    parts = [text(c.title)] + [text(x) for x in (c.publisher, c.date) if x]
    return ", ".join(parts + ([link(c.url)] if c.url else []))


def _md_source(c: Cited) -> str:
    return _source_line(c, md_escape, _md_link)


def export_name(answers: Sequence[Answer], today: datetime | None = None) -> str:
    """A file name from the date and the first question: 2026-11-29-how-much-did-sweden-pledge.
    Letters of any script are kept; anything else becomes a dash."""
    day = (today or datetime.now(timezone.utc)).strftime("%Y-%m-%d")
    first = answers[0].question if answers else ""
    words = re.sub(r"[^\w]+", "-", first.casefold()).strip("-_").split("-")
    slug = "-".join(words[:8])[:60].strip("-")
    return f"{day}-{slug}" if slug else f"{day}-cited-answers"


# --- Word -------------------------------------------------------------------------------

_XML_INVALID = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")


def _xml_text(text: str) -> str:
    """Text Word can store: control characters (form feeds from PDFs) become spaces."""
    return " ".join(_XML_INVALID.sub(" ", text).split())


def _note_text(note: Note) -> str:
    lang = f" (in {note.language})" if note.language else ""
    return _xml_text(f"“{note.quote}” — {reference(note.source)}{lang}")


def conversation_docx(
    answers: Sequence[Answer],
    path: str | Path,
    *,
    index_version: str | None = None,
    exported_at: datetime | None = None,
) -> Path:
    """The same content as `conversation_markdown`, as a Word document whose quotes are real
    Word footnotes (python-docx has no footnote API: the footnotes part is written here)."""
    import docx
    from docx.enum.style import WD_STYLE_TYPE
    from docx.shared import Pt

    document = docx.Document()
    styles = document.styles
    text_style = styles.add_style("Footnote Text", WD_STYLE_TYPE.PARAGRAPH)
    text_style.base_style = styles["Normal"]
    text_style.font.size = Pt(9)
    text_style.paragraph_format.space_after = Pt(0)
    ref_style = styles.add_style("Footnote Reference", WD_STYLE_TYPE.CHARACTER)
    ref_style.font.superscript = True

    document.core_properties.title = TITLE
    document.add_heading(TITLE, level=0)
    document.add_paragraph(_stamp(_version(answers, index_version), exported_at))
    footnotes = _Footnotes(document)
    for i, e in enumerate(entries(answers), start=1):
        document.add_heading(_xml_text(f"{i}. {e.question}"), level=1)
        if e.abstained:
            document.add_paragraph().add_run(_xml_text(e.message)).italic = True
            continue
        paragraph = document.add_paragraph()
        for j, (text, k) in enumerate(e.parts):
            paragraph.add_run(_xml_text(text) if j == 0 else f" {_xml_text(text)}")
            if k:
                footnotes.reference(paragraph, k)
        for subject, figures in e.disagreements:
            document.add_paragraph().add_run(
                _xml_text(f"Sources disagree on {subject}:")
            ).bold = True
            for value, k in figures:
                item = document.add_paragraph(style="List Bullet")
                item.add_run(_xml_text(value))
                footnotes.reference(item, k)
        for note in e.notes:
            footnotes.add(note.k, _note_text(note))
    sources = cited_sources(answers)
    if sources:
        document.add_heading("Sources", level=1)
        for c in sources:
            document.add_paragraph(_xml_text(_source_line(c)), style="List Bullet")
    path = Path(path)
    document.save(str(path))
    return path


class _Footnotes:
    """The document's footnotes part (word/footnotes.xml), created on first use, plus the
    separator footnotes Word expects and their declaration in settings.xml."""

    def __init__(self, document) -> None:
        from docx.opc.constants import CONTENT_TYPE as CT
        from docx.opc.constants import RELATIONSHIP_TYPE as RT
        from docx.opc.packuri import PackURI
        from docx.opc.part import XmlPart
        from docx.oxml import parse_xml
        from docx.oxml.ns import nsdecls, qn

        self._qn = qn
        root = parse_xml(
            f"<w:footnotes {nsdecls('w', 'r')}>"
            '<w:footnote w:type="separator" w:id="-1"><w:p><w:pPr><w:spacing w:after="0" '
            'w:line="240" w:lineRule="auto"/></w:pPr><w:r><w:separator/></w:r></w:p>'
            "</w:footnote>"
            '<w:footnote w:type="continuationSeparator" w:id="0"><w:p><w:pPr><w:spacing '
            'w:after="0" w:line="240" w:lineRule="auto"/></w:pPr><w:r>'
            "<w:continuationSeparator/></w:r></w:p></w:footnote>"
            "</w:footnotes>"
        )
        part = XmlPart(
            PackURI("/word/footnotes.xml"), CT.WML_FOOTNOTES, root, document.part.package
        )
        document.part.relate_to(part, RT.FOOTNOTES)
        self._root = root
        settings = document.settings.element
        declared = parse_xml(
            f'<w:footnotePr {nsdecls("w")}><w:footnote w:id="-1"/><w:footnote w:id="0"/>'
            "</w:footnotePr>"
        )
        successor = next(
            (
                settings.find(qn(t))
                for t in ("w:endnotePr", "w:compat", "w:docVars", "w:rsids")
                if settings.find(qn(t)) is not None
            ),
            None,
        )
        if successor is not None:
            successor.addprevious(declared)
        else:
            settings.append(declared)

    def reference(self, paragraph, k: int) -> None:
        """A superscript footnote mark in the text, pointing to footnote k."""
        from docx.oxml import OxmlElement

        run = paragraph.add_run(style="Footnote Reference")
        ref = OxmlElement("w:footnoteReference")
        ref.set(self._qn("w:id"), str(k))
        run._r.append(ref)

    def add(self, k: int, text: str) -> None:
        from docx.oxml import parse_xml
        from docx.oxml.ns import nsdecls

        note = parse_xml(
            f'<w:footnote {nsdecls("w")} w:id="{k}"><w:p><w:pPr><w:pStyle '
            'w:val="FootnoteText"/></w:pPr><w:r><w:rPr><w:rStyle w:val="FootnoteReference"/>'
            '</w:rPr><w:footnoteRef/></w:r><w:r><w:t xml:space="preserve"> </w:t></w:r>'
            "</w:p></w:footnote>"
        )
        note.findall(f".//{self._qn('w:t')}")[0].text = f" {text}"
        self._root.append(note)
