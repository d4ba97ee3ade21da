"""The on-disk index: FAISS vectors, the chunk table, BM25 statistics and a manifest.

Layout (see index/README.md): `CURRENT` names the live generation folder, which holds
`manifest.json`, `chunks.jsonl`, `vectors.faiss` and `bm25/`. A save writes a new generation, then
swaps `CURRENT` with an atomic rename, so a crash mid-save leaves the previous index loadable.
`update` re-embeds only files whose bytes changed, drops deleted ones, and rebuilds from scratch
when the index was made with another embedding model. It does not lock against two writers.
"""

from __future__ import annotations

import json
import os
import shutil
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from rag.articles import check_size, file_hash, list_files, read_article, source_name
from rag.chunking import chunk_article
from rag.errors import RagError
from rag.lexical import Bm25Index
from rag.records import Chunk
from rag.settings import Settings

if TYPE_CHECKING:
    from rag.embedding import Embedder

# Raise when chunking or BM25 terms change: an index of another format is rebuilt, not mixed.
FORMAT_VERSION = 3  # 3: BM25 terms without accents
POINTER = "CURRENT"


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

    @property
    def changed(self) -> bool:
        return bool(self.embedded_files or self.removed_files or self.rebuilt_because)

    def summary(self) -> str:
        return (
            f"Indexed {self.files} files, {self.chunks} chunks "
            f"({self.embedded_files} files re-embedded, {self.removed_files} removed) "
            f"in {self.seconds:.1f} s."
        )


class Index:
    """A loaded index: chunks in vector order, their FAISS vectors, BM25, and the manifest."""

    def __init__(self, manifest: dict, chunks: list[Chunk], vectors: object, bm25: Bm25Index) -> None:
        self.manifest = manifest
        self.chunks = chunks
        self.vectors = vectors  # a faiss.IndexFlatIP over unit vectors: inner product = cosine
        self.bm25 = bm25

    @property
    def embedding_model(self) -> str:
        return self.manifest["embedding_model"]

    @property
    def files(self) -> dict[str, dict]:
        return self.manifest["files"]

    @classmethod
    def build(cls, embedding_model: str, files: dict[str, dict], chunks: list[Chunk], vectors: np.ndarray) -> Index:
        import faiss

        dimension = int(vectors.shape[1])
        flat = faiss.IndexFlatIP(dimension)
        if len(vectors):
            flat.add(vectors)
        manifest = {
            "format": FORMAT_VERSION,
            "embedding_model": embedding_model,
            "dimension": dimension,
            "files": files,
            "chunks": len(chunks),
        }
        return cls(manifest, chunks, flat, Bm25Index.build([embed_text(c) for c in chunks]))

    def all_vectors(self) -> np.ndarray:
        return (
            self.vectors.reconstruct_n(0, self.vectors.ntotal)
            if self.vectors.ntotal
            else np.zeros((0, self.vectors.d), dtype=np.float32)
        )


def embed_text(chunk: Chunk) -> str:
    """What gets embedded and BM25-indexed for a chunk: its article's title, then its text."""
    return f"{chunk.title}\n{chunk.text}"


# --- load / save ---------------------------------------------------------------------------------


def load(index_dir: Path) -> Index | None:
    """The index saved in `index_dir`, or None when there is none."""
    pointer = index_dir / POINTER
    if not pointer.is_file():
        return None
    folder = index_dir / pointer.read_text().strip()
    import faiss

    try:
        manifest = json.loads((folder / "manifest.json").read_text())
        if manifest.get("format") != FORMAT_VERSION:
            return None
        with open(folder / "chunks.jsonl", encoding="utf-8") as f:
            chunks = [Chunk(**json.loads(line)) for line in f]
        vectors = faiss.read_index(str(folder / "vectors.faiss"))
        bm25 = Bm25Index.load(folder / "bm25", len(chunks))
    except (OSError, ValueError, KeyError, TypeError, RuntimeError) as err:
        raise RagError(
            f"The index in {index_dir}/ is damaged ({err}); rebuild it with: python -m rag.index --rebuild"
        ) from None
    return Index(manifest, chunks, vectors, bm25)


def save(index: Index, index_dir: Path) -> None:
    """Writes `index` as a new generation and makes it current in one atomic rename."""
    import faiss

    index_dir.mkdir(parents=True, exist_ok=True)
    generation = f"gen-{time.time_ns()}"
    staging = index_dir / f".{generation}.partial"
    staging.mkdir()
    try:
        with open(staging / "chunks.jsonl", "w", encoding="utf-8") as f:
            for chunk in index.chunks:
                f.write(json.dumps(asdict(chunk), ensure_ascii=False) + "\n")
        faiss.write_index(index.vectors, str(staging / "vectors.faiss"))
        index.bm25.save(staging / "bm25")
        (staging / "manifest.json").write_text(json.dumps(index.manifest, indent=1, ensure_ascii=False))
        _fsync_tree(staging)
        staging.rename(index_dir / generation)
        _replace_pointer(index_dir, generation)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    _remove_old_generations(index_dir, keep=generation)


