"""Gradio app for briefings: cited answers, a source viewer, filters, a library, export.

A thin layer over `qa.api.QA`. All document text is HTML-escaped before display, and chat
messages escape Markdown: documents may contain markup or scripts, which show as text.
Named API endpoints for `gradio_client`: `/ask`, `/documents`, `/source`, `/upload`,
`/describe`, `/remove`. Served beyond this machine without a login, the library is read-only.
"""

from __future__ import annotations

import tempfile
from pathlib import Path
from types import SimpleNamespace

import gradio as gr

from qa.api import QA
from qa.app.export import md_escape
from qa.app.hosts import LOOPBACK, HostCheck, served_hosts
from qa.app.views import (
    CARDS_JS,
    CSS,
    FOCUS_CITATION_JS,
    SCROLL_TO_CITED_JS,
    THEME,
    answer_markdown,
    cards_html,
    collection_html,
    library_html,
    notice_html,
    source_html,
)
from qa.config import Settings
from qa.documents import Answer
from qa.errors import QAError
from qa.filters import Filters
from qa.ingest.language import language_name
from qa.ingest.loaders import SUPPORTED_SUFFIXES


def filters_from(documents, publishers, languages, date_from, date_to) -> Filters:
    return Filters.of(documents, publishers, languages, date_from, date_to)


def llm_configured(settings: Settings) -> bool:
    """Whether a language model server is set up: only then is its answerer offered."""
    return bool(settings.llm_model) or settings.answerer == "llm"


def _collection(qa: QA) -> str:
    """The first screen's summary of the collection (empty until an index is built)."""
    try:
        return collection_html(qa.library())
    except QAError:
        return collection_html([])


def _ask_tab(qa: QA) -> SimpleNamespace:
    """The Ask tab's components: the conversation, examples, filters and exports, and beside
    them the citation cards and the source viewer. On a phone the cards follow the question
    box (app.css reorders the column), so that an answer's citations are next to it."""
    with gr.Row(equal_height=False, elem_id="main-row"):
        with gr.Column(scale=3, min_width=320, elem_id="conversation"):
            chatbot = gr.Chatbot(
                label="Answers",
                height=460,
                elem_id="chat",
                buttons=["copy", "copy_all"],  # no "share": that posts to Hugging Face
                placeholder="Answers appear here, each sentence quoted from a document with its "
                "[n]. Click an answer or its [n] to see its citations.",
            )
            with gr.Row(elem_id="ask-row"):
                box = gr.Textbox(
                    placeholder="Ask a question…",
                    label="Question",
                    show_label=False,
                    scale=5,
                    elem_id="question",
                    max_lines=4,
                )
                send = gr.Button("Ask", variant="primary", scale=1, elem_id="ask")
            examples = []
            if qa.settings.example_questions:
                with gr.Column(elem_id="examples"):
                    gr.Markdown("Try one of these (it is asked at once):")
                    for q in qa.settings.example_questions:
                        examples.append((q, gr.Button(q, size="sm", elem_classes="example")))
            with gr.Accordion("Filters and display", open=False, elem_id="filters"):
                f_docs = gr.Dropdown(label="Documents", multiselect=True, elem_id="filter-docs")
                with gr.Row():
                    f_pubs = gr.Dropdown(label="Publishers", multiselect=True)
                    f_langs = gr.CheckboxGroup(label="Languages")
                with gr.Row():
                    d_from = gr.Textbox(label="Dated from", placeholder="YYYY-MM-DD")
                    d_to = gr.Textbox(label="Dated to", placeholder="YYYY-MM-DD")
                with gr.Row():
                    k = gr.Slider(
                        1,
                        20,
                        value=qa.settings.top_k,
                        step=1,
                        label="Passages to retrieve",
                    )
                    show_scores = gr.Checkbox(label="Show scores", value=False)
                if llm_configured(qa.settings):
                    answerer = gr.Radio(
                        [
                            ("Quoted sentences", "extractive"),
                            ("Written by a language model, every sentence checked", "llm"),
                        ],
                        value=qa.settings.answerer,
                        label="Answer",
                        elem_id="answerer",
                    )
                else:  # no model server configured: quoted sentences only
                    answerer = gr.State("extractive")
            with gr.Column(elem_id="export"):
                pick = gr.CheckboxGroup(
                    label="Answers to export", elem_id="export-pick", choices=[], value=[]
                )
                with gr.Row():
                    dl_md = gr.DownloadButton(
                        "Export Markdown", interactive=False, elem_id="export-md", size="sm"
                    )
                    dl_docx = gr.DownloadButton(
                        "Export Word", interactive=False, elem_id="export-docx", size="sm"
                    )
                    clear_btn = gr.Button("Clear conversation", size="sm", elem_id="clear")
        with gr.Column(scale=2, min_width=320, elem_id="side"):
            with gr.Tabs(selected="citations") as side:
                with gr.Tab("Citations", id="citations"):
                    cards = gr.HTML(
                        _collection(qa),
                        elem_id="citations",
                        js_on_load=CARDS_JS,
                    )
                with gr.Tab("Source", id="source"):
                    viewer = gr.HTML(
                        "<p>Click <b>View in source</b> on a citation to read it in "
                        "its document.</p>",
                        elem_id="source-view",
                        js_on_load=None,
                    )
    return SimpleNamespace(
        chatbot=chatbot,
        box=box,
        send=send,
        examples=examples,
        f_docs=f_docs,
        f_pubs=f_pubs,
        f_langs=f_langs,
        d_from=d_from,
        d_to=d_to,
        k=k,
        show_scores=show_scores,
        answerer=answerer,
        pick=pick,
        dl_md=dl_md,
        dl_docx=dl_docx,
        clear_btn=clear_btn,
        side=side,
        cards=cards,
        viewer=viewer,
    )


