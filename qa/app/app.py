"""Gradio app for briefings: cited answers, a source viewer, filters, a library, export.

A thin layer over `qa.api.QA`. All document text is HTML-escaped before display, and chat
messages escape Markdown: documents may contain markup or scripts, which show as text.
Named API endpoints for `gradio_client`: `/ask`, `/documents`, `/source`, `/upload`,
`/remove`.
"""

from __future__ import annotations

import html
import json
import tempfile
from pathlib import Path

import gradio as gr

from qa.api import QA, DocumentInfo
from qa.app.export import md_escape
from qa.config import Settings
from qa.documents import CHECKED, Answer, Document
from qa.errors import QAError
from qa.filters import Filters
from qa.ingest.language import language_name
from qa.ingest.loaders import SUPPORTED_SUFFIXES
from qa.references import pages, reference

EXAMPLES = [
    "How much did Sweden and Norway pledge to Ukraine?",
    "Which agreement is the only one to be registered with the United Nations?",
    "Do the agreements offer anything like NATO's Article 5?",
    "Thủ tướng Luxembourg ký thỏa thuận an ninh với Ukraine vào ngày nào?",
]

CSS = """
.cards { display: flex; flex-direction: column; gap: .6rem; }
.card { border: 1px solid var(--border-color-primary); border-radius: 8px; padding: .6rem .8rem;
        background: var(--background-fill-secondary); }
.card .ref { font-size: .85rem; color: var(--body-text-color-subdued); margin-bottom: .3rem; }
.card .num { font-weight: 700; margin-right: .3rem; color: var(--body-text-color); }
.card .lang { font-style: italic; }
.card .ctx { font-size: .92rem; line-height: 1.45; white-space: pre-wrap; overflow-wrap: anywhere; }
.card .actions { display: flex; gap: .4rem; margin-top: .45rem; flex-wrap: wrap; }
.card .actions button { font-size: .8rem; padding: .15rem .55rem; border-radius: 6px;
        border: 1px solid var(--border-color-primary); background: var(--background-fill-primary);
        color: var(--body-text-color); cursor: pointer; }
.card .actions button:hover { border-color: var(--color-accent); }
mark { background: #fde68a; color: #111; padding: 0 .1rem; border-radius: 2px; }
.abstain { font-style: italic; }
.filters-note { font-size: .85rem; color: var(--body-text-color-subdued); }
#source-view .doc { max-height: 70vh; overflow-y: auto; white-space: pre-wrap; line-height: 1.5;
        overflow-wrap: anywhere; padding: .6rem; border: 1px solid var(--border-color-primary);
        border-radius: 8px; font-size: .92rem; }
#source-view .passage { background: var(--color-accent-soft); }
#source-view .page { display: block; text-align: center; font-size: .8rem; margin: .6rem 0;
        color: var(--body-text-color-subdued); border-top: 1px dashed var(--border-color-primary); }
#source-view .head { font-size: .9rem; margin-bottom: .4rem; }
@media (max-width: 640px) { #chat { height: 55vh !important; } }
"""

# Clicks inside the cards: "View in source" asks the server for the document; "Copy" puts the
# formatted citation on the clipboard (with a fallback where the Clipboard API is missing).
CARDS_JS = """
element.addEventListener('click', async (e) => {
  const view = e.target.closest('[data-view]');
  if (view) { trigger('click', JSON.parse(view.dataset.view)); return; }
  const copy = e.target.closest('[data-copy]');
  if (!copy) return;
  const text = copy.dataset.copy;
  try { await navigator.clipboard.writeText(text); }
  catch (err) {
    const area = document.createElement('textarea');
    area.value = text; document.body.appendChild(area); area.select();
    document.execCommand('copy'); area.remove();
  }
  const label = copy.textContent; copy.textContent = 'Copied ✓';
  setTimeout(() => { copy.textContent = label; }, 1500);
});
"""

SCROLL_TO_CITED_JS = """
() => {
  let tries = 0;
  const go = () => {
    const m = document.querySelector('#source-view #cited');
    const doc = document.querySelector('#source-view .doc');
    if (m && doc) {  // scroll the document pane only, so the page keeps its place
      const top = m.getBoundingClientRect().top - doc.getBoundingClientRect().top;
      doc.scrollTop += top - doc.clientHeight / 3;
      return;
    }
    if (++tries < 40) setTimeout(go, 50);
  };
  setTimeout(go, 50);
}
"""


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


