"""What the app shows, as HTML and Markdown: the answer, citation cards, the source viewer,
the library table; and its static CSS and JS (qa/app/static/). All document text is
HTML-escaped, and chat messages escape Markdown: documents may contain markup or scripts,
which show as text."""

from __future__ import annotations

import html
import json
from pathlib import Path

from qa.api import DocumentInfo
from qa.app.export import md_escape
from qa.documents import CHECKED, NO_PAGE, Answer, Document
from qa.ingest.language import language_name
from qa.references import pages, reference

STATIC = Path(__file__).parent / "static"


def static_text(name: str) -> str:
    """A file of qa/app/static/ (shipped as package data)."""
    return (STATIC / name).read_text(encoding="utf-8")


CSS = static_text("app.css")
# Clicks inside the cards: "View in source" asks the server for the document; "Copy" puts
# the formatted citation on the clipboard.
CARDS_JS = static_text("cards.js")
SCROLL_TO_CITED_JS = static_text("scroll-to-cited.js")
FOCUS_CITATION_JS = static_text("focus-citation.js")


def _theme():
    """Gradio's default look in the system's own fonts: the bundled Source Sans Pro subset
    lacks most glyphs of its semibold weight, so bold headings and buttons mixed fonts."""
    import gradio as gr

    system = ["system-ui", "-apple-system", "Segoe UI", "Roboto", "Noto Sans", "Liberation Sans"]
    mono = ["ui-monospace", "SFMono-Regular", "Menlo", "Consolas", "Liberation Mono"]
    theme = gr.themes.Default(
        primary_hue="blue", font=[*system, "sans-serif"], font_mono=[*mono, "monospace"]
    )
    # Contrast of at least 4.5:1 (WCAG AA) for text on the accent, subdued text (the default
    # grey is 1.8:1 on white) and the red Remove button, in light and dark; axe checks it.
    return theme.set(
        color_accent="*primary_600",
        button_primary_background_fill="*primary_700",
        button_primary_background_fill_hover="*primary_800",
        button_primary_background_fill_dark="*primary_700",
        button_primary_background_fill_hover_dark="*primary_800",
        button_primary_text_color="white",
        button_primary_text_color_dark="white",
        button_cancel_background_fill="#b91c1c",
        button_cancel_background_fill_hover="#991b1b",
        button_cancel_background_fill_dark="#b91c1c",
        button_cancel_background_fill_hover_dark="#991b1b",
        button_cancel_text_color="white",
        button_cancel_text_color_dark="white",
        body_text_color_subdued="*neutral_600",
        body_text_color_subdued_dark="*neutral_400",
    )


THEME = _theme()


def answer_markdown(answer: Answer) -> str:
    """The chat message: each sentence with its [n]; a sentence a language model wrote says
    it was generated and checked against the cited passage (quotes are verbatim)."""
    if answer.abstained:
        why = f" ({md_escape(answer.abstain_reason)})" if answer.abstain_reason else ""
        text = f"*{md_escape(answer.answer)}*{why} The closest passages are shown beside."
    else:
        parts = []
        for sentence in answer.shown_sentences():
            marks = " ".join(f"**[{n}]**" for n in sentence.citations)
            badge = " <sub>*generated, checked*</sub>" if sentence.kind == CHECKED else ""
            parts.append(f"{md_escape(sentence.text)} {marks}{badge}")
        text = " ".join(parts)
    if (sure := answer.calibrated_confidence) is not None:
        text += f"\n\n<sub>Confidence {sure:.2f} that this answer is right.</sub>"
    if answer.notice:
        text += f"\n\n*{md_escape(answer.notice)}*"
    for d in answer.disagreements:  # side by side, never one picked silently
        figures = "; ".join(
            f"**{md_escape(f.value)}** ({reference(f, text=md_escape)})" for f in d.figures
        )
        text += f"\n\n**Sources disagree** on {md_escape(d.subject)}: {figures}"
    if answer.filters is not None:
        titles = {d: m.title for d, m in answer.documents.items()}
        text += f"\n\n*Searched only {md_escape(answer.filters.describe(titles))}.*"
    return text


def _view_payload(doc_id: str, start: int, end: int, p_start: int, p_end: int) -> str:
    return html.escape(
        json.dumps({"doc": doc_id, "start": start, "end": end, "pstart": p_start, "pend": p_end}),
        quote=True,
    )


