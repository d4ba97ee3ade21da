"""`update(settings, embedder) -> (Index, UpdateReport)`: bring the saved index up to date with the docs folder.

Only files whose bytes changed since the last save are read, chunked and embedded; files deleted
from the folder leave the index; files over `settings.max_file_mb`, binary and empty files are
skipped with a reason. When nothing changed, the index is loaded and nothing is locked or written.

Before any embedding it checks that the index folder can be written, then takes the writer lock
(`rag.lock`) and looks again, since another writer may have saved meanwhile. It refuses, in one
line, an index built from another docs folder (nothing is removed without `rebuild`). A damaged
index is repaired from the newest intact earlier generation, re-embedding only what changed since,
or rebuilt when none is intact; either way the report says so. An intact index in a folder this
process cannot write is still used, and the report says what could not be indexed.
It does not watch the docs folder.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from rag import store
from rag.articles import check_size, file_hash, list_files, read_article, source_name
from rag.chunking import chunk_article
from rag.errors import IndexDamaged, RagError
from rag.lock import writer_lock
from rag.records import Article, Chunk
from rag.settings import Settings
from rag.store import Index

if TYPE_CHECKING:
    from rag.embedding import Embedder


@dataclass(frozen=True)
class UpdateReport:
    files: int
    chunks: int
    embedded_files: int  # files whose chunks were (re-)embedded
    embedded_chunks: int
    removed_files: int
    seconds: float
    rebuilt_because: str | None = None  # why the whole index was rebuilt, if it was
    skipped: tuple[tuple[str, str], ...] = ()  # (source, reason) of files left out
    notes: tuple[str, ...] = ()  # one line each: a repair, a folder adopted, changes not saved
    unsaved: int = 0  # changed or deleted files the index could not take in (read-only folder)

    @property
    def changed(self) -> bool:
        return bool(self.embedded_files or self.removed_files or self.rebuilt_because)

    @property
    def messages(self) -> tuple[str, ...]:
        """What to tell the user, a line each: why everything was rebuilt (unless asked to), then the notes."""
        asked = self.rebuilt_because in (None, "rebuild requested")
        return self.notes if asked else (self.rebuilt_because, *self.notes)

    def summary(self) -> str:
        return (
            f"Indexed {self.files} files, {self.chunks} chunks "
            f"({self.embedded_files} files re-embedded, {self.removed_files} removed) "
            f"in {self.seconds:.1f} s."
        )


class Folder:
    """The docs folder as it is now: each article file's SHA-256, and the articles read so far."""

    def __init__(self, settings: Settings) -> None:
        self.docs_dir = settings.docs_dir
        self.paths = {source_name(p, self.docs_dir): p for p in list_files(self.docs_dir)}
        self.hashes: dict[str, str] = {}
        self.skipped: dict[str, str] = {}
        self._articles: dict[str, Article] = {}
        for source, path in self.paths.items():
            try:
                check_size(source, path.stat().st_size, settings.max_file_mb)
                self.hashes[source] = file_hash(path.read_bytes())
            except RagError as err:
                self.skipped[source] = str(err)

    def article(self, source: str) -> Article | None:
        """The file's article, read once; None (and a reason in `skipped`) when it cannot be read."""
        if source not in self._articles and source not in self.skipped:
            try:
                self._articles[source] = read_article(source, self.paths[source].read_bytes())
            except RagError as err:
                self.skipped[source] = str(err)
        return self._articles.get(source)


@dataclass(frozen=True)
class Plan:
    """What turns `base` (None: nothing) into an index of the folder."""

    base: Index | None
    kept: dict[str, dict]  # manifest entries of unchanged files, carried over with their vectors
    fresh: list[Article]  # new and changed files, to embed
    removed: list[str]  # files of `base` the new index will not hold
    reason: str | None  # why everything is rebuilt, if it is

    @property
    def changes(self) -> bool:
        return bool(self.fresh or self.removed or self.reason)