READ_ONLY = (
    "The library is read-only: this app is served beyond this machine without a login. "
    "Set QA_AUTH=user:password and restart it to upload or remove documents."
)


def _library_tab(qa: QA, read_only: bool) -> SimpleNamespace:
    """The Library tab's components: upload, the table of documents, removal (disabled when
    the library is read-only)."""
    if read_only:
        gr.Markdown(f"**{READ_ONLY}**", elem_id="read-only")
    else:
        gr.Markdown(
            f"Upload {', '.join(SUPPORTED_SUFFIXES)} files (up to "
            f"{qa.settings.max_file_mb:g} MB each); they are indexed at once and can "
            "be asked about without a restart."
        )
    # no file_types: a refused type gets its own status from the server, naming the file
    files = gr.UploadButton(
        "Upload documents",
        file_count="multiple",
        elem_id="upload",
        interactive=not read_only,
    )
    status = gr.Markdown(elem_id="library-status")
    table = gr.HTML(library_html([]), elem_id="library")
    with gr.Accordion("Describe an uploaded document for citing", open=False, elem_id="describe"):
        to_edit = gr.Dropdown(label="Uploaded document", interactive=not read_only)
        with gr.Row():
            e_title = gr.Textbox(label="Title", interactive=not read_only, elem_id="edit-title")
            e_publisher = gr.Textbox(label="Publisher", interactive=not read_only)
        with gr.Row():
            e_date = gr.Textbox(label="Date", placeholder="YYYY-MM-DD", interactive=not read_only)
            e_url = gr.Textbox(label="URL", placeholder="https://…", interactive=not read_only)
        save_btn = gr.Button("Save details", interactive=not read_only, elem_id="save-details")
    with gr.Row():
        to_remove = gr.Dropdown(label="Remove a document", scale=4, interactive=not read_only)
        remove_btn = gr.Button(
            "Remove", variant="stop", scale=1, interactive=not read_only, elem_id="remove"
        )
    return SimpleNamespace(
        files=files,
        status=status,
        table=table,
        to_edit=to_edit,
        fields=[e_title, e_publisher, e_date, e_url],
        save_btn=save_btn,
        to_remove=to_remove,
        remove_btn=remove_btn,
    )


