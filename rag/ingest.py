"""`update(settings)` → (Store, UpdateReport): bring the saved index up to date with the docs folder.

The ingest step reads, chunks and embeds; the `Store` only holds what it is given. Only files whose
bytes changed since the last save are read, chunked and embedded, one article at a time (a feed's or
an export's items one by one, and only the new and changed ones: `rag.changes`), their chunks
embedded in batches and put; files deleted from the folder have their chunks removed. Files over
`settings.max_file_mb` (for feeds and exports: items), binary, scanned and empty files are skipped
with a reason. When nothing changed, the index is loaded and nothing is locked or written.

The manifest records everything that shapes the index (`shape`): chunk size and overlap, the recipe
of the embedded text, the embedding model and its files, the store's backend and precision, and
(in `rag.disk`) the format version and dimension. Any difference rebuilds the whole index, with a
line saying what changed ("chunk size changed from 160 to 120 words"). For a model that can be
exported (`rag.onnx_encoder`), the ONNX graph is kept beside the index and named in the manifest,
so questions are embedded without torch.

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

from rag import disk
from rag.changes import EMBED_RECIPE, Plan, Progress, apply, plan
from rag.embedding import Embedder, export_graph, model_fingerprint
from rag.errors import IndexDamaged, RagError
from rag.folder import Folder
from rag.formats import file_of
from rag.lock import writer_lock
from rag.settings import Settings
from rag.store import Store, store_class


def shape(settings: Settings) -> dict:
    """Everything besides the files that decides what an index holds; a change rebuilds it."""
    return {
        "chunk_words": settings.chunk_words,
        "chunk_overlap_words": settings.chunk_overlap_words,
        "embed_text": EMBED_RECIPE,
        "embedding_model": settings.embedding_model,
        "model_files": model_fingerprint(settings.embedding_model),
        **store_shape(settings),
    }


def store_shape(settings: Settings) -> dict:
    """What of the store's choice shapes an index: its backend, and for Milvus its address."""
    backend = store_class(settings)
    shaped = {"backend": backend.name, "precision": backend.precision}
    if settings.store == "milvus":
        shaped["milvus_uri"] = settings.milvus_address
    return shaped


@dataclass(frozen=True)
class UpdateReport:
    files: int  # article files (a feed or an export is one)
    chunks: int
    embedded_files: int  # articles whose chunks were (re-)embedded (a file's, or an item's of a feed)
    embedded_chunks: int
    removed_files: int
    seconds: float
    rebuilt_because: str | None = None  # why the whole index was rebuilt, if it was
    skipped: tuple[tuple[str, str], ...] = ()  # (source, reason) of files left out
    notes: tuple[str, ...] = ()  # one line each: a repair, a folder adopted, changes not saved
    unsaved: int = 0  # changed or deleted files the index could not take in (read-only folder)
    articles: int = 0  # articles indexed: one per file, one per item of a feed or an export

    @property
    def changed(self) -> bool:
        return bool(self.embedded_files or self.removed_files or self.rebuilt_because)

    @property
    def messages(self) -> tuple[str, ...]:
        """What to tell the user, a line each: why everything was rebuilt (unless asked to), then the notes."""
        asked = self.rebuilt_because in (None, "rebuild requested")
        return self.notes if asked else (self.rebuilt_because, *self.notes)

    def summary(self) -> str:
        held = (
            f"{self.files} files"
            if self.articles in (0, self.files)
            else f"{self.files} files ({self.articles} articles)"
        )
        return (
            f"Indexed {held}, {self.chunks} chunks "
            f"({self.embedded_files} files re-embedded, {self.removed_files} removed) "
            f"in {self.seconds:.1f} s."
        )