def cards_html(answer: Answer, context_chars: int = 280, show_scores: bool = False) -> str:
    """Citation cards: reference line, the quote highlighted in its passage, and buttons to
    open the source at that place or copy the quote with its reference."""
    docs = answer.documents
    out = ['<div class="cards">']
    if answer.abstained:
        out.append('<div class="abstain">No passage answers the question. Closest passages:</div>')
        for h in answer.hits[:3]:
            p = h.passage
            meta = docs.get(p.doc_id)
            title = meta.title if meta else p.doc_id
            score = f" · score {h.score:.2f}" if show_scores else ""
            view = _view_payload(p.doc_id, p.start, p.start, p.start, p.end)
            out.append(
                f'<div class="card"><div class="ref">{html.escape(title)}, p. '
                f"{p.page_start}{score}</div>"
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
        ref = ", ".join(html.escape(x) for x in (c.title, c.publisher, c.date) if x)
        ref += ", " + pages(c.page, c.page_end)
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
    out, cited_done = [], False
    for a, b in zip(cuts, cuts[1:], strict=False):
        if a in page_at and len(doc.page_starts) > 1:
            out.append(f'<span class="page">page {page_at[a]}</span>')
        piece = html.escape(text[a:b])
        if start <= a and b <= end and start < end:
            anchor = "" if cited_done else ' id="cited"'
            cited_done = True
            piece = f'<mark class="cited"{anchor}>{piece}</mark>'
        if p_start <= a and b <= p_end:
            piece = f'<span class="passage">{piece}</span>'
        out.append(piece)
    m = doc.meta
    pages = f"{len(doc.page_labels)} pages" if len(doc.page_labels) > 1 else "1 page"
    head = ", ".join(html.escape(x) for x in (m.title, m.publisher, m.date) if x)
    body = "".join(out)
    if not cited_done:  # a passage without a quote (abstained answer): scroll to its start
        body = body.replace('<span class="passage">', '<span class="passage" id="cited">', 1)
    return (
        f'<div class="head"><b>{head}</b> · {pages} · <code>{html.escape(doc.doc_id)}</code>'
        f'</div><div class="doc">{body}</div>'
    )


def library_rows(rows: list[DocumentInfo]) -> list[list]:
    return [
        [r.title, r.publisher or "", r.date or "", language_name(r.language or "und"), r.pages,
         r.passages, "uploaded" if r.uploaded else "corpus", r.doc_id]
        for r in rows
    ]  # fmt: skip


LIBRARY_HEADERS = ["Title", "Publisher", "Date", "Language", "Pages", "Passages", "From", "Id"]


def build_app(qa: QA) -> gr.Blocks:
    """The Blocks app; `serve()` launches it with the CSS and limits."""

    def filters_from(documents, publishers, languages, date_from, date_to) -> Filters:
        return Filters.of(documents, publishers, languages, date_from, date_to)

    def ask(
        question: str,
        k: int = 5,
        documents: list[str] | None = None,
        publishers: list[str] | None = None,
        languages: list[str] | None = None,
        date_from: str = "",
        date_to: str = "",
        answerer: str = "",
    ) -> dict:
        """Answer a question; returns the structured answer (same JSON as `qa ask --json`).
        Optional filters restrict the search to documents (ids), publishers, languages
        (ISO codes) and a date range (YYYY[-MM[-DD]]); `answerer` is extractive or llm
        (default: the server's setting)."""
        try:
            f = filters_from(documents, publishers, languages, date_from, date_to)
            return qa.ask(question, int(k) if k else None, f, answerer=answerer or None).to_dict()
        except QAError as exc:
            raise gr.Error(str(exc)) from None

    def list_documents() -> list[dict]:
        """The indexed documents with their metadata and page and passage counts."""
        from dataclasses import asdict

        return [asdict(r) for r in qa.library()]

    def source(doc_id: str) -> dict:
        """A document's cleaned text (the text citations' start/end point into), its
        metadata and where each page starts."""
        doc = qa.documents.get(doc_id)
        if doc is None:
            raise gr.Error(f"No document {doc_id!r} in the index.")
        from dataclasses import asdict

        return {
            "doc_id": doc.doc_id,
            "meta": asdict(doc.meta),
            "text": doc.text,
            "page_starts": list(doc.page_starts),
            "page_labels": list(doc.page_labels),
        }

    def remove(doc_id: str) -> dict:
        """Remove a document from the index (an uploaded file is deleted)."""
        try:
            report = qa.remove(doc_id)
        except QAError as exc:
            raise gr.Error(str(exc)) from None
        return {"removed": report.removed, "version": report.version}

    def upload_api(file: str) -> dict:
        """Index an uploaded file (PDF, TXT, MD, HTML); returns what was added."""
        if not file:
            raise gr.Error("No file received.")
        path = Path(file)
        try:
            report = qa.add_upload(path, path.name)
        except QAError as exc:
            raise gr.Error(str(exc)) from None
        return {
            "added": report.added + report.updated,
            "passages": report.embedded_passages,
            "seconds": round(report.seconds, 2),
            "version": report.version,
        }

    # --- UI callbacks ---

    def chat(question, history, answers, k, documents, publishers, languages, d_from, d_to,
             show_scores, answerer):  # fmt: skip
        """Yields while a language model writes (each checked sentence as it is accepted),
        once for the extractive answer."""
        history, answers = list(history or []), list(answers or [])
        if not (question or "").strip():
            gr.Warning("Type a question about the documents first.")
            yield history, gr.update(), question, answers, gr.update(), gr.update()
            return
        history.append({"role": "user", "content": md_escape(question[:2000])})
        try:
            f = filters_from(documents, publishers, languages, d_from, d_to)
            if answerer == "llm":
                answer = None
                for answer in qa.ask_stream(question, int(k), f):
                    if not answer.final:
                        partial = answer_markdown(answer) or "*Writing…*"
                        shown = [*history, {"role": "assistant", "content": partial}]
                        cards = cards_html(answer, show_scores=show_scores)
                        yield shown, cards, "", answers, gr.update(), gr.update()
            else:
                answer = qa.ask(question, int(k), f, answerer="extractive")
        except QAError as exc:
            history.append(
                {"role": "assistant", "content": f"**Not answered:** {md_escape(str(exc))}"}
            )
            yield history, gr.update(), "", answers, gr.update(), gr.update()
            return
        answers.append(answer)
        history.append({"role": "assistant", "content": answer_markdown(answer)})
        md, docx = _export(answers)
        yield (history, cards_html(answer, show_scores=show_scores), "", answers,
               gr.update(value=md, interactive=True), gr.update(value=docx, interactive=True))  # fmt: skip

    def rerender(answers, show_scores):
        return cards_html(answers[-1], show_scores=show_scores) if answers else gr.update()

    def view(evt: gr.EventData):
        data = evt._data or {}
        doc = qa.documents.get(str(data.get("doc")))
        if doc is None:
            gr.Warning("That document is no longer in the index.")
            return gr.update(), gr.update()
        n = len(doc.text)
        start, end, p_start, p_end = (
            min(max(int(data.get(key, 0)), 0), n) for key in ("start", "end", "pstart", "pend")
        )
        return source_html(doc, start, end, p_start, p_end), gr.Tabs(selected="source")

    def clear():
        return [], "<div class='cards'></div>", [], gr.update(value=None, interactive=False), \
            gr.update(value=None, interactive=False)  # fmt: skip

    def filter_choices():
        rows = qa.library()
        docs = [(r.title, r.doc_id) for r in rows]
        pubs = sorted({r.publisher for r in rows if r.publisher})
        langs = [(language_name(x), x) for x in sorted({r.language or "und" for r in rows})]
        return (gr.update(choices=docs), gr.update(choices=pubs), gr.update(choices=langs),
                gr.update(choices=docs, value=None), library_rows(rows))  # fmt: skip

    def upload_files(files, progress=gr.Progress()):  # noqa: B008 - how Gradio injects progress
        messages = []
        for file in files or []:
            path = Path(file if isinstance(file, str) else file.name)
            original = Path(getattr(file, "orig_name", None) or path.name).name
            progress(0, desc=f"Indexing {original}")

            def on_progress(done: int, total: int, name=original) -> None:
                progress((done, total), desc=f"Embedding {name}", unit="passages")

            try:
                report = qa.add_upload(path, original, on_progress)
                added = (report.added or report.updated)[0]
                messages.append(
                    f"**Indexed:** {md_escape(original)} as `{added}` "
                    f"({report.embedded_passages} passage{'s' if report.embedded_passages != 1 else ''}, "
                    f"{report.seconds:.1f} s)."
                )
            except QAError as exc:
                messages.append(f"**Not indexed:** {md_escape(original)}: {md_escape(str(exc))}")
        return ("\n\n".join(messages) or "No file received.", None, *filter_choices())

    def remove_selected(doc_id):
        if not doc_id:
            return "Pick a document to remove first.", *filter_choices()
        try:
            qa.remove(doc_id)
        except QAError as exc:
            return f"**Not removed:** {md_escape(str(exc))}", *filter_choices()
        return f"**Removed** `{doc_id}` from the index.", *filter_choices()

    with gr.Blocks(title="Ukraine security agreements — cited answers") as app:
        gr.Markdown(
            "## Ask the documents\nAnswers are sentences quoted from the sources, each with "
            "its citation. When the documents do not answer, the app says so."
        )
        answers = gr.State([])
        with gr.Tabs():
            with gr.Tab("Ask", id="ask"):
                with gr.Row(equal_height=False):
                    with gr.Column(scale=3, min_width=320):
                        chatbot = gr.Chatbot(label="Answers", height=460, elem_id="chat")
                        with gr.Row():
                            box = gr.Textbox(
                                placeholder="Ask a question…", show_label=False, scale=5,
                                elem_id="question", max_lines=4,
                            )  # fmt: skip
                            send = gr.Button("Ask", variant="primary", scale=1, elem_id="ask")
                        gr.Examples(EXAMPLES, inputs=box)
                        with gr.Accordion("Filters and display", open=False, elem_id="filters"):
                            f_docs = gr.Dropdown(
                                label="Documents", multiselect=True, elem_id="filter-docs"
                            )
                            with gr.Row():
                                f_pubs = gr.Dropdown(label="Publishers", multiselect=True)
                                f_langs = gr.CheckboxGroup(label="Languages")
                            with gr.Row():
                                d_from = gr.Textbox(label="Dated from", placeholder="YYYY-MM-DD")
                                d_to = gr.Textbox(label="Dated to", placeholder="YYYY-MM-DD")
                            with gr.Row():
                                k = gr.Slider(1, 20, value=qa.settings.top_k, step=1,
                                              label="Passages to retrieve")  # fmt: skip
                                show_scores = gr.Checkbox(label="Show scores", value=False)
                            answerer = gr.Radio(
                                [("Quoted sentences", "extractive"),
                                 ("Written by a language model, every sentence checked", "llm")],
                                value=qa.settings.answerer, label="Answer", elem_id="answerer",
                            )  # fmt: skip
                        with gr.Row():
                            dl_md = gr.DownloadButton("Export Markdown", interactive=False,
                                                      elem_id="export-md", size="sm")  # fmt: skip
                            dl_docx = gr.DownloadButton("Export Word", interactive=False,
                                                        elem_id="export-docx", size="sm")  # fmt: skip
                            clear_btn = gr.Button("Clear conversation", size="sm")
                    with gr.Column(scale=2, min_width=320):
                        with gr.Tabs(selected="citations") as side:
                            with gr.Tab("Citations", id="citations"):
                                cards = gr.HTML(
                                    "<div class='cards'></div>", elem_id="citations",
                                    js_on_load=CARDS_JS,
                                )  # fmt: skip
                            with gr.Tab("Source", id="source"):
                                viewer = gr.HTML(
                                    "<p>Click <b>View in source</b> on a citation to read it in "
                                    "its document.</p>",
                                    elem_id="source-view", js_on_load=None,
                                )  # fmt: skip
            with gr.Tab("Library", id="library"):
                gr.Markdown(
                    f"Upload {', '.join(SUPPORTED_SUFFIXES)} files (up to "
                    f"{qa.settings.max_file_mb:g} MB each); they are indexed at once and can "
                    "be asked about without a restart."
                )
                files = gr.File(
                    label="Upload documents", file_count="multiple",
                    file_types=list(SUPPORTED_SUFFIXES), elem_id="upload",
                )  # fmt: skip
                status = gr.Markdown(elem_id="library-status")
                table = gr.Dataframe(
                    headers=LIBRARY_HEADERS, interactive=False, elem_id="library", wrap=True,
                    column_widths=["30%", "14%", "9%", "9%", "6%", "8%", "8%", "16%"],
                )  # fmt: skip
                with gr.Row():
                    to_remove = gr.Dropdown(label="Remove a document", scale=4)
                    remove_btn = gr.Button("Remove", variant="stop", scale=1)

        inputs = [box, chatbot, answers, k, f_docs, f_pubs, f_langs, d_from, d_to, show_scores,
                  answerer]  # fmt: skip
        outputs = [chatbot, cards, box, answers, dl_md, dl_docx]
        send.click(chat, inputs, outputs, api_visibility="private")
        box.submit(chat, inputs, outputs, api_visibility="private")
        show_scores.change(rerender, [answers, show_scores], cards, api_visibility="private")
        cards.click(view, None, [viewer, side], api_visibility="private").then(
            None, js=SCROLL_TO_CITED_JS
        )
        clear_btn.click(clear, None, [chatbot, cards, answers, dl_md, dl_docx],
                        api_visibility="private")  # fmt: skip
        choice_outputs = [f_docs, f_pubs, f_langs, to_remove, table]
        files.upload(
            upload_files, files, [status, files, *choice_outputs], api_visibility="private"
        )
        remove_btn.click(
            remove_selected, to_remove, [status, *choice_outputs], api_visibility="private",
            js="(d) => (d && confirm('Remove this document from the index?')) ? d : null",
        )  # fmt: skip
        app.load(filter_choices, None, choice_outputs, api_visibility="private")
        gr.api(ask, api_name="ask")
        gr.api(list_documents, api_name="documents")
        gr.api(source, api_name="source")
        gr.api(remove, api_name="remove")
        api_file = gr.File(visible=False)  # a File component, so that clients can send files
        api_out = gr.JSON(visible=False)
        gr.Button(visible=False).click(upload_api, api_file, api_out, api_name="upload")
    return app


def _export(answers: list[Answer]) -> tuple[str, str]:
    """The conversation as Markdown and Word files, written afresh after every answer."""
    from qa.app.export import conversation_docx, conversation_markdown

    folder = Path(tempfile.mkdtemp(prefix="qa-export-"))
    md = folder / "cited-answers.md"
    md.write_text(conversation_markdown(answers), encoding="utf-8")
    docx = folder / "cited-answers.docx"
    conversation_docx(answers, docx)
    return str(md), str(docx)


LOOPBACK = {"127.0.0.1", "localhost", "::1"}


def exposure_warning(host: str, share: bool, auth: tuple[str, str] | None) -> str | None:
    """What to tell the user when the app is reachable beyond this machine without a login."""
    if auth is not None:
        return None
    if share:
        return (
            "Warning: --share publishes the app on a public gradio.live link without a login. "
            "Set QA_AUTH=user:password to require one."
        )
    if host not in LOOPBACK:
        return (
            f"Warning: serving on {host}, reachable from other machines, without a login. "
            "Set QA_AUTH=user:password to require one."
        )
    return None


def launch(qa: QA, host: str = "127.0.0.1", port: int = 7860, share: bool = False) -> None:
    """Serve the app for `qa` (whose index is built and model warm: see `qa serve`)."""
    app = build_app(qa)
    app.queue(default_concurrency_limit=4)
    app.launch(
        server_name=host,
        server_port=port,
        css=CSS,
        show_error=True,
        auth=login(qa.settings),
        max_file_size=int(qa.settings.max_file_mb * 1e6),
        share=share,
    )


def login(settings: Settings) -> tuple[str, str] | None:
    """The user and password that QA_AUTH sets ("user:password"), if any."""
    return tuple(settings.auth.split(":", 1)) if settings.auth else None  # type: ignore[return-value]