def _add_api(app: gr.Blocks, qa: QA, read_only: bool) -> None:
    """The named endpoints for `gradio_client` (inside the Blocks being built); `/upload`
    and `/remove` refuse when the library is read-only."""

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
        if read_only:
            raise gr.Error(READ_ONLY)
        try:
            report = qa.remove(doc_id)
        except QAError as exc:
            raise gr.Error(str(exc)) from None
        return {"removed": report.removed, "version": report.version}

    def describe(
        doc_id: str, title: str, publisher: str = "", date: str = "", url: str = ""
    ) -> dict:
        """Set an uploaded document's title, publisher, date and URL for its citations; it is
        re-indexed with them."""
        if read_only:
            raise gr.Error(READ_ONLY)
        try:
            report = qa.edit_metadata(doc_id, title=title, publisher=publisher, date=date, url=url)
        except QAError as exc:
            raise gr.Error(str(exc)) from None
        return {"updated": report.updated, "version": report.version}

    def upload_api(file: str) -> dict:
        """Index an uploaded file (PDF, TXT, MD, HTML); returns what was added."""
        if read_only:
            raise gr.Error(READ_ONLY)
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

    for fn, name in (
        (ask, "ask"),
        (list_documents, "documents"),
        (source, "source"),
        (remove, "remove"),
        (describe, "describe"),
    ):
        _document_endpoint(app, gr.api(fn, api_name=name), name)
    api_file = gr.File(visible=False, label="file")  # a File component: clients can send files
    api_out = gr.JSON(visible=False)
    upload = gr.Button(visible=False).click(upload_api, api_file, api_out, api_name="upload")
    _document_endpoint(app, upload, "upload")


def _schema(fields: str) -> dict:
    """A JSON schema for an object from "name:type, ..." (str, int, float, bool, list, dict;
    a trailing ? means it may be null), so that view_api() names each field and its type."""
    kinds = {"str": "string", "int": "integer", "float": "number", "bool": "boolean"}
    props = {}
    for field in fields.split(","):
        name, kind = (x.strip() for x in field.split(":"))
        base = kinds.get(kind.rstrip("?"))
        if kind.rstrip("?") == "list":
            props[name] = {"type": "array", "items": {"type": "object"}}
        elif kind.rstrip("?") == "dict":
            props[name] = {"type": "object"}
        else:
            nullable = {"anyOf": [{"type": base}, {"type": "null"}]}
            props[name] = nullable if kind.endswith("?") else {"type": base}
    return {"type": "object", "properties": props}