def cards_html(
    answer: Answer, context_chars: int = 280, show_scores: bool = False, number: int = 0
) -> str:
    """Citation cards: reference line, the quote highlighted in its passage, and buttons to
    open the source at that place or copy the quote with its reference. `number` (from 1)
    heads the cards with the answer they belong to, so that they are never read as another
    answer's."""
    docs = answer.documents
    out = [f'<div class="cards" data-answer="{number}">']
    if number:
        out.append(
            f'<p class="for">Citations of answer {number}: '
            f"<q>{html.escape(answer.question[:300])}</q></p>"
        )
    if answer.abstained:
        out.append('<div class="abstain">No passage answers the question. Closest passages:</div>')
        for h in answer.hits[:3]:
            p = h.passage
            meta = docs.get(p.doc_id)
            named = (meta.title, meta.publisher, meta.date) if meta else (p.doc_id,)
            score = f" · score {h.score:.2f}" if show_scores else ""
            view = _view_payload(p.doc_id, p.start, p.start, p.start, p.end)
            parts = [html.escape(x) for x in named if x] + [pages(p.page_start, p.page_end)]
            where = ", ".join(x for x in parts if x)
            out.append(
                f'<div class="card"><div class="ref">{where}{score}</div>'
                f'<div class="ctx">{html.escape(p.text[:600])}{"…" if len(p.text) > 600 else ""}'
                f'</div><div class="actions"><button data-view="{view}">View in source</button>'
                "</div></div>"
            )
    for c in answer.citations:
        hit = next((h for h in answer.hits if h.passage.passage_id == c.passage_id), None)
        text, a, b, p_start, p_end = c.quote, 0, len(c.quote), c.start, c.end
        if hit is not None:
            text, p_start, p_end = hit.passage.text, hit.passage.start, hit.passage.end
            a, b = c.start - hit.passage.start, c.end - hit.passage.start
        before = text[max(0, a - context_chars) : a]
        after = text[b : b + context_chars]
        parts = [html.escape(x) for x in (c.title, c.publisher, c.date) if x]
        ref = ", ".join([*parts, pages(c.page, c.page_end)] if c.page != NO_PAGE else parts)
        if c.section:  # the headings the answer states before the quote
            ref += f' · <span class="section">§ {html.escape(c.section)}</span>'
        if c.language != answer.language:  # shown as written: no machine translation
            ref += f' · <span class="lang">in {html.escape(language_name(c.language))}</span>'
        if show_scores:
            ref += f" · score {c.score:.2f}"
        link = (
            f' · <a href="{html.escape(c.url, quote=True)}" target="_blank" rel="noopener">source</a>'
            if c.url and c.url.startswith(("http://", "https://"))
            else ""
        )
        copy_text = f"“{c.quote}” — {reference(c)}"
        view = _view_payload(c.document, c.start, c.end, p_start, p_end)
        out.append(
            f'<div class="card" id="cite-{c.n}"><div class="ref"><span class="num">[{c.n}]</span>'
            f"{ref}{link}</div>"
            f'<div class="ctx">{"…" if a > context_chars else ""}{html.escape(before)}'
            f"<mark>{html.escape(c.quote)}</mark>{html.escape(after)}"
            f"{'…' if b + context_chars < len(text) else ''}</div>"
            f'<div class="actions"><button data-view="{view}">View in source</button>'
            f'<button data-copy="{html.escape(copy_text, quote=True)}">Copy citation</button>'
            "</div></div>"
        )
    out.append("</div>")
    return "".join(out)