def _replace_pointer(index_dir: Path, generation: str) -> None:
    tmp = index_dir / f".{POINTER}.tmp"
    with open(tmp, "w") as f:
        f.write(generation + "\n")
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, index_dir / POINTER)
    _fsync_dir(index_dir)


def _remove_old_generations(index_dir: Path, keep: str) -> None:
    for folder in index_dir.iterdir():
        if (
            folder.is_dir()
            and folder.name != keep
            and (folder.name.startswith("gen-") or folder.name.endswith(".partial"))
        ):
            shutil.rmtree(folder, ignore_errors=True)


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


# --- incremental update --------------------------------------------------------------------------


def update(
    settings: Settings,
    embedder: Embedder,
    rebuild: bool = False,
    progress: Callable[[int, int], None] | None = None,
) -> tuple[Index, UpdateReport]:
    """Brings the index in `settings.index_dir` up to date with `settings.docs_dir`.

    Only files whose bytes changed are read, chunked and embedded (files over the size limit are
    skipped); when nothing changed the
    index is loaded and nothing is written. `progress(done, total)` is called as chunks are embedded.
    """
    started = time.perf_counter()
    paths = list_files(settings.docs_dir)
    current = {source_name(p, settings.docs_dir): p for p in paths}
    old = None if rebuild else load(settings.index_dir)
    reason = None
    if old is not None and old.embedding_model != embedder.model_name:
        reason = (
            f"the index in {settings.index_dir}/ was built with {old.embedding_model}, "
            f"not {embedder.model_name}; rebuilt it"
        )
        old = None
    elif rebuild:
        reason = "rebuild requested"

    kept_files: dict[str, dict] = {}
    kept_rows: list[int] = []
    new_files: dict[str, dict] = {}
    new_chunks: list[Chunk] = []
    skipped: list[tuple[str, str]] = []
    old_files = old.files if old is not None else {}
    rows_by_source: dict[str, list[int]] = {}
    if old is not None:
        for row, chunk in enumerate(old.chunks):
            rows_by_source.setdefault(chunk.source, []).append(row)

    for source, path in current.items():
        try:
            check_size(source, path.stat().st_size, settings.max_file_mb)
        except RagError as err:
            skipped.append((source, str(err)))
            continue
        data = path.read_bytes()
        digest = file_hash(data)
        if source in old_files and old_files[source]["hash"] == digest:
            kept_files[source] = old_files[source]
            kept_rows.extend(rows_by_source.get(source, []))
            continue
        try:
            article = read_article(source, data)
        except RagError as err:
            skipped.append((source, str(err)))
            continue
        chunks = chunk_article(article, settings.chunk_words, settings.chunk_overlap_words)
        new_files[source] = {"hash": digest, "doc_id": article.doc_id, "title": article.title, "chunks": len(chunks)}
        new_chunks.extend(chunks)

    removed = [s for s in old_files if s not in current]
    if old is not None and not new_files and not removed and reason is None and len(kept_files) == len(old_files):
        return old, _report(old, 0, 0, 0, started, None, skipped)
    if not kept_files and not new_files:
        names = ", ".join(s for s, _ in skipped)
        raise RagError(f"No readable articles in {settings.docs_dir}/ (skipped: {names}).")

    vectors = _embed(embedder, new_chunks, progress)
    if old is not None and kept_rows:
        old_vectors = old.all_vectors()[kept_rows]
        if old_vectors.shape[1] != vectors.shape[1]:
            return update(settings, embedder, rebuild=True, progress=progress)
        vectors = np.vstack([old_vectors, vectors])
        chunks = [old.chunks[r] for r in kept_rows] + new_chunks
    else:
        chunks = new_chunks
    files = {**kept_files, **new_files}
    index = Index.build(embedder.model_name, dict(sorted(files.items())), chunks, vectors)
    save(index, settings.index_dir)
    return index, _report(index, len(new_files), len(new_chunks), len(removed), started, reason, skipped)


def _embed(embedder: Embedder, chunks: list[Chunk], progress: Callable[[int, int], None] | None) -> np.ndarray:
    texts = [embed_text(c) for c in chunks]
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
    index: Index, files: int, chunks: int, removed: int, started: float, reason: str | None, skipped
) -> UpdateReport:
    return UpdateReport(
        files=len(index.files),
        chunks=len(index.chunks),
        embedded_files=files,
        embedded_chunks=chunks,
        removed_files=removed,
        seconds=time.perf_counter() - started,
        rebuilt_because=reason,
        skipped=tuple(skipped),
    )
