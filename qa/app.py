"""Gradio app: a chat that answers with [n] markers beside numbered citation cards.

A thin layer over `qa.api.QA`. All document text is HTML-escaped before display: documents
may contain markup or scripts. Named API endpoint for `gradio_client`: `/ask`.
"""

from __future__ import annotations

import html
import re
import sys

import gradio as gr

from .api import QA
from .config import Settings
from .documents import Answer
from .errors import QAError
from .language import language_name

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
.card .num { font-weight: 700; margin-right: .3rem; }
.card .ctx { font-size: .92rem; line-height: 1.45; white-space: pre-wrap; }
.card mark { background: #fde68a; color: #111; padding: 0 .1rem; }
.abstain { font-style: italic; }
"""


def _md_escape(text: str) -> str:
    """Show text literally inside a Markdown chat message."""
    return re.sub(r"([\\`*_{}\[\]()#+\-!|>~<&])", r"\\\1", text)


def answer_markdown(answer: Answer) -> str:
    if answer.abstained:
        why = f" ({_md_escape(answer.abstain_reason)})" if answer.abstain_reason else ""
        return f"*{_md_escape(answer.answer)}*{why} The closest passages are shown beside."
    parts = []
    for c in answer.citations:
        parts.append(f"{_md_escape(c.quote)} **[{c.n}]**")
    return " ".join(parts)


def cards_html(answer: Answer, context_chars: int = 280) -> str:
    """Citation cards: reference line, then the quote highlighted in its passage."""
    docs = answer.documents
    out = ['<div class="cards">']
    if answer.abstained:
        out.append('<div class="abstain">No passage answers the question. Closest passages:</div>')
        for h in answer.hits[:3]:
            meta = docs.get(h.passage.doc_id)
            title = meta.title if meta else h.passage.doc_id
            out.append(
                f'<div class="card"><div class="ref">{html.escape(title)}, p. '
                f"{h.passage.page_start} · score {h.score:.2f}</div>"
                f'<div class="ctx">{html.escape(h.passage.text[:600])}…</div></div>'
            )
    for c in answer.citations:
        hit = next((h for h in answer.hits if h.passage.passage_id == c.passage_id), None)
        text, a, b = (c.quote, 0, len(c.quote))
        if hit is not None:
            text = hit.passage.text
            a, b = c.start - hit.passage.start, c.end - hit.passage.start
        before = text[max(0, a - context_chars) : a]
        after = text[b : b + context_chars]
        ref = ", ".join(html.escape(x) for x in (c.title, c.publisher, c.date) if x)
        ref += f", p. {c.page}" if c.page == c.page_end else f", pp. {c.page}–{c.page_end}"
        if c.language != answer.language:  # shown as written: no machine translation
            ref += f' · <span class="lang">in {html.escape(language_name(c.language))}</span>'

        link = (
            f' · <a href="{html.escape(c.url, quote=True)}" target="_blank" rel="noopener">source</a>'
            if c.url and c.url.startswith(("http://", "https://"))
            else ""
        )
        out.append(
            f'<div class="card" id="cite-{c.n}"><div class="ref"><span class="num">[{c.n}]</span>'
            f"{ref}{link}</div>"
            f'<div class="ctx">{"…" if a > context_chars else ""}{html.escape(before)}'
            f"<mark>{html.escape(c.quote)}</mark>{html.escape(after)}"
            f"{'…' if b + context_chars < len(text) else ''}</div></div>"
        )
    out.append("</div>")
    return "".join(out)


def build_app(qa: QA) -> gr.Blocks:
    def ask_api(question: str, k: float | None = None) -> dict:
        """Answer a question; returns the structured answer (same JSON as `qa ask --json`)."""
        try:
            return qa.ask(question, int(k) if k else None).to_dict()
        except QAError as exc:
            raise gr.Error(str(exc)) from None

    def chat(question: str, history: list, k: float):
        history = list(history or [])
        if not (question or "").strip():
            gr.Warning("Type a question about the documents first.")
            return history, gr.update(), question
        try:
            answer = qa.ask(question, int(k))
        except QAError as exc:
            history.append({"role": "user", "content": _md_escape(question[:500])})
            history.append({"role": "assistant", "content": f"⚠️ {_md_escape(str(exc))}"})
            return history, gr.update(), ""
        history.append({"role": "user", "content": _md_escape(question)})
        history.append({"role": "assistant", "content": answer_markdown(answer)})
        return history, cards_html(answer), ""

    with gr.Blocks(title="Ukraine security agreements — cited answers") as app:
        gr.Markdown(
            "## Ask the documents\nAnswers are sentences quoted from the sources, each with "
            "its citation. When the documents do not answer, the app says so."
        )
        with gr.Row():
            with gr.Column(scale=3):
                chatbot = gr.Chatbot(label="Answers", height=460, elem_id="chat")
                with gr.Row():
                    box = gr.Textbox(
                        placeholder="Ask a question…", show_label=False, scale=5,
                        elem_id="question", max_lines=4,
                    )  # fmt: skip
                    send = gr.Button("Ask", variant="primary", scale=1, elem_id="ask")
                gr.Examples(EXAMPLES, inputs=box)
                k = gr.Slider(1, 20, value=qa.settings.top_k, step=1, label="Passages to retrieve")
            with gr.Column(scale=2):
                gr.Markdown("### Citations")
                cards = gr.HTML("<div class='cards'></div>", elem_id="citations")
        send.click(chat, [box, chatbot, k], [chatbot, cards, box], api_visibility="private")
        box.submit(chat, [box, chatbot, k], [chatbot, cards, box], api_visibility="private")
        api_q = gr.Textbox(visible=False)
        api_k = gr.Number(visible=False)
        api_out = gr.JSON(visible=False)
        api_btn = gr.Button(visible=False)
        api_btn.click(ask_api, [api_q, api_k], api_out, api_name="ask")
    return app


LOOPBACK = {"127.0.0.1", "localhost", "::1"}


def serve(settings: Settings | None = None, host: str = "127.0.0.1", port: int = 7860) -> None:
    """Build the index if missing (with a progress bar), warm the model, then serve."""
    from .cli import _progress_bar

    qa = QA(settings or Settings.from_env())
    print(f"Loading model {qa.settings.model} ...", file=sys.stderr)
    report = qa.ensure_index(on_progress=_progress_bar())
    if report is not None:
        why = f" (rebuilt: {report.rebuilt_because})" if report.rebuilt_because else ""
        print(
            f"Built the index: {len(report.added)} documents, {report.total_passages} passages "
            f"({report.seconds:.1f} s){why}.",
            file=sys.stderr,
        )
        for s in report.skipped:
            print(f"  skipped {s.path}: {s.reason}", file=sys.stderr)
    qa.ask("warm up")  # load the index and model before the first visitor
    auth = tuple(qa.settings.auth.split(":", 1)) if qa.settings.auth else None
    if host not in LOOPBACK and auth is None:
        print(
            f"Warning: serving on {host}, reachable from other machines, without a login. "
            "Set QA_AUTH=user:password to require one.",
            file=sys.stderr,
        )
    app = build_app(qa)
    app.queue(default_concurrency_limit=4)
    app.launch(server_name=host, server_port=port, css=CSS, show_error=True, auth=auth)