def update(
    settings: Settings,
    rebuild: bool = False,
    progress: Callable[[Progress], None] | None = None,
    notify: Callable[[str], None] | None = None,
    embedder: Embedder | None = None,
) -> tuple[Store, UpdateReport]:
    """Brings the index in `settings.index_dir` up to date with `settings.docs_dir`.

    `progress` is called as articles are embedded; `notify(line)` with a line worth showing before
    the work is done (another process holds the writer lock; the index is being rebuilt and why).
    `embedder` overrides the one made from the settings (and the exported graph).
    """
    started = time.perf_counter()
    index_dir = settings.index_dir
    disk.check_location(index_dir)
    store_class(settings).check(settings)
    folder = Folder(settings)
    wanted = shape(settings)
    rebuild_note = None
    try:
        live, damage = (None, None) if rebuild else (disk.load(index_dir, settings), None)
    except IndexDamaged as err:
        live, damage = None, err
    except disk.OtherFormat as err:
        live, damage = None, None
        rebuild_note = f"{err.note}; rebuilt the index"
    here = settings.docs_dir.resolve()
    notes = [note] if live is not None and (note := check_docs_folder(live, folder, index_dir)) else []
    first = plan(live, folder, wanted, "rebuild requested" if rebuild else rebuild_note)
    if live is not None and damage is None and not first.changes and _graph_ok(live, index_dir):
        # Nothing to embed. An index that took this folder as its own is saved once to record it.
        if live.docs_dir == here or not disk.writable(index_dir):
            return live, _report(live, first, 0, started, folder, notes)
    elif not disk.writable(index_dir):
        return _read_only(live, damage, first, index_dir, started, folder, notes)

    with writer_lock(index_dir, settings.lock_timeout_s, notify):
        folder = Folder(settings)  # as it is now that no one else writes
        base, repair, reason = _base(settings, rebuild, rebuild_note)
        adopted = check_docs_folder(base, folder, index_dir) if base is not None else None
        notes = [n for n in (repair, adopted) if n]
        todo = plan(base, folder, wanted, reason)
        if todo.reason and notify and todo.reason != "rebuild requested":
            notify(todo.reason.replace("; rebuilt the index", ": rebuilding the index"))
        graph = export_graph(settings.embedding_model, index_dir) if settings.embedding_backend == "auto" else None
        up_to_date = todo.base is not None and not (repair or todo.changes or todo.base.docs_dir != here)
        if up_to_date and _graph_ok(todo.base, index_dir, graph):
            return todo.base, _report(todo.base, todo, 0, started, folder, notes)
        if not todo.kept and not any(s not in folder.skipped for s in todo.fresh):
            raise RagError(f"No readable articles in {settings.docs_dir}/ (skipped: {', '.join(folder.skipped)}).")
        embedder = embedder or Embedder(settings.embedding_model, settings.embed_batch_size, graph)
        store, embedded, articles = apply(todo, folder, settings, embedder, progress)
        store.manifest.update(
            shape=todo.shape,
            docs_dir=str(here),
            encoder=_graph_record(graph),
        )
        disk.save(store, index_dir, keep=todo.base.generation if todo.base is not None else None)
    return store, _report(store, todo, embedded, started, folder, notes, articles=articles)


def _graph_ok(store: Store, index_dir: Path, graph: Path | None = None) -> bool:
    """Whether the manifest names the graph the model exports to (or none, when there is none)."""
    record = store.manifest.get("encoder")
    if graph is None:
        return record is None or (index_dir / record["file"]).is_file()
    return record == _graph_record(graph)


def _graph_record(graph: Path | None) -> dict | None:
    if graph is None:
        return None
    return {"file": graph.name, "sha256": disk.sha256(graph)}


def _base(settings: Settings, rebuild: bool, format_note: str | None) -> tuple[Store | None, str | None, str | None]:
    """With the lock held: the index to build on, a note when that is a repair, and why everything
    is rebuilt (if it is). The base is the live index or, when that is damaged, the newest intact
    earlier generation; a repaired index is saved even when no file changed."""
    index_dir = settings.index_dir
    if rebuild:
        return None, None, "rebuild requested"
    try:
        return disk.load(index_dir, settings), None, None
    except disk.OtherFormat as err:
        return None, None, format_note or f"{err.note}; rebuilt the index"
    except IndexDamaged as err:
        damage = err
    for generation in disk.generations(index_dir):
        if generation == damage.generation:
            continue
        try:
            earlier = disk.load_generation(index_dir, generation, settings)
        except (IndexDamaged, disk.OtherFormat):
            continue
        note = (
            f"the index in {index_dir}/ was damaged ({damage.what}); repaired it from {generation}, "
            "re-embedding only the files changed since"
        )
        return earlier, note, None
    reason = f"the index in {index_dir}/ was damaged ({damage.what}) and no earlier generation was intact; rebuilt it"
    return None, None, reason


def check_docs_folder(index: Store, folder: Folder, index_dir: Path) -> str | None:
    """Raises `RagError` when `index` was built from another docs folder than `folder`; else None,
    or a note when it takes `folder` as its own (nothing it holds is missing from it)."""
    here = folder.docs_dir.resolve()
    recorded = index.docs_dir
    if recorded == here:
        return None
    missing = [s for s in index.files if file_of(s) not in folder.paths]
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
    live: Store | None,
    damage: IndexDamaged | None,
    todo: Plan,
    index_dir: Path,
    started: float,
    folder: Folder,
    notes: list[str],
) -> tuple[Store, UpdateReport]:
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


def _report(
    index: Store,
    todo: Plan,
    embedded: int,
    started: float,
    folder: Folder,
    notes: list[str],
    applied: bool = True,
    articles: int = 0,
) -> UpdateReport:
    """What `index` holds and what `todo` changed (`articles` embedded); with `applied` false,
    `todo` could not be saved."""
    changes = len(todo.fresh) + len(todo.removed)
    return UpdateReport(
        files=len({file_of(s) for s in index.files}),
        chunks=len(index),
        embedded_files=articles if applied else 0,
        embedded_chunks=embedded,
        removed_files=len(todo.removed) if applied else 0,
        seconds=time.perf_counter() - started,
        rebuilt_because=todo.reason if applied else None,
        skipped=tuple(folder.skipped.items()),
        notes=tuple(notes),
        unsaved=0 if applied else changes,
        articles=len(index.files),
    )