CITATION = _schema(
    "n: int, document: str, title: str, publisher: str?, date: str?, url: str?, page: int, "
    "page_end: int, quote: str, start: int, end: int, score: float, passage_id: str, "
    "language: str"
)
DOCUMENT = _schema(
    "doc_id: str, title: str, publisher: str?, date: str?, language: str?, url: str?, "
    "kind: str?, pages: int, passages: int, characters: int, uploaded: bool"
)
# For each endpoint: what each parameter means, and what it returns (with its shape).
API_DOCS: dict[str, tuple[dict[str, str], str, dict]] = {
    "ask": (
        {
            "question": "the question, 1 to QA_MAX_QUESTION_CHARS characters",
            "k": "how many passages to retrieve (1-20)",
            "documents": "restrict to these document ids (from /documents); empty: all",
            "publishers": "restrict to these publishers; empty: all",
            "languages": "restrict to documents in these ISO 639-1 languages, e.g. ['vi']",
            "date_from": "only documents dated from YYYY, YYYY-MM or YYYY-MM-DD; '' for none",
            "date_to": "only documents dated up to YYYY, YYYY-MM or YYYY-MM-DD; '' for none",
            "answerer": "'extractive' (quoted sentences) or 'llm'; '' for the server's default",
        },
        "the answer as `qa ask --json` prints it: quoted sentences with [n] markers, and "
        "citations[n] whose quote is document text[start:end]; page 0 means a source without "
        "pages",
        {
            "type": "object",
            "properties": {
                **_schema(
                    "question: str, answer: str, abstained: bool, abstain_reason: str?, "
                    "language: str, margin: float?, confidence: float?, answerable: float?, "
                    "index_version: str?, "
                    "filters: dict, disagreements: list, passages: list"
                )["properties"],
                "citations": {"type": "array", "items": CITATION},
            },
        },
    ),
    "documents": (
        {},
        "every indexed document with its metadata",
        {"type": "array", "items": DOCUMENT},
    ),
    "source": (
        {"doc_id": "a document id, as /documents lists it"},
        "the document's cleaned text (citations' start/end index it), metadata, and where each "
        "page starts (page_starts[i] begins page page_labels[i])",
        {
            "type": "object",
            "properties": {
                **_schema("doc_id: str, text: str, meta: dict")["properties"],
                "page_starts": {"type": "array", "items": {"type": "integer"}},
                "page_labels": {"type": "array", "items": {"type": "integer"}},
            },
        },
    ),
    "remove": (
        {"doc_id": "the id of the document to take out of the index"},
        "the ids removed and the new index version",
        {
            "type": "object",
            "properties": {
                "removed": {"type": "array", "items": {"type": "string"}},
                "version": {"type": "string"},
            },
        },
    ),
    "describe": (
        {
            "doc_id": "an uploaded document's id (from /documents, uploaded true)",
            "title": "the title citations give",
            "publisher": "who published it; '' for none",
            "date": "YYYY, YYYY-MM or YYYY-MM-DD; '' for none",
            "url": "an http:// or https:// address; '' for none",
        },
        "the ids re-indexed with the new details and the new index version",
        {
            "type": "object",
            "properties": {
                "updated": {"type": "array", "items": {"type": "string"}},
                "version": {"type": "string"},
            },
        },
    ),
    "upload": (
        {"file": "a PDF, TXT, MD, RST or HTML file: handle_file(path)"},
        "the document ids added, passages embedded, seconds taken and the new index version",
        {
            "type": "object",
            "properties": {
                "added": {"type": "array", "items": {"type": "string"}},
                **_schema("passages: int, seconds: float, version: str")["properties"],
            },
        },
    ),
}


def _document_endpoint(app: gr.Blocks, dependency: dict, name: str) -> None:
    """Give an endpoint's inputs and output the descriptions and shapes of API_DOCS, which
    `Client.view_api()` and the app's API page show (Gradio's own are "the 1st Api component"
    and Any for a dict)."""
    params, returns, shape = API_DOCS[name]
    for block_id, (param, text) in zip(dependency["inputs"], params.items(), strict=True):
        block = app.blocks[block_id]
        block.label = param
        if hasattr(block, "_api_info"):
            block._api_info = {**block._api_info, "additional_description": text}
        else:  # the File of /upload: Gradio's file schema, with what to send
            schema = block.api_info_as_input()
            block.api_info_as_input = lambda s=schema, t=text: {**s, "additional_description": t}
    (out_id,) = dependency["outputs"]
    out = app.blocks[out_id]
    out.label = "answer" if name == "ask" else name
    out.api_info = lambda: {**shape, "description": returns}  # type: ignore[method-assign]
    if hasattr(out, "_api_info"):
        out._api_info = {**shape, "description": returns}


