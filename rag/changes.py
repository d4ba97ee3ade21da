"""What an update changes: `plan` compares the saved index with the docs folder, `apply` makes it so.

An article is kept, with its chunks and vectors, when its file's bytes are unchanged (for a feed or
an export: the whole file's, and then every item of it is kept); otherwise its file is read again.
A feed or an export that changed is read item by item and only its new and changed items are
embedded; items it no longer holds are removed. Articles the store names stale (a crash left them
half-changed) are read and embedded again. It does not load or save the index (`rag.ingest` and
`rag.disk` do) and does not decide when to rebuild beyond a changed shape.
"""

from __future__ import annotations

import base64
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from rag.chunking import chunk_article
from rag.duplicates import sign
from rag.embedding import Embedder
from rag.fold import body_text, mark_copies
from rag.folder import Folder, holds_many
from rag.formats import file_of
from rag.records import Article, Chunk
from rag.settings import Settings
from rag.store import Store, store_class

#: What is embedded and BM25-indexed for a chunk, recorded in the manifest.
EMBED_RECIPE = "title\\ntext"
#: Chunks embedded and upserted together.
EMBED_BATCH = 256


def embed_text(chunk: Chunk) -> str:
    """What gets embedded and BM25-indexed for a chunk: its article's title, then its text."""
    return f"{chunk.title}\n{chunk.text}"


def shape_change(old: dict, new: dict) -> str | None:
    """One line saying what differs between two shapes, or None when they agree."""
    said = {
        "chunk_words": "chunk size changed from {} to {} words",
        "chunk_overlap_words": "chunk overlap changed from {} to {} words",
        "embed_text": "the embedded text changed from {!r} to {!r}",
        "embedding_model": "the embedding model changed from {} to {}",
        "model_files": "the embedding model's files changed ({} to {})",
        "backend": "the vector store changed from {} to {}",
        "precision": "the vectors' precision changed from {} to {}",
        "milvus_uri": "the Milvus address changed from {} to {}",
    }
    for key, sentence in said.items():
        if old.get(key) != new.get(key):
            return sentence.format(old.get(key), new.get(key))
    return None


@dataclass(frozen=True)
class Progress:
    """How far an update has come: for progress bars and log lines."""

    files_done: int
    files_total: int
    chunks_done: int
    seconds: float


@dataclass(frozen=True)
class Plan:
    """What turns `base` (None: nothing) into an index of the folder."""

    base: Store | None
    kept: dict[str, dict]  # manifest entries of unchanged articles, kept with their chunks and vectors
    fresh: tuple[str, ...]  # new and changed files, to read (feeds and exports: to read again) and embed
    removed: tuple[str, ...]  # articles of `base` whose file is gone
    reason: str | None  # why everything is rebuilt, if it is
    shape: dict = field(default_factory=dict)
    # Entries of the items of fresh feeds and exports: kept when the file, read again, holds the
    # item unchanged; removed when it holds it no more.
    items: dict[str, dict] = field(default_factory=dict)

    @property
    def changes(self) -> bool:
        return bool(self.fresh or self.removed or self.reason)


def plan(base: Store | None, folder: Folder, wanted: dict, reason: str | None = None) -> Plan:
    if base is not None and (change := shape_change(base.manifest.get("shape", {}), wanted)):
        reason, base = f"{change}; rebuilt the index", None
    old_files = base.files if base is not None else {}
    # Articles a crash may have left half-changed in the store are re-embedded (or removed) too.
    stale = base.stale() if base is not None else set()
    read_as = base.manifest.get("item_files", {}) if base is not None else {}
    dirty = {file_of(s) for s in stale}
    # A feed or an export is unchanged when its bytes are; then so is every item of it.
    whole = {f for f, h in folder.hashes.items() if holds_many(f) and read_as.get(f) == h and f not in dirty}

    def unchanged(source: str, entry: dict) -> bool:
        if source in stale:
            return False
        held_in = file_of(source)
        return held_in in whole if held_in != source else folder.hashes.get(source) == entry["hash"]

    kept = {s: e for s, e in old_files.items() if unchanged(s, e)}
    fresh = tuple(f for f in folder.hashes if f not in kept and f not in whole)
    again = set(fresh)
    items = {
        s: e
        for s, e in old_files.items()
        if s not in kept and s not in stale and file_of(s) in again and file_of(s) != s
    }
    gone = dict.fromkeys([*old_files, *sorted(stale)])
    removed = tuple(s for s in gone if s not in kept and file_of(s) not in folder.hashes)
    return Plan(base, kept, fresh, removed, reason, wanted, items)