def plan(base: Index | None, folder: Folder, model_name: str, reason: str | None = None) -> Plan:
    """What to keep, embed and drop to turn `base` into an index of `folder`; an index made with
    another embedding model is not a base at all (everything is rebuilt, for `reason`)."""
    if base is not None and base.embedding_model != model_name:
        reason = f"the index was built with {base.embedding_model}, not {model_name}; rebuilt it"
        base = None
    old_files = base.files if base is not None else {}
    kept = {s: e for s, e in old_files.items() if folder.hashes.get(s) == e["hash"]}
    fresh = [a for s in folder.hashes if s not in kept and (a := folder.article(s)) is not None]
    removed = [s for s in old_files if s not in kept and s not in {a.source for a in fresh}]
    return Plan(base, kept, fresh, removed, reason)


def update(
    settings: Settings,
    embedder: Embedder,
    rebuild: bool = False,
    progress: Callable[[int, int], None] | None = None,
    on_wait: Callable[[str], None] | None = None,
) -> tuple[Index, UpdateReport]:
    """Brings the index in `settings.index_dir` up to date with `settings.docs_dir`.

    `progress(done, total)` is called as chunks are embedded; `on_wait(line)` once if another
    process holds the writer lock.
    """
    started = time.perf_counter()
    index_dir = settings.index_dir
    store.check_location(index_dir)
    folder = Folder(settings)
    try:
        live, damage = (None, None) if rebuild else (store.load(index_dir), None)
    except IndexDamaged as err:
        live, damage = None, err
    here = settings.docs_dir.resolve()
    notes = [note] if live is not None and (note := check_docs_folder(live, folder, index_dir)) else []
    first = plan(live, folder, embedder.model_name, "rebuild requested" if rebuild else None)
    if live is not None and damage is None and not first.changes:
        # Nothing to embed. An index that took this folder as its own is saved once to record it.
        if live.docs_dir == here or not store.writable(index_dir):
            return live, _report(live, first, 0, started, folder, notes)
    elif not store.writable(index_dir):
        return _read_only(live, damage, first, index_dir, started, folder, notes)

    with writer_lock(index_dir, settings.lock_timeout_s, on_wait):
        folder = Folder(settings)  # as it is now that no one else writes
        base, repair, reason = _base(index_dir, rebuild)
        adopted = check_docs_folder(base, folder, index_dir) if base is not None else None
        notes = [n for n in (repair, adopted) if n]
        todo = plan(base, folder, embedder.model_name, reason)
        if todo.base is not None and todo.fresh and embedder.dimension != todo.base.vectors.d:
            reason = (
                f"the index's vectors have {todo.base.vectors.d} dimensions, {embedder.model_name} makes "
                f"{embedder.dimension}; rebuilt it"
            )
            todo = plan(None, folder, embedder.model_name, reason)
        if todo.base is not None and not (repair or todo.changes or todo.base.docs_dir != here):
            return todo.base, _report(todo.base, todo, 0, started, folder, notes)
        if not todo.kept and not todo.fresh:
            raise RagError(f"No readable articles in {settings.docs_dir}/ (skipped: {', '.join(folder.skipped)}).")
        index, embedded = _build(todo, settings, embedder, progress)
        store.save(index, index_dir, keep=todo.base.generation if todo.base is not None else None)
    return index, _report(index, todo, embedded, started, folder, notes)


def _base(index_dir: Path, rebuild: bool) -> tuple[Index | None, str | None, str | None]:
    """With the lock held: the index to build on, a note when that is a repair, and why everything
    is rebuilt (if it is). The base is the live index or, when that is damaged, the newest intact
    earlier generation; a repaired index is saved even when no file changed."""
    if rebuild:
        return None, None, "rebuild requested"
    try:
        return store.load(index_dir), None, None
    except IndexDamaged as err:
        damage = err
    for generation in store.generations(index_dir):
        if generation == damage.generation:
            continue
        try:
            earlier = store.load_generation(index_dir, generation)
        except IndexDamaged:
            continue
        if earlier is not None:
            note = (
                f"the index in {index_dir}/ was damaged ({damage.what}); repaired it from {generation}, "
                "re-embedding only the files changed since"
            )
            return earlier, note, None
    reason = f"the index in {index_dir}/ was damaged ({damage.what}) and no earlier generation was intact; rebuilt it"
    return None, None, reason