def source_html(doc: Document, start: int, end: int, p_start: int, p_end: int) -> str:
    """The whole cleaned document, page markers between pages, the cited passage shaded and
    the quote marked (`id="cited"` on its first part, for scrolling)."""
    text = doc.text
    cuts = sorted({0, len(text), *doc.page_starts, start, end, p_start, p_end} - {None})
    cuts = [x for x in cuts if 0 <= x <= len(text)]
    page_at = dict(zip(doc.page_starts, doc.page_labels, strict=True))
    out, cited_done, seen = [], False, set()
    for a, b in zip(cuts, cuts[1:], strict=False):
        if a in page_at and len(doc.page_starts) > 1:
            # footnotes moved after the body keep their page: marked as its notes, so that
            # no page marker is written twice
            label = page_at[a]
            name = f"page {label}, footnotes" if label in seen else f"page {label}"
            seen.add(label)
            out.append(f'<span class="page">{name}</span>')
        piece = html.escape(text[a:b])
        if start <= a and b <= end and start < end:
            anchor = "" if cited_done else ' id="cited"'
            cited_done = True
            piece = f'<mark class="cited"{anchor}>{piece}</mark>'
        if p_start <= a and b <= p_end:
            piece = f'<span class="passage">{piece}</span>'
        out.append(piece)
    m = doc.meta
    n_pages = len(set(doc.page_labels))
    count = f"{n_pages} pages" if n_pages > 1 else "1 page"
    if doc.page_labels == (NO_PAGE,):
        count = "no pages"
    head = ", ".join(html.escape(x) for x in (m.title, m.publisher, m.date) if x)
    body = "".join(out)
    if not cited_done:  # a passage without a quote (abstained answer): scroll to its start
        body = body.replace('<span class="passage">', '<span class="passage" id="cited">', 1)
    return (
        f'<div class="head"><b>{head}</b> · {count} · <code>{html.escape(doc.doc_id)}</code>'
        f'</div><div class="doc" tabindex="0" role="region" aria-label="Document text">{body}</div>'
    )


LIBRARY_HEADERS = ["Title", "Publisher", "Date", "Language", "Pages", "Passages", "From", "Id"]


def library_rows(rows: list[DocumentInfo]) -> list[list]:
    return [
        [
            r.title,
            r.publisher or "",
            r.date or "",
            language_name(r.language or "und"),
            r.pages or "–",
            r.passages,
            "uploaded" if r.uploaded else "corpus",
            r.doc_id,
        ]
        for r in rows
    ]


def library_html(rows: list[DocumentInfo]) -> str:
    """The library as a table; each cell carries its header (`data-label`) so that a phone
    shows every document as a card of labelled lines (app.css) instead of a squeezed table."""
    head = "".join(f'<th scope="col">{h}</th>' for h in LIBRARY_HEADERS)
    body = []
    for row in library_rows(rows):
        cells = "".join(
            f'<td data-label="{h}">{html.escape(str(v))}</td>'
            for h, v in zip(LIBRARY_HEADERS, row, strict=True)
        )
        body.append(f"<tr>{cells}</tr>")
    if not body:
        body.append(f'<tr><td colspan="{len(LIBRARY_HEADERS)}">No documents yet.</td></tr>')
    return (
        '<table class="library"><caption>Indexed documents</caption>'
        f"<thead><tr>{head}</tr></thead><tbody>{''.join(body)}</tbody></table>"
    )


def collection_html(rows: list[DocumentInfo]) -> str:
    """What the collection holds, for the first screen: how many documents, in which
    languages, from when, and their titles; and what the pane will show."""
    if not rows:
        return (
            '<div class="cards"><div class="about"><p>The index holds no documents yet: '
            "add some in the <b>Library</b> tab.</p></div></div>"
        )
    langs = {}
    for r in rows:
        name = language_name(r.language or "und")
        langs[name] = langs.get(name, 0) + 1
    languages = ", ".join(f"{name} ({n})" for name, n in sorted(langs.items()))
    dates = sorted(r.date for r in rows if r.date)
    when = ""
    if dates:
        when = f", dated {dates[0]}" + (f" to {dates[-1]}" if dates[-1] != dates[0] else "")
    items = "".join(
        "<li>" + ", ".join(html.escape(x) for x in (r.title, r.publisher, r.date) if x) + "</li>"
        for r in rows
    )
    plural = "s" if len(rows) != 1 else ""
    return (
        '<div class="cards"><div class="about">'
        f"<p><b>{len(rows)} document{plural}</b> in {html.escape(languages)}{when}:</p>"
        f"<ul>{items}</ul>"
        "<p>Each answer's citations show here: the quote in its passage, its page, and a link "
        "to read it in the source. Click an earlier answer, or its [n], to see its citations "
        "again.</p></div></div>"
    )


def notice_html(text: str) -> str:
    """The pane when a question got no answer: what happened, and no stale cards."""
    return f'<div class="cards"><div class="notice" role="status">{html.escape(text)}</div></div>'
