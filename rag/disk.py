"""The index folder on disk: a `Store` saved as a generation, behind an atomically replaced pointer.

Layout (see index/README.md): `CURRENT` names the live generation folder `gen-<nanoseconds>`, which
holds `manifest.json`, `chunks.jsonl`, `vectors.faiss` and `bm25/`. The manifest records the docs
folder the index was built from, everything that shaped it (`rag.ingest`) and the SHA-256 of every
other file of its generation. Nothing is rebuilt on load: the chunk table is read, the vectors and
the BM25 arrays are read as saved (the arrays memory-mapped).

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
from collections import Counter
from dataclasses import asdict
from pathlib import Path

from rag.bm25 import Bm25
from rag.errors import IndexDamaged, RagError
from rag.records import Chunk, content_id
from rag.store import Store, faiss_id

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
    """The saved index is of another format version; it is rebuilt, not read."""

    def __init__(self, found: object) -> None:
        super().__init__(f"format {found}")
        self.found = found


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


def load(index_dir: Path) -> Store | None:
    """The live index in `index_dir`; None when there is none.

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
            return load_generation(index_dir, generation)
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


def load_generation(index_dir: Path, generation: str) -> Store:
    """The index saved in `index_dir/generation`, checked. Raises `OtherFormat` or `IndexDamaged`."""
    import faiss

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
    # Indexes saved before checksums were recorded are checked by counts and ids alone.
    for name, digest in manifest.get("checksums", {}).items():
        try:
            if sha256(folder / name) != digest:
                raise damaged(f"{name} does not match its checksum")
        except OSError:
            raise damaged(f"{name} is missing or unreadable") from None
    try:
        with open(folder / "chunks.jsonl", encoding="utf-8") as f:
            chunks = [Chunk(**json.loads(line)) for line in f]
        vectors = faiss.read_index(str(folder / "vectors.faiss"))
        bm25 = Bm25.load(folder / "bm25")
        problem = disagreement(manifest, chunks, vectors, bm25)
    except _UNREADABLE as err:
        raise damaged(f"{type(err).__name__}: {_first_line(err)}") from None
    if problem:
        raise damaged(problem)
    store = Store(manifest["dimension"], {c.chunk_id: c for c in chunks}, vectors, bm25, manifest)
    store.generation = generation
    return store


def disagreement(manifest: dict, chunks: list[Chunk], vectors, bm25: Bm25) -> str | None:
    """What does not agree between the parts of an index (counts, ids, offsets), or None."""
    import faiss

    files = manifest["files"]
    if manifest["chunks"] != len(chunks):
        return f"the chunk table has {len(chunks)} rows, the manifest counts {manifest['chunks']}"
    if vectors.ntotal != len(chunks) or vectors.d != manifest["dimension"]:
        return f"vectors.faiss holds {vectors.ntotal} vectors of {vectors.d} dimensions for {len(chunks)} chunks"
    if len(bm25) != len(chunks):
        return f"the BM25 statistics cover {len(bm25)} chunks, not {len(chunks)}"
    keys = {faiss_id(c.chunk_id) for c in chunks}
    if len(keys) != len(chunks):
        return "the chunk table holds an id twice"
    if set(faiss.vector_to_array(vectors.id_map).tolist()) != keys:
        return "vectors.faiss holds other ids than the chunk table"
    if set(bm25.ids.tolist()) != keys:
        return "the BM25 statistics hold other ids than the chunk table"
    for row, c in enumerate(chunks):
        entry = files.get(c.source)
        if entry is None or entry["doc_id"] != c.doc_id:
            return f"chunk row {row} belongs to no article of the manifest"
        if c.chunk_id != content_id(c.doc_id, c.start, c.end) or len(c.text) != c.end - c.start:
            return f"chunk row {row} does not match its id"
    per_file = Counter(c.source for c in chunks)
    wrong = [source for source, entry in files.items() if per_file[source] != entry["chunks"]]
    if wrong:
        return f"{wrong[0]} has {per_file[wrong[0]]} chunks in the table, {files[wrong[0]]['chunks']} in the manifest"
    return None


# --- save ----------------------------------------------------------------------------------------


def save(index: Store, index_dir: Path, keep: str | None = None) -> str:
    """Writes `index` as a new generation, makes it current in one atomic rename, and returns its name.

    Afterwards every other generation is removed except `keep`, by default the one that was
    current before (a repair names the intact one it started from), and so are staging folders
    that crashed writers left behind. Call it holding `rag.lock.writer_lock`.
    """
    import faiss

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
        with open(staging / "chunks.jsonl", "w", encoding="utf-8") as f:
            for chunk in sorted(index.chunks.values(), key=lambda c: (c.source, c.start, c.end)):
                f.write(json.dumps(asdict(chunk), ensure_ascii=False) + "\n")
        faiss.write_index(index.vectors, str(staging / "vectors.faiss"))
        index.lexical.save(staging / "bm25")
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