def check_docs_folder(index: Index, folder: Folder, index_dir: Path) -> str | None:
    """Raises `RagError` when `index` was built from another docs folder than `folder`; else None,
    or a note when it takes `folder` as its own (nothing it holds is missing from it)."""
    here = folder.docs_dir.resolve()
    recorded = index.docs_dir
    if recorded == here:
        return None
    missing = [s for s in index.files if s not in folder.paths]
    if recorded is None and not missing:
        return None  # saved before the folder was recorded, and its files are all here: this is the folder
    if recorded is not None and not recorded.exists() and not missing:
        return f"the index was built from {recorded}/, which is gone; it now follows {here}/"
    if recorded is None:
        raise RagError(
            f"The index in {index_dir}/ was built from another folder than {here}/ ({len(missing)} of its "
            f"{len(index.files)} files are not there): pass --docs THAT_FOLDER to use it, or --rebuild to rebuild "
            f"it from {here}/."
        )
    raise RagError(
        f"The index in {index_dir}/ was built from {recorded}/, not {here}/: pass --docs {recorded} to use it, "
        f"or --rebuild to rebuild it from {here}/."
    )


def _read_only(
    live: Index | None,
    damage: IndexDamaged | None,
    todo: Plan,
    index_dir: Path,
    started: float,
    folder: Folder,
    notes: list[str],
) -> tuple[Index, UpdateReport]:
    """The intact live index with a note on what could not be indexed; otherwise a one-line error."""
    if damage is not None:
        raise RagError(f"{damage} The folder is read-only, so it cannot be repaired here.")
    if live is None:
        what = "is read-only" if index_dir.exists() else "cannot be created there (the folder above is read-only)"
        raise RagError(f"The index folder {index_dir} {what}; pass --index-dir with a folder you can write.")
    note = (
        f"the index folder {index_dir}/ is read-only, so {len(todo.fresh) + len(todo.removed)} changed or "
        "deleted files could not be indexed; using the index as it is"
    )
    return live, _report(live, todo, 0, started, folder, [*notes, note], applied=False)


def _build(todo: Plan, settings: Settings, embedder: Embedder, progress) -> tuple[Index, int]:
    """The new index: the kept files' chunks and vectors, then the fresh files', embedded now."""
    fresh_chunks: list[Chunk] = []
    files = dict(todo.kept)
    for article in todo.fresh:
        chunks = chunk_article(article, settings.chunk_words, settings.chunk_overlap_words)
        files[article.source] = {
            "hash": article.file_hash,
            "doc_id": article.doc_id,
            "title": article.title,
            "chunks": len(chunks),
        }
        fresh_chunks.extend(chunks)
    vectors = _embed(embedder, fresh_chunks, progress)
    chunks = fresh_chunks
    if todo.base is not None and todo.kept:
        rows = [r for r, c in enumerate(todo.base.chunks) if c.source in todo.kept]
        vectors = np.vstack([todo.base.all_vectors()[rows], vectors])
        chunks = [todo.base.chunks[r] for r in rows] + fresh_chunks
    index = Index.build(embedder.model_name, settings.docs_dir, dict(sorted(files.items())), chunks, vectors)
    return index, len(fresh_chunks)


def _embed(embedder: Embedder, chunks: list[Chunk], progress: Callable[[int, int], None] | None) -> np.ndarray:
    texts = [store.embed_text(c) for c in chunks]
    if not texts:
        return np.zeros((0, embedder.dimension), dtype=np.float32)
    parts = []
    step = max(embedder.batch_size * 4, 256)
    for begin in range(0, len(texts), step):
        parts.append(embedder.encode(texts[begin : begin + step]))
        if progress:
            progress(min(begin + step, len(texts)), len(texts))
    return np.vstack(parts)


def _report(
    index: Index, todo: Plan, embedded: int, started: float, folder: Folder, notes: list[str], applied: bool = True
) -> UpdateReport:
    """What `index` holds and what `todo` changed; with `applied` false, `todo` could not be saved."""
    changes = len(todo.fresh) + len(todo.removed)
    return UpdateReport(
        files=len(index.files),
        chunks=len(index.chunks),
        embedded_files=len(todo.fresh) if applied else 0,
        embedded_chunks=embedded,
        removed_files=len(todo.removed) if applied else 0,
        seconds=time.perf_counter() - started,
        rebuilt_because=todo.reason if applied else None,
        skipped=tuple(folder.skipped.items()),
        notes=tuple(notes),
        unsaved=0 if applied else changes,
    )