def _ui_callbacks(qa: QA, read_only: bool) -> SimpleNamespace:
    """What the UI's events do (not part of the named API); library changes refuse when the
    library is read-only, whatever a client sends.

    The conversation's state: `answers` (the Answers given, in order), `owners` (for each
    chat message, the number of the answer it belongs to, 0 for none) and `shown` (the
    number of the answer whose cards the pane shows), so that clicking any message brings
    back its own answer's cards and never another's."""

    def chat(
        question,
        history,
        answers,
        owners,
        chosen,
        k,
        documents,
        publishers,
        languages,
        d_from,
        d_to,
        show_scores,
        answerer,
    ):
        """Yields while a language model writes (each checked sentence as it is accepted),
        once for the extractive answer. A question that is refused clears the cards of the
        answer before: the pane says why instead."""
        history, answers, owners = list(history or []), list(answers or []), list(owners or [])
        keep = (gr.update(),) * 4  # shown, export buttons and choice: unchanged
        if not (question or "").strip():
            gr.Warning("Type a question about the documents first.")
            yield history, gr.update(), question, answers, owners, *keep
            return
        number = len(answers) + 1
        history.append({"role": "user", "content": md_escape(question[:2000])})
        try:
            f = filters_from(documents, publishers, languages, d_from, d_to)
            if answerer == "llm":
                answer = None
                for answer in qa.ask_stream(question, int(k), f):
                    if not answer.final:
                        partial = answer_markdown(answer) or "*Writing…*"
                        shown = [*history, {"role": "assistant", "content": partial}]
                        cards = cards_html(answer, show_scores=show_scores, number=number)
                        yield shown, cards, "", answers, owners, *keep
            else:
                answer = qa.ask(question, int(k), f, answerer="extractive")
        except QAError as exc:
            history.append(
                {"role": "assistant", "content": f"**Not answered:** {md_escape(str(exc))}"}
            )
            owners += [0, 0]
            note = notice_html(f"Not answered: {exc} No citations to show.")
            yield history, note, "", answers, owners, 0, gr.update(), gr.update(), gr.update()
            return
        answers.append(answer)
        owners += [number, number]
        history.append({"role": "assistant", "content": answer_markdown(answer)})
        chosen = [*(chosen or []), number]
        yield (
            history,
            cards_html(answer, show_scores=show_scores, number=number),
            "",
            answers,
            owners,
            number,
            *_export_updates(answers, chosen),
        )

    def rerender(answers, shown, show_scores):
        if not answers or not shown:
            return gr.update()
        return cards_html(answers[shown - 1], show_scores=show_scores, number=shown)

    def select(evt: gr.SelectData, answers, owners, show_scores):
        """A click on a message (or its [n]) shows the cards of the answer it belongs to."""
        i = evt.index[0] if isinstance(evt.index, (list, tuple)) else evt.index
        n = owners[i] if isinstance(i, int) and 0 <= i < len(owners or []) else 0
        if not n or n > len(answers or []):
            return gr.update(), gr.update(), gr.update()
        cards = cards_html(answers[n - 1], show_scores=show_scores, number=n)
        return cards, n, gr.Tabs(selected="citations")

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
        return (
            [],
            _collection(qa),
            [],
            [],
            0,
            *_export_updates([], []),
        )

    def pick_export(answers, chosen):
        return _export_updates(answers or [], chosen or [])[:2]

    def filter_choices():
        rows = qa.library()
        docs = [(r.title, r.doc_id) for r in rows]
        pubs = sorted({r.publisher for r in rows if r.publisher})
        langs = [(language_name(x), x) for x in sorted({r.language or "und" for r in rows})]
        uploads = [(r.title, r.doc_id) for r in rows if r.uploaded]
        return (
            gr.update(choices=docs),
            gr.update(choices=pubs),
            gr.update(choices=langs),
            gr.update(choices=docs, value=None),
            library_html(rows),
            gr.update(choices=uploads),
        )

    def details(doc_id):
        """The chosen upload's current details, to edit."""
        doc = qa.documents.get(doc_id or "")
        m = doc.meta if doc else None
        return [
            (getattr(m, f, None) or "") if m else "" for f in ("title", "publisher", "date", "url")
        ]

    def save_details(doc_id, title, publisher, date, url):
        if read_only:
            return READ_ONLY, *filter_choices()
        if not doc_id:
            return "Pick an uploaded document first.", *filter_choices()
        try:
            qa.edit_metadata(doc_id, title=title, publisher=publisher, date=date, url=url)
        except QAError as exc:
            return f"**Not saved:** {md_escape(str(exc))}", *filter_choices()
        return f"**Saved** the details of `{doc_id}`; citations now use them.", *filter_choices()

    def upload_files(files, progress=gr.Progress()):  # noqa: B008 - how Gradio injects progress
        """One status line per file of this upload (the last upload's lines are replaced),
        each naming the file as the user named it."""
        if read_only:
            return (READ_ONLY, *filter_choices())
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
                n = report.embedded_passages
                messages.append(
                    f"- **Indexed:** {md_escape(original)} as `{added}` "
                    f"({n} passage{'s' if n != 1 else ''}, {report.seconds:.1f} s)."
                )
            except QAError as exc:
                reason = str(exc).removeprefix(f"{original}: ")
                messages.append(f"- **Not indexed:** {md_escape(original)}: {md_escape(reason)}")
        return ("\n".join(messages) or "No file received.", *filter_choices())

    def remove_selected(doc_id):
        if read_only:
            return READ_ONLY, *filter_choices()
        if not doc_id:
            return "Pick a document to remove first.", *filter_choices()
        try:
            qa.remove(doc_id)
        except QAError as exc:
            return f"**Not removed:** {md_escape(str(exc))}", *filter_choices()
        return f"**Removed** `{doc_id}` from the index.", *filter_choices()

    return SimpleNamespace(
        chat=chat,
        rerender=rerender,
        select=select,
        view=view,
        clear=clear,
        pick_export=pick_export,
        filter_choices=filter_choices,
        details=details,
        save_details=save_details,
        upload_files=upload_files,
        remove_selected=remove_selected,
    )