def apply(
    todo: Plan, folder: Folder, settings: Settings, embedder: Embedder, progress: Callable[[Progress], None] | None
) -> tuple[Store, int, int]:
    """The base with gone and changed articles' chunks deleted and fresh ones' chunks put, each
    article read, chunked and embedded in turn, a batch of chunks at a time; a feed or an export
    is read again item by item and only its new and changed items are embedded. Returns the store,
    the chunks embedded and the articles embedded."""
    store = todo.base
    if store is None:
        store = store_class(settings).empty(embedder.dimension, settings)
    store.manifest["shape"] = todo.shape
    doomed = [s for s in {*store.files, *todo.removed} if s not in todo.kept and s not in todo.items]
    store.remove([*doomed, *todo.fresh])
    for source in doomed:
        store.files.pop(source, None)
    read_as = store.manifest.setdefault("item_files", {})
    for gone in [f for f in read_as if f not in folder.hashes]:
        del read_as[gone]
    started = time.perf_counter()
    pending: list[Chunk] = []
    counts = {"chunks": 0, "articles": 0}

    def flush() -> None:
        if pending:
            texts = [embed_text(c) for c in pending]
            store.put(list(pending), embedder.encode_documents(texts), texts)
            counts["chunks"] += len(pending)
            pending.clear()

    def add(article: Article, file: str) -> None:
        chunks = chunk_article(article, settings.chunk_words, settings.chunk_overlap_words)
        store.files[article.source] = _entry(article, len(chunks), folder.paths[file].stat().st_mtime)
        counts["articles"] += 1
        pending.extend(chunks)
        if len(pending) >= EMBED_BATCH:
            flush()

    for done, source in enumerate(todo.fresh, start=1):
        if source in folder.skipped:
            pass
        elif holds_many(source):
            seen: set[str] = set()
            for item in folder.items(source):
                old = todo.items.get(item.source)
                if item.source in seen or old is not None and old["hash"] != item.file_hash:
                    flush()  # a repeated key is a later version of the item: it replaces the first
                    store.remove([item.source])
                elif old is not None:
                    seen.add(item.source)
                    continue  # unchanged: its chunks and its entry stay
                seen.add(item.source)
                add(item, source)
            left = [s for s in todo.items if file_of(s) == source and s not in seen]
            store.remove(left)
            for s in left:
                store.files.pop(s, None)
            read_as[source] = folder.hashes[source]
        elif (article := folder.article(source)) is not None:
            add(article, source)
        if progress and done < len(todo.fresh):
            progress(Progress(done, len(todo.fresh), counts["chunks"], time.perf_counter() - started))
    flush()
    mark_copies(store.files)
    store.manifest["files"] = dict(sorted(store.files.items()))
    if progress and todo.fresh:
        progress(Progress(len(todo.fresh), len(todo.fresh), counts["chunks"], time.perf_counter() - started))
    return store, counts["chunks"], counts["articles"]


def _entry(article: Article, chunks: int, modified: float) -> dict:
    """An article's manifest entry: what tells a changed file apart, and what answers show of it."""
    return {
        "hash": article.file_hash,
        "doc_id": article.doc_id,
        "title": article.title,
        "chunks": chunks,
        "published": article.published,
        "author": article.author,
        "url": article.url,
        "modified": modified,
        "minhash": base64.b64encode(sign(body_text(article)).to_bytes()).decode("ascii"),
    }
