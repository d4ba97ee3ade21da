"""`build_app(settings)`: the Gradio Blocks of the chat, its settings panel and the article library.

The page is a thin face over `ui.respond` (chat turns) and `rag.library` (uploads, listing,
deletes); every user shares one `Shared` (one index, a cache of answerers), so the index and any
model load once. `serve` launches
it on localhost with the queue on, with an upload folder of its own: an article is added only
from a file that arrived through this page's upload, and a model only from the offered list, so
the page cannot be made to read or probe other files of the server. It does not authenticate
users: run it on a trusted machine, and share it only on purpose (`share=True` makes a public link).
"""

from __future__ import annotations

import html
import logging
import math
import os
import shutil
import tempfile
import threading
from pathlib import Path
from typing import TYPE_CHECKING

from rag.errors import RagError
from rag.library import UPLOAD_EXTENSIONS, delete_article, list_articles, save_upload
from rag.settings import Settings
from ui.page import CSS, PAGE_JS
from ui.render import articles_html, counted
from ui.respond import GENERIC_ERROR, READER, Shared, respond

if TYPE_CHECKING:
    import gradio as gr

log = logging.getLogger(__name__)

MODEL = "llama.cpp model"
# Concurrent chat turns; more wait in the queue. Model turns also take turns per model (ui.respond).
CHAT_CONCURRENCY = 4


def build_app(settings: Settings, shared: Shared | None = None, upload_dir: Path | None = None) -> gr.Blocks:
    """The chat app for `settings`; `shared` lets a caller share an already-loaded pipeline.
    Articles are added only from files inside `upload_dir` (default: Gradio's upload folder)."""
    os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")
    import gradio as gr
    from gradio.utils import get_upload_folder

    shared = shared or Shared(settings)
    upload_dir = Path(upload_dir or get_upload_folder())
    library_lock = threading.Lock()  # one upload or delete at a time

    def chat(message, history, k, answerer, model_path, strict, show_passages):
        model = model_path if answerer == MODEL else None
        yield from respond(message, history, shared, k, model, strict, show_passages)

    def library_view(status: str):
        try:
            rows = [(r.title, r.source, r.chunks) for r in list_articles(shared.pipeline.store)]
        except RagError as err:
            rows, status = [], f"⚠ {err}"
        files = [source for _, source, _ in rows]
        # File names and messages can hold markup: the status is Markdown, so escape it.
        return html.escape(status, quote=False), articles_html(rows), gr.update(choices=files, value=None)

    def add_files(paths, overwrite):
        lines = []
        with library_lock:
            for path in paths or []:
                name = Path(path).name
                try:
                    data = uploaded_file(path, upload_dir).read_bytes()
                    saved = save_upload(settings.docs_dir, name, data, settings.max_file_mb, bool(overwrite))
                    lines.append(f"Added {saved.name}.")
                except RagError as err:
                    lines.append(f"⚠ {err}")
            lines.append(_refresh(shared))
        return *library_view("\n\n".join(lines)), None

    def delete(source):
        with library_lock:
            try:
                if not source:
                    raise RagError("Pick an article to delete first.")
                delete_article(settings.docs_dir, source)
                status = f"Deleted {source}. " + _refresh(shared)
            except RagError as err:
                status = f"⚠ {err}"
        return library_view(status)

    with gr.Blocks(title="News Q&A", analytics_enabled=False) as app:
        gr.Markdown(
            "## Ask the articles\nAnswers quote the articles, with numbered sources. Nothing leaves this machine."
        )
        with gr.Row():
            with gr.Column(scale=3):
                chatbot = gr.Chatbot(
                    elem_id="chat",
                    height=600,
                    latex_delimiters=[],
                    sanitize_html=True,
                    buttons=["copy"],
                    feedback_options=None,
                    placeholder="Ask a question about the articles, e.g. *Who led Russia's delegation?*",
                )
                with gr.Row():
                    question = gr.Textbox(
                        elem_id="question",
                        show_label=False,
                        placeholder="Ask about the articles… (Enter to send)",
                        scale=5,
                        max_lines=4,
                    )
                    ask = gr.Button("Ask", variant="primary", scale=1, elem_id="ask")
                pending = gr.State("")
            with gr.Column(scale=2):
                with gr.Accordion("Settings", open=False, elem_id="settings"):
                    k = gr.Slider(1, 10, value=settings.k, step=1, label="Passages to retrieve (k)", elem_id="k")
                    answerer = gr.Radio(
                        [READER, MODEL],
                        value=MODEL if settings.model_path else READER,
                        label="Answerer",
                        elem_id="answerer",
                    )
                    model_path = gr.Dropdown(
                        choices=model_choices(shared),
                        value=str(settings.model_path) if settings.model_path else None,
                        label=f"Model file (.gguf files in {settings.models_dir}/)",
                        allow_custom_value=False,
                        elem_id="model-path",
                    )
                    strict = gr.Checkbox(value=settings.strict, label="Strict citations", elem_id="strict")
                    show_passages = gr.Checkbox(value=False, label="Show retrieved passages", elem_id="show-passages")
                with gr.Accordion("Articles", open=True, elem_id="articles"):
                    upload = gr.File(
                        label=f"Add articles (.txt, .md, .html; up to {settings.max_file_mb:g} MB each)",
                        file_count="multiple",
                        file_types=list(UPLOAD_EXTENSIONS),
                        type="filepath",
                        height=130,
                        elem_id="upload",
                    )
                    overwrite = gr.Checkbox(value=False, label="Replace files with the same name", elem_id="overwrite")
                    status = gr.Markdown(elem_id="library-status")
                    table = gr.HTML(elem_id="article-list")
                    with gr.Row():
                        to_delete = gr.Dropdown(choices=[], label="Article to delete", scale=3, elem_id="to-delete")
                        delete_button = gr.Button("Delete", variant="stop", scale=1, elem_id="delete")

        inputs = [pending, chatbot, k, answerer, model_path, strict, show_passages]
        for trigger in (question.submit, ask.click):
            trigger(lambda m: ("", m), [question], [question, pending], queue=False).then(
                chat, inputs, [chatbot], concurrency_limit=CHAT_CONCURRENCY, concurrency_id="chat"
            )
        upload.upload(add_files, [upload, overwrite], [status, table, to_delete, upload], concurrency_id="library")
        delete_button.click(delete, [to_delete], [status, table, to_delete], concurrency_id="library")
        app.load(lambda: library_view(""), None, [status, table, to_delete])
        app.load(lambda: gr.update(choices=model_choices(shared)), None, [model_path])  # models added since
    return app