def build_app(qa: QA, read_only: bool = False) -> gr.Blocks:
    """The Blocks app; `launch()` serves it with the CSS, theme and limits. `read_only`: no
    uploads or removals, in the Library tab or through the API."""

    cb = _ui_callbacks(qa, read_only)
    with gr.Blocks(title=f"{qa.settings.app_title} — cited answers") as app:
        gr.Markdown(
            f"# {md_escape(qa.settings.app_title)}\nAnswers are sentences quoted from the "
            "sources, each with its citation. When the documents do not answer, the app says so."
        )
        answers = gr.State([])
        owners = gr.State([])
        shown = gr.State(0)
        with gr.Tabs():
            with gr.Tab("Ask", id="ask"):
                ui = _ask_tab(qa)
            with gr.Tab("Library", id="library-tab"):
                library = _library_tab(qa, read_only)

        inputs = [
            ui.box,
            ui.chatbot,
            answers,
            owners,
            ui.pick,
            ui.k,
            ui.f_docs,
            ui.f_pubs,
            ui.f_langs,
            ui.d_from,
            ui.d_to,
            ui.show_scores,
            ui.answerer,
        ]
        outputs = [ui.chatbot, ui.cards, ui.box, answers, owners, shown, *_export_outputs(ui)]
        ask = {"fn": cb.chat, "inputs": inputs, "outputs": outputs, "api_visibility": "private"}
        to_citations = {"fn": lambda: gr.Tabs(selected="citations"), "outputs": ui.side}
        ui.send.click(**ask).then(**to_citations, api_visibility="private")
        ui.box.submit(**ask).then(**to_citations, api_visibility="private")
        for question, button in ui.examples:
            button.click(lambda q=question: q, None, ui.box, api_visibility="private").then(
                **ask
            ).then(**to_citations, api_visibility="private")
        ui.show_scores.change(
            cb.rerender, [answers, shown, ui.show_scores], ui.cards, api_visibility="private"
        )
        ui.chatbot.select(
            cb.select,
            [answers, owners, ui.show_scores],
            [ui.cards, shown, ui.side],
            api_visibility="private",
        ).then(None, js=FOCUS_CITATION_JS)
        ui.cards.click(cb.view, None, [ui.viewer, ui.side], api_visibility="private").then(
            None, js=SCROLL_TO_CITED_JS
        )
        ui.pick.input(
            cb.pick_export, [answers, ui.pick], [ui.dl_md, ui.dl_docx], api_visibility="private"
        )
        ui.clear_btn.click(
            cb.clear,
            None,
            [ui.chatbot, ui.cards, answers, owners, shown, *_export_outputs(ui)],
            api_visibility="private",
        )
        choice_outputs = [
            ui.f_docs,
            ui.f_pubs,
            ui.f_langs,
            library.to_remove,
            library.table,
            library.to_edit,
        ]
        library.to_edit.input(cb.details, library.to_edit, library.fields, api_visibility="private")
        library.save_btn.click(
            cb.save_details,
            [library.to_edit, *library.fields],
            [library.status, *choice_outputs],
            api_visibility="private",
        )
        library.files.upload(
            cb.upload_files,
            library.files,
            [library.status, *choice_outputs],
            api_visibility="private",
        )
        library.remove_btn.click(
            cb.remove_selected,
            library.to_remove,
            [library.status, *choice_outputs],
            api_visibility="private",
            js="(d) => (d && confirm('Remove this document from the index?')) ? d : null",
        )
        app.load(cb.filter_choices, None, choice_outputs, api_visibility="private")
        _add_api(app, qa, read_only)
    return app


