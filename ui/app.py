"""`build_app(settings)`: the Gradio Blocks of the chat, its settings panel and the article library.

The page is a thin face over `ui.respond` (chat turns) and `rag.library` (uploads, listing,
deletes); every user shares one `Shared` (one index, a cache of answerers), so the index and any
model load once. A status line says "loading…" until `Shared.load` is done, then how many
articles are indexed. `serve` starts serving at once, loads in the background, and launches
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
import time
from pathlib import Path
from typing import TYPE_CHECKING

from rag.errors import RagError
from rag.formats import file_of, spell_extensions
from rag.library import UPLOAD_EXTENSIONS, delete_article, list_articles, save_upload
from rag.settings import Settings
from ui.page import CSS, PAGE_JS
from ui.render import articles_html, counted
from ui.respond import DATE_LABELS, GENERIC_ERROR, READER, Shared, respond

if TYPE_CHECKING:
    import gradio as gr

log = logging.getLogger(__name__)

MODEL = "llama.cpp model"
# Concurrent chat turns; more wait in the queue. Model turns also take turns per model (ui.respond).
CHAT_CONCURRENCY = 4
#: Seconds between two looks at whether loading is done, while the page says it is loading.
STATUS_POLL_S = 0.5
#: Gradio's footer links, less its "Settings" page: the page has one Settings, the chat's.
FOOTER_LINKS = ["api", "gradio"]


def build_app(settings: Settings, shared: Shared | None = None, upload_dir: Path | None = None) -> gr.Blocks:
    """The chat app for `settings`; `shared` lets a caller share an already-loaded pipeline.
    Articles are added only from files inside `upload_dir` (default: Gradio's upload folder)."""
    os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")
    import gradio as gr
    from gradio.utils import get_upload_folder

    shared = shared or Shared(settings)
    upload_dir = Path(upload_dir or get_upload_folder())
    library_lock = threading.Lock()  # one upload or delete at a time

    def chat(message, history, k, answerer, model_path, strict, show_passages, since=None, until=None):
        """The chat as it grows, with the status line: a turn that waited for loading shows "ready"
        before its answer. The date fields come last, so API callers that predate them still work."""
        model = model_path if answerer == MODEL else None
        for state in respond(message, history, shared, k, model, strict, show_passages, since, until):
            yield state, _markdown(shared.status())

    def library_view(status: str):
        try:
            rows = [(r.title, r.source, r.chunks) for r in list_articles(shared.pipeline.store)]
        except RagError as err:
            rows, status = [], f"⚠ {err}"
        files = list(dict.fromkeys(file_of(source) for _, source, _ in rows))  # a feed's items: its one file
        return _markdown(status), articles_html(rows), gr.update(choices=files, value=None)

    def page_state():
        """The status line, and the library list once loading is done (until then, a running timer).
        The library's message line is left to the upload and delete buttons."""
        if not shared.ready():
            return _markdown(shared.status()), gr.update(), gr.update(), gr.Timer(active=True)
        _, table, files = library_view("")
        return _markdown(shared.status()), table, files, gr.Timer(active=False)

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
        return *library_view("\n\n".join(lines)), None, _markdown(shared.status())

    def delete(source):
        with library_lock:
            try:
                if not source:
                    raise RagError("Pick an article to delete first.")
                delete_article(settings.docs_dir, source)
                status = f"Deleted {source}. " + _refresh(shared)
            except RagError as err:
                status = f"⚠ {err}"
        return *library_view(status), _markdown(shared.status())

    with gr.Blocks(title="News Q&A", analytics_enabled=False) as app:
        gr.Markdown(
            "## Ask the articles\nAnswers quote the articles, with numbered sources. Nothing leaves this machine.",
            elem_id="intro",
        )
        # Filled in when a page loads (a value given here would be shown to every later page first).
        top_status = gr.Markdown(elem_id="status")
        poll = gr.Timer(STATUS_POLL_S)
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
                    # Empty is an open end; a range the app was started with (RAG_SINCE, RAG_UNTIL) is filled in.
                    with gr.Row():
                        since, until = (
                            gr.Textbox(
                                value or "", label=label, placeholder=example, max_lines=1, min_width=120, elem_id=name
                            )
                            for value, label, example, name in zip(
                                (settings.since, settings.until),
                                DATE_LABELS,
                                ("2025-05-01", "2025-05-31"),
                                ("since", "until"),
                            )
                        )
                with gr.Accordion("Articles", open=True, elem_id="articles"):
                    upload = gr.File(
                        label=f"Add articles ({spell_extensions(globs=False)}; up to {settings.max_file_mb:g} MB each)",
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

        inputs = [pending, chatbot, k, answerer, model_path, strict, show_passages, since, until]

        # While a turn runs the question box and button are off: Gradio would drop a second
        # question sent meanwhile (its turn is still running), after the box was emptied.
        # (Fresh updates each time: Gradio consumes the dicts it is given.)
        def busy(message):
            return gr.update(value="", interactive=False), message, gr.update(interactive=False)

        def idle():
            return gr.update(interactive=True), gr.update(interactive=True)

        for trigger in (question.submit, ask.click):
            # "/lambda": the name scripts have called this step by
            trigger(busy, [question], [question, pending, ask], queue=False, api_name="lambda").then(
                chat,
                inputs,
                [chatbot, top_status],
                concurrency_limit=CHAT_CONCURRENCY,
                concurrency_id="chat",
                show_progress_on=[chatbot],
            ).then(idle, None, [question, ask], queue=False, api_visibility="private")
        library = [status, table, to_delete]
        upload.upload(add_files, [upload, overwrite], [*library, upload, top_status], concurrency_id="library")
        delete_button.click(delete, [to_delete], [*library, top_status], concurrency_id="library")
        for event in (app.load, poll.tick):
            event(
                page_state,
                None,
                [top_status, table, to_delete, poll],
                queue=False,
                show_progress="hidden",
                api_visibility="private",
            )
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


def _markdown(text: str) -> str:
    """`text` for a Markdown component: file names and messages can hold markup, so it is escaped."""
    return html.escape(text, quote=False)


def serve(
    settings: Settings, host: str = "127.0.0.1", port: int = 7860, share: bool = False, rebuild: bool = False
) -> None:
    """Serves the app until interrupted, loading the index and models in the background meanwhile;
    prints the index summary, the address and when it is ready, and nothing of Gradio's own."""
    shared = Shared(settings)
    # Gradio takes as input only files inside its upload folder, which by default every Gradio app
    # of this user shares; a folder of this server's own means such a file came through this page.
    uploads = Path(tempfile.mkdtemp(prefix="newsrag-uploads-", dir=os.environ.get("GRADIO_TEMP_DIR")))
    os.environ["GRADIO_TEMP_DIR"] = str(uploads)
    app = None
    try:
        shared.load(rebuild, say=lambda line: print(line, flush=True))  # meanwhile, the server starts
        app = build_app(settings, shared, upload_dir=uploads)
        app.queue(default_concurrency_limit=1)
        try:
            app.launch(
                server_name=host,
                server_port=port,
                share=share,
                css=CSS,
                js=PAGE_JS,
                ssr_mode=False,
                show_error=False,
                quiet=True,
                footer_links=FOOTER_LINKS,
                prevent_thread_lock=True,
                # Gradio refuses bigger requests with a bare error; below this, the article limit says why.
                max_file_size=f"{math.ceil(max(50, 2 * settings.max_file_mb))}mb",
            )
        except OSError as err:
            # Gradio's message names its own parameters and environment variables; ours names the flag.
            raise RagError(f"Cannot serve on {host}:{port}: the port is taken or not allowed; pass --port.") from err
        print(f"Serving on {app.local_url}" + (f" and {app.share_url}" if app.share_url else ""), flush=True)
        while app.is_running:
            time.sleep(0.5)
    finally:
        if app is not None:
            app.close(verbose=False)
        shutil.rmtree(uploads, ignore_errors=True)