def model_choices(shared: Shared) -> list[tuple[str, str]]:
    """The model dropdown's (label, value) pairs: each offered model file, by name."""
    return [(path.name, str(path)) for path in shared.models()]


def uploaded_file(path: str | Path, upload_dir: Path) -> Path:
    """`path`, resolved, when it is a file inside `upload_dir`: one that arrived through this page's
    upload. Anything else is refused in one line that does not say whether it exists."""
    resolved = Path(os.path.realpath(path))
    if not resolved.is_relative_to(Path(os.path.realpath(upload_dir))) or not resolved.is_file():
        name = Path(str(path)).name or "That file"
        raise RagError(f"{name} did not arrive through this page's upload; add articles with the upload box.")
    return resolved


def _refresh(shared: Shared) -> str:
    """Re-indexes the docs folder and says what changed, or why it could not."""
    try:
        report = shared.refresh()
    except RagError as err:
        return f"⚠ {err}"
    except Exception:
        log.exception("refreshing the index failed")
        return f"⚠ {GENERIC_ERROR}"
    skipped = "".join(f"\n\n⚠ skipped {source}: {reason}" for source, reason in report.skipped)
    notes = "".join(f"\n\n⚠ {line}." for line in report.messages)  # a repair, changes it could not save
    state = "not updated" if report.unsaved else "up to date"
    counts = f"{counted(report.files, 'article')}, {counted(report.chunks, 'chunk')}"
    return f"Index {state}: {counts}.{skipped}{notes}"


def serve(
    settings: Settings, host: str = "127.0.0.1", port: int = 7860, share: bool = False, rebuild: bool = False
) -> None:
    """Indexes the docs folder, then serves the app until interrupted."""
    shared = Shared(settings)
    report = shared.refresh(rebuild)
    for line in report.messages:
        print(f"note: {line}.", flush=True)
    print(report.summary(), flush=True)
    # Gradio takes as input only files inside its upload folder, which by default every Gradio app
    # of this user shares; a folder of this server's own means such a file came through this page.
    uploads = Path(tempfile.mkdtemp(prefix="newsrag-uploads-", dir=os.environ.get("GRADIO_TEMP_DIR")))
    os.environ["GRADIO_TEMP_DIR"] = str(uploads)
    try:
        app = build_app(settings, shared, upload_dir=uploads)
        app.queue(default_concurrency_limit=1)
        app.launch(
            server_name=host,
            server_port=port,
            share=share,
            css=CSS,
            js=PAGE_JS,
            ssr_mode=False,
            show_error=False,
            # Gradio refuses bigger requests with a bare error; below this, the article limit says why.
            max_file_size=f"{math.ceil(max(50, 2 * settings.max_file_mb))}mb",
        )
    finally:
        shutil.rmtree(uploads, ignore_errors=True)