def _export_outputs(ui: SimpleNamespace) -> list:
    return [ui.dl_md, ui.dl_docx, ui.pick]


def _export_updates(answers: list[Answer], chosen: list[int]) -> tuple:
    """The export buttons (enabled with fresh files when some answer is chosen) and the list
    of answers to choose from (numbered as in the citations pane)."""
    choices = [(f"{i}. {a.question[:80]}", i) for i, a in enumerate(answers, start=1)]
    chosen = [i for i in chosen if 1 <= i <= len(answers)]
    pick = gr.update(choices=choices, value=chosen)
    if not chosen:
        return (
            gr.update(value=None, interactive=False, label="Export Markdown"),
            gr.update(value=None, interactive=False, label="Export Word"),
            pick,
        )
    md, docx = _export([answers[i - 1] for i in chosen])
    count = f"({len(chosen)} answer{'s' if len(chosen) != 1 else ''})"  # what a click exports
    return (
        gr.update(value=md, interactive=True, label=f"Export Markdown {count}"),
        gr.update(value=docx, interactive=True, label=f"Export Word {count}"),
        pick,
    )


def _export(answers: list[Answer]) -> tuple[str, str]:
    """The chosen answers as Markdown and Word files, named after the date and the first
    question (2026-11-29-how-much-did-sweden-pledge.md), so that downloads tell apart."""
    from qa.app.export import conversation_docx, conversation_markdown, export_name

    folder = Path(tempfile.mkdtemp(prefix="qa-export-"))
    name = export_name(answers)
    md = folder / f"{name}.md"
    md.write_text(conversation_markdown(answers), encoding="utf-8")
    docx = folder / f"{name}.docx"
    conversation_docx(answers, docx)
    return str(md), str(docx)


def beyond_loopback(host: str, share: bool) -> bool:
    """Whether other machines can reach the app: another interface than loopback, or a
    public --share link."""
    return share or host.strip("[]") not in LOOPBACK


def library_read_only(host: str, share: bool, auth: tuple[str, str] | None) -> bool:
    """Library changes need a login beyond this machine: without one the library is
    read-only there."""
    return auth is None and beyond_loopback(host, share)


def exposure_warning(host: str, share: bool, auth: tuple[str, str] | None) -> str | None:
    """What to tell the user when the app is reachable beyond this machine without a login."""
    if not library_read_only(host, share, auth):
        return None
    where = (
        "--share publishes the app on a public gradio.live link"
        if share
        else f"serving on {host}, reachable from other machines,"
    )
    return (
        f"Warning: {where} without a login: anyone there can ask and read the sources; the "
        "library is read-only (uploads and removals refused). Set QA_AUTH=user:password to "
        "require a login and allow changes."
    )


def launch(qa: QA, host: str = "127.0.0.1", port: int = 7860, share: bool = False) -> None:
    """Serve the app for `qa` (whose index is built and model warm: see `qa serve`), answering
    only the hosts `served_hosts` lists."""
    from starlette.middleware import Middleware

    auth = login(qa.settings)
    app = build_app(qa, read_only=library_read_only(host, share, auth))
    app.queue(default_concurrency_limit=4)
    allowed = served_hosts(host, port, qa.settings.allowed_host_names, share)
    app.launch(
        server_name=host,
        server_port=port,
        css=CSS,
        theme=THEME,
        show_error=True,
        auth=auth,
        max_file_size=int(qa.settings.max_file_mb * 1e6),
        share=share,
        app_kwargs={"middleware": [Middleware(HostCheck, allowed=allowed)]},
    )


def login(settings: Settings) -> tuple[str, str] | None:
    """The user and password that QA_AUTH sets ("user:password"), if any."""
    return tuple(settings.auth.split(":", 1)) if settings.auth else None  # type: ignore[return-value]
