"""`Pipeline.stream(question, answerer)`: the one place that wires the stages of a question.

    hits = search(question)              dense and BM25 candidates, fused, keyed by chunk id
    hits = fold_copies(hits)             one story, one source: older copies give way to the newest
    hits = reranker(question, hits)      the trained reader reorders them (when one is configured)
    passages = label(hits, k)            merge overlaps, cut to k, assign [1]..[k]: the closed set
    answerer.stream(question, passages)  pieces of text as they are made, then the `Answer`

A `Pipeline` owns the loaded index (`Store`) and the query embedder for one `Settings`; the
answerer is a parameter, made once by `make_answerer`, so one index in memory serves every answerer
(the UI keeps a few). The index loads (and is brought up to date with the docs folder) on first use
or on `refresh()`; models load when first needed. A new ranking stage is one callable
`(question, hits) -> hits` passed as `reranker`. It does not watch the docs folder.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import replace
from typing import Protocol

from rag.embedding import Embedder
from rag.errors import RagError, UsageError
from rag.fold import fold_copies
from rag.ingest import Progress, UpdateReport, update
from rag.records import Answer, Hit, Passage
from rag.retrieve import label, search
from rag.settings import MAX_QUESTION_CHARS, Settings
from rag.store import Dates, Store

Reranker = Callable[[str, list[Hit]], list[Hit]]


class Answerer(Protocol):
    name: str

    def stream(self, question: str, passages: tuple[Passage, ...]) -> Iterator[str | Answer]:
        """Pieces of the answer's text as they are made, then the complete `Answer`."""
        ...


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


def default_reranker(settings: Settings) -> Reranker | None:
    """The shipped reader as the reranking stage, unless `settings.rerank` is off."""
    if not settings.rerank:
        return None
    from rag.reader import Reader
    from rag.rerank import ReaderReranker

    return ReaderReranker(Reader(), settings.rerank_depth)


def make_answerer(settings: Settings, pipeline: Pipeline) -> Answerer:
    """The reader answerer, or the llama.cpp answerer when `settings.model_path` names a model."""
    if settings.model_path is None:
        from rag.answer import ReaderAnswerer
        from rag.reader import Reader

        return ReaderAnswerer(
            Reader(), settings.abstain_threshold, settings.short_answer_threshold, settings.short_answer_exponent
        )
    from rag.generate import LlamaAnswerer  # llama_cpp loads only when a model is chosen

    return LlamaAnswerer(settings, pipeline.embedder, pipeline.term_stats)


class Pipeline:
    def __init__(self, settings: Settings, reranker: Reranker | None | str = "default") -> None:
        self.settings = settings
        self.reranker = default_reranker(settings) if reranker == "default" else reranker
        self._store: Store | None = None
        self._embedder: Embedder | None = None
        self._lock = threading.Lock()  # one index update at a time; readers use the last complete index

    @property
    def store(self) -> Store:
        if self._store is None:
            self.refresh()
        assert self._store is not None
        return self._store

    @property
    def embedder(self) -> Embedder:
        """The query embedder: the ONNX graph the index names when it is there, else torch."""
        store = self.store
        if self._embedder is None:
            record = store.manifest.get("encoder")
            graph = self.settings.index_dir / record["file"] if record else None
            usable = graph is not None and graph.is_file() and self.settings.embedding_backend == "auto"
            self._embedder = Embedder(
                self.settings.embedding_model, self.settings.embed_batch_size, graph if usable else None
            )
        return self._embedder

    @property
    def term_stats(self):
        """The BM25 document frequencies the llama.cpp answerer weighs words by; None when the store
        does not expose them (Milvus)."""
        return self.store.term_stats

    def refresh(
        self,
        rebuild: bool = False,
        progress: Callable[[Progress], None] | None = None,
        notify: Callable[[str], None] | None = None,
    ) -> UpdateReport:
        """Brings the on-disk index up to date with the docs folder and loads it (see `rag.ingest`)."""
        with self._lock:
            store, report = update(self.settings, rebuild, progress, notify)
            if self._store is None or store.manifest.get("encoder") != self._store.manifest.get("encoder"):
                self._embedder = None
            self._store = store
            return report

    def empty_range(self, dates: Dates | None = None) -> str | None:
        """The note that no indexed article states a date within `dates` (default: the settings'
        range), or None when one does or no range is set. Such a range leaves nothing to search."""
        since, until = self._range(dates)
        if not (since or until) or self.store.dates_any((since, until)):
            return None
        return f"no indexed article states a date from {since or 'any day'} to {until or 'today'}"

    def passages(self, question: str, k: int | None = None, dates: Dates | None = None) -> tuple[Passage, ...]:
        """The labelled passages for `question`: search, fold, rerank, label."""
        return self._passages(check_question(question), k, dates, {})

    def ask(self, question: str, answerer: Answerer, k: int | None = None, dates: Dates | None = None) -> Answer:
        """Answers `question` from the indexed articles, with citations, or abstains."""
        answer = None
        for event in self.stream(question, answerer, k, dates):
            if isinstance(event, Answer):
                answer = event
        assert answer is not None
        return answer

    def stream(
        self, question: str, answerer: Answerer, k: int | None = None, dates: Dates | None = None
    ) -> Iterator[str | Answer]:
        """Yields pieces of answer text as they are made, then the complete `Answer` with timings.
        `k` and `dates` (since, until: ISO dates or None) override the settings for this question."""
        question = check_question(question)
        timings: dict[str, float] = {}
        started = time.perf_counter()
        passages = self._passages(question, k, dates, timings)
        answer = None
        for event in answerer.stream(question, passages):
            if isinstance(event, Answer):
                answer = event
            else:
                yield event
        assert answer is not None
        now = time.perf_counter()
        timings["answer"] = (now - started) * 1000 - sum(timings.values())
        timings["total"] = (now - started) * 1000
        timings = answer.timings_ms | timings  # the llama.cpp answerer adds its own stages
        yield replace(answer, timings_ms={name: round(ms, 1) for name, ms in timings.items()})

    def _passages(
        self, question: str, k: int | None, dates: Dates | None, timings: dict[str, float]
    ) -> tuple[Passage, ...]:
        clock = time.perf_counter()
        store = self.store
        since, until = self._range(dates)
        hits = search(question, store, self.embedder, self.settings, (since, until) if since or until else None)
        hits = fold_copies(hits, store)
        timings["search"] = _since(clock)
        if self.reranker is not None:
            clock = time.perf_counter()
            hits = self.reranker(question, hits)
            timings["rerank"] = _since(clock)
        return label(hits, k or self.settings.k, store.also_in, store.author, store.url)

    def _range(self, dates: Dates | None) -> Dates:
        return dates if dates is not None else (self.settings.since, self.settings.until)


def _since(clock: float) -> float:
    return (time.perf_counter() - clock) * 1000
