"""The chat turn: `respond(message, history, shared, ...)` yields the chat history as the answer grows.

`Shared` is what the app shares across every user: one `Pipeline` (so one index in memory) and a
cache of answerers, one per answerer (the reader, or a llama.cpp model file) and strictness, made on
first use and kept, so every model loads once. A model is not safe to run from two threads at once,
so a model's turns take turns. `Shared.load` brings the index up to date and loads the query
embedder and the reader in a background thread; a turn that starts before that is done waits.
`respond` rewrites a follow-up into a standalone question, streams the answer and ends with the
answer's HTML (see `ui.render`); a date range that no indexed article falls in ends the turn with
one line saying so, before any search. A failing turn ends with a one-line error message in the chat;
it never raises, so the app keeps serving. It knows nothing of Gradio beyond the message format.
"""

from __future__ import annotations

import logging
import os
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import nullcontext
from dataclasses import replace
from pathlib import Path

from rag.errors import RagError
from rag.followup import model_completer, rewrite
from rag.ingest import UpdateReport
from rag.pipeline import Answerer, Pipeline, check_question, make_answerer
from rag.records import Answer
from rag.settings import Settings, check_dates
from ui.render import answer_html, counted, error_html, streaming_html, waiting_html

log = logging.getLogger(__name__)

#: Shortest time between two streamed updates of one answer, in seconds.
STREAM_INTERVAL_S = 0.05

GENERIC_ERROR = "Something went wrong while answering; the details are in the server log. Try again."
GENERIC_LOAD_ERROR = "Loading the articles or models failed; the details are in the server log."

Message = dict

#: The answerer choice that means "no model": the trained reader.
READER = "reader"

#: The page's two date fields, as a message about a bad date names them.
DATE_LABELS = ("Articles dated from", "to")
_QUOTED_LABELS = (f"“{DATE_LABELS[0]}”", f"“{DATE_LABELS[1]}”")

LOADING = "⏳ Loading the articles and models…"
#: Asked once while loading, so the embedder and the reader's sessions are made before a user asks.
WARM_UP_QUESTION = "What happened?"


class Shared:
    """The one pipeline and the answerers made so far, keyed by (model file or None, strict).

    A model can only be one of `models()`: the .gguf files in `settings.models_dir` and the model
    the app was started with. Any other value is refused with the same line whether or not a file
    of that name exists, so the chat cannot be used to probe the server's files.
    """

    def __init__(self, settings: Settings, pipeline: Pipeline | None = None) -> None:
        self.settings = settings
        self.pipeline = pipeline or Pipeline(settings)
        self._answerers: dict[tuple[Path | None, bool], Answerer] = {}
        self._turns: dict[Path, threading.Lock] = {}  # per model file: llama.cpp runs one turn at a time
        self._guard = threading.Lock()
        self._ready = threading.Event()  # cleared while `load` runs
        self._ready.set()
        self._articles: int | None = None  # in the index, once a refresh has succeeded
        self._problem: str | None = None  # why loading failed, for the page's status line

    def models(self) -> list[Path]:
        """The model files a user may choose, sorted: found anew on every call."""
        folder = self.settings.models_dir
        found = [] if not folder.is_dir() else [p for p in folder.rglob("*.gguf") if not _hidden(p, folder)]
        if self.settings.model_path is not None:
            found.append(self.settings.model_path)
        unique = {os.path.abspath(p): p for p in found if p.is_file()}
        return sorted(unique.values())

    def model_file(self, choice: Path | str | None) -> Path | None:
        """The offered model file `choice` names, or None for the reader."""
        if choice is None or str(choice).strip() in ("", READER):
            return None
        wanted = os.path.abspath(str(choice).strip())
        for path in self.models():
            if os.path.abspath(path) == wanted:
                return path
        folder = self.settings.models_dir
        raise RagError(f"Choose a model from the list (the .gguf files in {folder}/), or the reader.")

    def answerer(self, model_path: Path | str | None, strict: bool = False) -> Answerer:
        key = (self.model_file(model_path), bool(strict))
        with self._guard:
            if key not in self._answerers:
                settings = replace(self.settings, model_path=key[0], strict=key[1])
                self._answerers[key] = make_answerer(settings, self.pipeline)
                if key[0] is not None:
                    self._turns.setdefault(key[0], threading.Lock())
            return self._answerers[key]

    def turn(self, model_path: Path | None) -> threading.Lock | nullcontext:
        """What a turn holds while it runs: the model's lock, nothing for the reader."""
        if model_path is None:
            return nullcontext()
        return self._turns[model_path]

    def refresh(self, rebuild: bool = False, notify: Callable[[str], None] = log.warning) -> UpdateReport:
        """Updates the index from the docs folder and loads it; every answerer uses it at once.
        `notify` hears, as they happen, lines such as "waiting for another process's update"."""
        report = self.pipeline.refresh(rebuild, notify=notify)
        self._articles, self._problem = report.files, None
        return report

    def load(self, rebuild: bool = False, say: Callable[[str], None] = print) -> threading.Thread:
        """Starts loading in a background thread: refreshes the index (telling `say` its notes and
        summary), then answers one throwaway question with the reader so the query embedder and the
        reader's sessions exist before anyone asks. Until it is done, `ready()` is false, `status()`
        says so and turns wait. A failure is told to `say` and shown by `status()`."""
        self._ready.clear()
        thread = threading.Thread(target=self._load, args=(rebuild, say), name="newsrag-load", daemon=True)
        thread.start()
        return thread

    def _load(self, rebuild: bool, say: Callable[[str], None]) -> None:
        try:
            started = time.perf_counter()
            report = self.refresh(rebuild, notify=lambda line: say(f"note: {line}."))
            for line in report.messages:
                say(f"note: {line}.")
            say(report.summary())
            self.pipeline.ask(WARM_UP_QUESTION, self.answerer(None))
            say(f"Ready to answer (loaded in {time.perf_counter() - started:.1f} s).")
        except RagError as err:
            self._problem = str(err)
            say(f"error: {err}")
        except Exception:
            self._problem = GENERIC_LOAD_ERROR
            log.exception("loading the index and models failed")
        finally:
            self._ready.set()

    def ready(self) -> bool:
        return self._ready.is_set()

    def wait_ready(self) -> None:
        self._ready.wait()

    def status(self) -> str:
        """One line for the page: loading, ready with the article count, or what went wrong."""
        if not self._ready.is_set():
            return LOADING
        if self._problem is not None:
            return f"⚠ {self._problem}"
        if self._articles is None:
            return "Ready."
        return f"Ready: {counted(self._articles, 'article')}"

    def completer(self, model_path: Path | None) -> Callable[[str], str] | None:
        """The model's short completion for the follow-up rewrite, or None (the rule rewrites)."""
        if model_path is None:
            return None
        return model_completer(replace(self.settings, model_path=model_path))


