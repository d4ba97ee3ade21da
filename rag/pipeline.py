"""`Pipeline.ask(question) -> Answer` and its streaming twin: the one place that wires the stages.

A `Pipeline` owns the embedder, the loaded index and the answerer for one `Settings`, so the CLI,
the UI and the eval all answer the same way. Construction is cheap; the index loads (and is
refreshed from the docs folder) on first use, and the models load when first needed. It does not
watch the docs folder: call `refresh()` after changing it.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import replace

from rag.embedding import Embedder
from rag.errors import RagError, UsageError
from rag.extractive import ExtractiveAnswerer
from rag.indexer import UpdateReport, update
from rag.records import Answer
from rag.retrieve import Retrieval, retrieve
from rag.settings import MAX_QUESTION_CHARS, Settings
from rag.store import Index


def check_question(question: str) -> str:
    """The question, stripped; raises for an empty or over-long one, or one that is not text.

    Bytes that are not UTF-8 reach Python as lone surrogates (the command line's surrogateescape,
    a JSON "\\udc80"); no model can read them, so they are refused before any index is loaded.
    """
    question = (question or "").strip()
    if not question:
        raise UsageError("The question is empty: ask something about the articles.")
    if any("\ud800" <= ch <= "\udfff" for ch in question):
        raise UsageError("The question holds bytes that are not UTF-8 text; type it again in plain text.")
    if len(question) > MAX_QUESTION_CHARS:
        raise RagError(f"The question is {len(question)} characters long; the limit is {MAX_QUESTION_CHARS}.")
    return question


class Pipeline:
    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.embedder = Embedder(settings.embedding_model, settings.embed_batch_size)
        self._index: Index | None = None
        self._lock = threading.Lock()  # one index update at a time; readers use the last complete index

    @property
    def index(self) -> Index:
        if self._index is None:
            self.refresh()
        assert self._index is not None
        return self._index

    def refresh(
        self,
        rebuild: bool = False,
        progress: Callable[[int, int], None] | None = None,
        on_wait: Callable[[str], None] | None = None,
    ) -> UpdateReport:
        """Brings the on-disk index up to date with the docs folder and loads it (see `rag.indexer`)."""
        with self._lock:
            index, report = update(self.settings, self.embedder, rebuild, progress, on_wait)
            self._index = index
            return report

    def retrieve(self, question: str, k: int | None = None) -> Retrieval:
        settings = self.settings if k is None else replace(self.settings, k=k)
        return retrieve(check_question(question), self.index, self.embedder, settings)

    def ask(self, question: str, k: int | None = None) -> Answer:
        """Answers `question` from the indexed articles, with citations, or abstains."""
        answer = None
        for event in self.stream(question, k):
            if isinstance(event, Answer):
                answer = event
        assert answer is not None
        return answer

    def stream(self, question: str, k: int | None = None) -> Iterator[str | Answer]:
        """Yields pieces of answer text as they are made, then the complete `Answer`."""
        question = check_question(question)
        started = time.perf_counter()
        index = self.index
        loaded = time.perf_counter()
        retrieval = self.retrieve(question, k)
        retrieved = time.perf_counter()
        if self.settings.model_path is None:
            answerer = ExtractiveAnswerer(self.embedder, index.bm25, self.settings.abstain_threshold)
            answer = answerer.answer(question, retrieval)
            yield answer.text
        else:
            from rag.generate import LlamaAnswerer  # llama_cpp loads only when a model is chosen

            answer = None
            for event in LlamaAnswerer(self.settings, self.embedder, index.bm25.idf).stream(question, retrieval):
                if isinstance(event, Answer):
                    answer = event
                else:
                    yield event
            assert answer is not None
        done = time.perf_counter()
        timings = {
            "index": (loaded - started) * 1000,
            "retrieve": (retrieved - loaded) * 1000,
            "answer": (done - retrieved) * 1000,
            "total": (done - started) * 1000,
        }
        timings = answer.timings_ms | timings  # the llama.cpp answerer adds its stages
        yield replace(answer, timings_ms={name: round(ms, 1) for name, ms in timings.items()})
