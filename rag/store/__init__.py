"""The store contract: what `rag.ingest` and `rag.pipeline` call, and what each backend promises.

Two backends ship: `rag.store.faiss_bm25.FaissStore` (the default: FAISS and our BM25 in the index
folder) and `rag.store.milvus.MilvusStore` (one Milvus collection, Milvus Lite file or server).
`store_class(settings)` picks one; nothing above this package knows which it talks to, and no module
outside `faiss_bm25` imports faiss, none outside `milvus` imports pymilvus.

What every backend promises:
- **Ids.** A chunk is held under its `chunk_id`; re-indexing the same text yields the same ids.
- **Changes are per article.** `remove(sources)` drops every chunk of those files; `put(chunks,
  vectors, texts)` adds chunks of files whose old chunks were removed first. The manifest's `files`
  entry (hash, doc_id, chunk count) is set by `rag.ingest` before `put` and is the record of truth.
- **Search.** `search(vector, words, depth, rrf_k, dates)` ranks by meaning (unit-vector inner
  product) and by BM25 over `texts`, `depth` each, fuses the two by reciprocal rank fusion
  (1 / (rrf_k + rank), rank from 1) and returns (chunk, fused score) best first, ties by chunk id.
  With `dates` (since, until: ISO days, either open) only chunks of articles dated in the range take
  part; an undated article is outside every range.
- **Atomicity and crashes.** `rag.disk.save` makes a new generation (manifest plus the backend's
  files) current in one rename, after `write(staging)` has made the backend's state durable. The
  FAISS store writes all of itself there, so a crash at any point leaves the previous generation
  whole: `stale()` is always empty. Milvus changes in place, so before its first change it records,
  in a journal beside the generations, every article it is about to touch; `saved()` clears the
  journal once the manifest naming the change is current. A crash at any point leaves the journal.
- **Proof of agreement.** `stale()` names the articles whose chunks may differ from what the
  manifest says: FAISS checks counts, ids and checksums at load and raises `PartsDisagree` instead;
  Milvus names the journal's articles, and when its row count differs from the manifest's, every
  article whose stored (source, file hash) rows do not match its manifest entry. The next update
  removes and re-embeds exactly those.
It does not read, chunk or embed files (`rag.ingest` does).
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING, ClassVar, Protocol

import numpy as np

from rag.errors import RagError
from rag.records import Chunk

if TYPE_CHECKING:
    from rag.bm25 import TermStats
    from rag.settings import Settings

Dates = tuple[str | None, str | None]  # since, until: ISO dates, either end open
STORES = ("faiss", "milvus")


class PartsDisagree(Exception):
    """A generation's parts do not agree with its manifest; `rag.disk` reports it as damage."""


class Store(Protocol):
    """A search backend holding chunks with their vectors and words (see the module docstring)."""

    name: ClassVar[str]  # recorded in the manifest's shape: an index of another store is rebuilt
    precision: ClassVar[str]  # of the stored vectors, recorded likewise
    manifest: dict
    generation: str | None
    dimension: int

    @classmethod
    def check(cls, settings: Settings) -> None:
        """Raises `RagError` in one line when the backend cannot be used, before any work is done."""
        ...

    @classmethod
    def empty(cls, dimension: int, settings: Settings, manifest: dict | None = None) -> Store: ...

    @classmethod
    def read(cls, folder: Path, manifest: dict, settings: Settings) -> Store:
        """The store a saved generation describes. Raises `PartsDisagree` or `RagError`."""
        ...

    def __len__(self) -> int: ...

    def describe(self) -> str:
        """One line: the backend, where it keeps its data, and how many chunks it holds."""
        ...

    def search(
        self, vector: np.ndarray, words: str, depth: int, rrf_k: int, dates: Dates | None = None
    ) -> list[tuple[Chunk, float]]: ...

    def put(self, chunks: list[Chunk], vectors: np.ndarray, texts: list[str]) -> None: ...

    def remove(self, sources: Iterable[str]) -> None: ...

    def stale(self) -> set[str]: ...

    def write(self, folder: Path) -> None:
        """Makes the store durable and writes its files (if it keeps any) into a staging generation."""
        ...

    def saved(self) -> None:
        """Called once the generation naming the store's state is current."""
        ...

    @property
    def term_stats(self) -> TermStats | None: ...

    # What the manifest says (`Catalogue`).
    @property
    def files(self) -> dict[str, dict]: ...

    @property
    def docs_dir(self) -> Path | None: ...

    @property
    def embedding_model(self) -> str | None: ...

    def copy_of(self, source: str) -> str | None: ...

    def author(self, source: str) -> str | None: ...

    def also_in(self, source: str) -> tuple[str, ...]: ...

    def url(self, source: str) -> str | None: ...

    def dates_any(self, dates: Dates) -> bool: ...


class Catalogue:
    """What the manifest says about the indexed articles; both backends read it the same way."""

    manifest: dict

    @property
    def files(self) -> dict[str, dict]:
        """Per article file (path relative to the docs folder): its hash, id, title and chunk count."""
        return self.manifest.setdefault("files", {})

    @property
    def embedding_model(self) -> str | None:
        return self.manifest.get("shape", {}).get("embedding_model")

    @property
    def docs_dir(self) -> Path | None:
        """The absolute docs folder the index was built from; None for an index that predates the record."""
        recorded = self.manifest.get("docs_dir")
        return Path(recorded) if recorded else None

    def copy_of(self, source: str) -> str | None:
        """The newest copy of the story in `source`, when `source` is an older copy (rag.fold)."""
        return self.files.get(source, {}).get("copy_of")

    def author(self, source: str) -> str | None:
        """The byline the article in `source` states; None when it states none."""
        return self.files.get(source, {}).get("author")

    def url(self, source: str) -> str | None:
        """The story's own address, when its file, feed item or export row gives one."""
        return self.files.get(source, {}).get("url")

    def also_in(self, source: str) -> tuple[str, ...]:
        """The other files holding the story of `source`, when `source` is its newest copy."""
        return tuple(self.files.get(source, {}).get("also_in", ()))

    def dates_any(self, dates: Dates) -> bool:
        """Whether any indexed article states a date within `dates`."""
        return any(in_range(entry.get("published"), dates) for entry in self.files.values())


def in_range(published: str | None, dates: Dates) -> bool:
    """Whether an article dated `published` (None: undated) falls within `dates`, ends inclusive."""
    since, until = dates
    return bool(published) and (since is None or published >= since) and (until is None or published <= until)


def store_class(settings: Settings) -> type[Store]:
    """The backend `settings.store` names; its module loads only when chosen."""
    if settings.store == "milvus":
        from rag.store.milvus import MilvusStore

        return MilvusStore
    if settings.store == "faiss":
        from rag.store.faiss_bm25 import FaissStore

        return FaissStore
    raise RagError(f"store must be one of {', '.join(STORES)}, got {settings.store!r}.")