def respond(
    message: str,
    history: list[Message] | None,
    shared: Shared,
    k: int | None = None,
    model_path: Path | str | None = None,
    strict: bool = False,
    show_passages: bool = False,
    since: str | None = None,
    until: str | None = None,
) -> Iterator[list[Message]]:
    """Yields the whole chat (history, the user's message, the answer so far) after each change.
    `since` and `until` are the date fields as typed ("" for an open end); both None leaves the
    settings' range."""
    history = list(history or [])
    previous = [text for m in history if m.get("role") == "user" and (text := message_text(m))]
    # Shown back as typed, except lone surrogates (not text: check_question refuses them), which
    # no JSON encoder would send to the browser.
    shown = message.encode("utf-8", "replace").decode("utf-8") if isinstance(message, str) else message
    chat = [*history, {"role": "user", "content": shown}]
    rewritten: str | None = None
    try:
        question = check_question(message)
        dates = None if since is None and until is None else check_dates(since, until, _QUOTED_LABELS)
        if not shared.ready():
            yield [*chat, _assistant(waiting_html())]
            shared.wait_ready()
        empty = shared.pipeline.empty_range(dates)
        if empty:
            yield [*chat, _assistant(error_html(f"{empty}."))]
            return
        yield [*chat, _assistant(streaming_html(""))]
        answerer = shared.answerer(model_path, strict)
        model = shared.model_file(model_path)
        with shared.turn(model):
            standalone = rewrite(question, previous, shared.completer(model))
            rewritten = standalone if standalone != question else None
            text, shown_at = "", 0.0
            for event in shared.pipeline.stream(standalone, answerer, k=int(k) if k else None, dates=dates):
                if isinstance(event, Answer):
                    yield [*chat, _assistant(answer_html(event, rewritten, show_passages))]
                    continue
                text += event
                # Every update resends the chat; pieces that come faster than the eye reads are batched.
                if time.monotonic() - shown_at >= STREAM_INTERVAL_S:
                    shown_at = time.monotonic()
                    yield [*chat, _assistant(streaming_html(text, rewritten))]
    except RagError as err:
        yield [*chat, _assistant(error_html(str(err)))]
    except Exception:
        log.exception("answering %r failed", message)
        yield [*chat, _assistant(error_html(GENERIC_ERROR))]


def message_text(message: Message) -> str:
    """The text of a chat message, in either form Gradio uses: a string, or a list of parts."""
    content = message.get("content")
    if isinstance(content, str):
        return content
    if isinstance(content, dict):
        content = [content]
    if isinstance(content, list):
        return " ".join(
            part if isinstance(part, str) else str(part.get("text", ""))
            for part in content
            if isinstance(part, str) or (isinstance(part, dict) and part.get("type", "text") == "text")
        ).strip()
    return ""


def _hidden(path: Path, folder: Path) -> bool:
    return any(part.startswith(".") for part in path.relative_to(folder).parts)


def _assistant(html: str) -> Message:
    return {"role": "assistant", "content": html}
