"""The index folder on disk: a `Store`'s manifest and files saved as a generation, behind an
atomically replaced pointer.

Layout (see index/README.md): `CURRENT` names the live generation folder `gen-<nanoseconds>`, which
holds `manifest.json` and whatever files the store keeps (the FAISS store: `chunks.jsonl`,
`vectors.faiss` and `bm25/`; Milvus keeps its data in Milvus). The manifest records the docs
folder the index was built from, everything that shaped it (`rag.ingest`), the store that holds it
and the SHA-256 of every other file of its generation. Nothing is rebuilt on load.

`save` writes a whole new generation in a staging folder of its own, swaps `CURRENT` with one
atomic rename and keeps the generation before it, so a crash mid-save leaves the live index in use
and damage to the live index costs one generation. Only the holder of the writer lock
(`rag.lock`) may save. `load` takes no lock: it checks that the parts agree (checksums, counts,
ids) and raises `IndexDamaged` when they do not, after retrying a load that a save raced.
It does not decide what to re-embed (`rag.ingest` does).
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import tempfile
import time
from pathlib import Path

from rag.errors import IndexDamaged, RagError
from rag.settings import Settings
from rag.store import PartsDisagree, Store, store_class

# Raise when the files' layout changes: an index of another format is rebuilt, not mixed.
FORMAT_VERSION = 4  # 4: chunks keyed by id in FAISS and in BM25 arrays of its own (3: bm25s, row order)
POINTER = "CURRENT"
MANIFEST = "manifest.json"
_GENERATION = re.compile(r"gen-\d+")
#: Loads tried while saves keep switching CURRENT under the reader.
LOAD_TRIES = 5
# What reading a generation's files raises when they are truncated or garbled (faiss: RuntimeError;
# numpy: ValueError, EOFError; a short chunk row: TypeError, KeyError).
_UNREADABLE = (OSError, ValueError, EOFError, KeyError, TypeError, IndexError, RuntimeError)


class OtherFormat(Exception):
    """The saved index is of another format version or held by another store; it is rebuilt, not read."""

    def __init__(self, found: object, note: str | None = None) -> None:
        super().__init__(f"format {found}")
        self.found = found
        self.note = note or f"the index format changed from {found} to {FORMAT_VERSION}"


# --- where the index lives -----------------------------------------------------------------------


def check_location(index_dir: Path) -> None:
    """Raises `RagError` when `index_dir` cannot hold an index: it is a file, or its CURRENT is a folder."""
    if index_dir.exists() and not index_dir.is_dir():
        raise RagError(f"The index folder {index_dir} is a file; pass --index-dir with a folder, or move the file.")
    pointer = index_dir / POINTER
    if pointer.is_dir():
        raise RagError(f"{pointer} is a folder, not the index's pointer file; move it out of {index_dir}/.")


def writable(index_dir: Path) -> bool:
    """Whether this process can make `index_dir` (when missing) and write files in it, found by trying."""
    folder = index_dir
    while not folder.exists() and folder != folder.parent:
        folder = folder.parent
    try:
        fd, probe = tempfile.mkstemp(dir=folder, prefix=".write-check-")
    except OSError:
        return False
    os.close(fd)
    os.unlink(probe)
    return True


def generations(index_dir: Path) -> list[str]:
    """The complete generation folders in `index_dir`, newest first."""
    if not index_dir.is_dir():
        return []
    found = [p.name for p in index_dir.iterdir() if _GENERATION.fullmatch(p.name) and p.is_dir()]
    return sorted(found, key=lambda name: int(name[4:]), reverse=True)


# --- load ----------------------------------------------------------------------------------------


def load(index_dir: Path, settings: Settings | None = None) -> Store | None:
    """The live index in `index_dir`, read by the store `settings` names (default FAISS); None when there is none.

    Raises `OtherFormat` for an index of another format version, `IndexDamaged` when its parts disagree. A load that fails while a save switches
    CURRENT is tried again with the new generation: a race is not damage.
    """
    for _ in range(LOAD_TRIES):
        generation = read_pointer(index_dir)
        if generation is None:
            if generations(index_dir):
                raise IndexDamaged(index_dir, f"{POINTER} is missing")
            return None
        try:
            return load_generation(index_dir, generation, settings)
        except IndexDamaged:
            if read_pointer(index_dir) == generation:
                raise
    raise RagError(f"The index in {index_dir}/ was replaced {LOAD_TRIES} times while being read; try again.")


def read_pointer(index_dir: Path) -> str | None:
    """The generation CURRENT names; None when there is no CURRENT. Raises `IndexDamaged` for garbage."""
    try:
        raw = (index_dir / POINTER).read_bytes()
    except (FileNotFoundError, NotADirectoryError):
        return None
    except OSError as err:
        raise IndexDamaged(index_dir, f"{POINTER} cannot be read: {err.strerror}") from None
    name = raw.decode("ascii", errors="replace").strip()
    if not _GENERATION.fullmatch(name):
        raise IndexDamaged(index_dir, f"{POINTER} does not name a generation")
    return name


def load_generation(index_dir: Path, generation: str, settings: Settings | None = None) -> Store:
    """The index saved in `index_dir/generation`, checked. Raises `OtherFormat` or `IndexDamaged`."""
    settings = settings or Settings(index_dir=index_dir)
    backend = store_class(settings)
    folder = index_dir / generation

    def damaged(what: str) -> IndexDamaged:
        return IndexDamaged(index_dir, f"{generation}: {what}", generation)

    try:
        manifest = json.loads((folder / MANIFEST).read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise damaged(f"{MANIFEST} is missing") from None
    except (OSError, ValueError) as err:
        raise damaged(f"{MANIFEST} is unreadable: {_first_line(err)}") from None
    if not isinstance(manifest, dict):
        raise damaged(f"{MANIFEST} is not an object")
    if manifest.get("format") != FORMAT_VERSION:
        raise OtherFormat(manifest.get("format"))
    held_by = manifest.get("shape", {}).get("backend")
    if held_by != backend.name:
        raise OtherFormat(manifest["format"], f"the vector store changed from {held_by} to {backend.name}")
    # Indexes saved before checksums were recorded are checked by counts and ids alone.
    for name, digest in manifest.get("checksums", {}).items():
        try:
            if sha256(folder / name) != digest:
                raise damaged(f"{name} does not match its checksum")
        except OSError:
            raise damaged(f"{name} is missing or unreadable") from None
    try:
        store = backend.read(folder, manifest, settings)
    except PartsDisagree as err:
        raise damaged(str(err)) from None
    except _UNREADABLE as err:
        raise damaged(f"{type(err).__name__}: {_first_line(err)}") from None
    store.generation = generation
    return store


# --- save ----------------------------------------------------------------------------------------


def save(index: Store, index_dir: Path, keep: str | None = None) -> str:
    """Writes `index` as a new generation, makes it current in one atomic rename, and returns its name.

    The store makes its state durable and writes its files into the staging folder first
    (`Store.write`) and hears when the generation is current (`Store.saved`). Afterwards every
    other generation is removed except `keep`, by default the one that was current before (a
    repair names the intact one it started from), and so are staging folders that crashed writers
    left behind. Call it holding `rag.lock.writer_lock`.
    """
    index_dir.mkdir(parents=True, exist_ok=True)
    if keep is None:
        try:
            keep = read_pointer(index_dir)
        except IndexDamaged:
            keep = None
    _remove(index_dir, lambda p: p.name.endswith(".partial"))  # stale: only the lock holder writes
    generation = f"gen-{time.time_ns()}"
    staging = index_dir / f".{generation}-{os.getpid()}.partial"
    staging.mkdir()
    try:
        index.write(staging)
        parts = sorted(p for p in staging.rglob("*") if p.is_file())
        checksums = {p.relative_to(staging).as_posix(): sha256(p) for p in parts}
        manifest = {
            **index.manifest,
            "format": FORMAT_VERSION,
            "dimension": index.dimension,
            "chunks": len(index),
            "checksums": checksums,
        }
        (staging / MANIFEST).write_text(json.dumps(manifest, indent=1, ensure_ascii=False), encoding="utf-8")
        _fsync_tree(staging)
        staging.rename(index_dir / generation)
        _replace_pointer(index_dir, generation)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    index.generation = generation
    index.manifest = manifest
    index.saved()
    _remove(index_dir, lambda p: _GENERATION.fullmatch(p.name) is not None and p.name not in (generation, keep))
    return generation


def _replace_pointer(index_dir: Path, generation: str) -> None:
    tmp = index_dir / f".{POINTER}.{os.getpid()}.tmp"
    with open(tmp, "w") as f:
        f.write(generation + "\n")
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, index_dir / POINTER)
    _fsync_dir(index_dir)


def _remove(index_dir: Path, doomed) -> None:
    for folder in index_dir.iterdir():
        if folder.is_dir() and doomed(folder):
            shutil.rmtree(folder, ignore_errors=True)


def sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _first_line(err: BaseException) -> str:
    text = str(err).strip()
    return text.splitlines()[0] if text else "no details"


def _fsync_tree(folder: Path) -> None:
    for path in folder.rglob("*"):
        if path.is_file():
            with open(path, "rb") as f:
                os.fsync(f.fileno())
    _fsync_dir(folder)


def _fsync_dir(folder: Path) -> None:
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
