"""The index in memory: chunks, their vectors and their BM25 terms, all keyed by chunk id.

`Store` is the one place that knows FAISS. Its methods are the whole interface the rest of the
package uses: `search_dense`, `search_lexical`, `get`, `upsert`, `delete`, `term_stats`, plus
`rag.disk.save`/`load` for the folder on disk. Chunk ids (16 hex digits) become FAISS ids by dropping their
last bit, so no file has to list rows in any order. Another backend (Qdrant, Milvus, OpenSearch)
is one class with these methods; it must keep the same ids, replace a file's chunks atomically on
`upsert` (old ids of that file are deleted by the caller first), return unit-vector inner products
as dense scores, and carry the `manifest` dict through save and load untouched, since the manifest
is what tells a changed model, chunk size or format apart (`rag.ingest` checks it).
It does not read files, chunk or embed: `rag.ingest` does, and calls `upsert` and `delete`.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

import numpy as np

from rag.bm25 import Bm25, TermStats
from rag.records import Chunk


def faiss_id(chunk_id: str) -> int:
    """The 63-bit FAISS id of a chunk id (16 hex digits)."""
    return int(chunk_id, 16) >> 1


class Store:
    """Chunks with their unit vectors (FAISS inner product) and their BM25 terms."""

    backend = "faiss-flat-ip"
    precision = "float32"

    def __init__(self, dimension: int, chunks: dict[str, Chunk], vectors, lexical: Bm25, manifest: dict) -> None:
        self.dimension = dimension
        self.chunks = chunks  # chunk id -> Chunk
        self.vectors = vectors  # a faiss.IndexIDMap2 over an IndexFlatIP
        self.lexical = lexical
        self.manifest = manifest
        self.generation: str | None = None  # the folder it was loaded from or saved to
        self._ids = {faiss_id(c): c for c in chunks}

    @classmethod
    def empty(cls, dimension: int, manifest: dict | None = None) -> Store:
        import faiss

        vectors = faiss.IndexIDMap2(faiss.IndexFlatIP(dimension))
        return cls(dimension, {}, vectors, Bm25(), dict(manifest or {}))

    def __len__(self) -> int:
        return len(self.chunks)

    # --- what the manifest says ------------------------------------------------------------------

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

    def chunk_ids_of(self, source: str) -> list[str]:
        return [c.chunk_id for c in self.chunks.values() if c.source == source]

    def copy_of(self, source: str) -> str | None:
        """The newest copy of the story in `source`, when `source` is an older copy (rag.ingest)."""
        return self.files.get(source, {}).get("copy_of")

    def author(self, source: str) -> str | None:
        """The byline the article in `source` states; None when it states none."""
        return self.files.get(source, {}).get("author")

    def also_in(self, source: str) -> tuple[str, ...]:
        """The other files holding the story of `source`, when `source` is its newest copy."""
        return tuple(self.files.get(source, {}).get("also_in", ()))

    def dated_between(self, since: str | None, until: str | None) -> set[str]:
        """Ids of the chunks whose article states a date within [since, until] (ISO dates, inclusive);
        an article without a date is outside every range."""
        return {
            c.chunk_id
            for c in self.chunks.values()
            if c.published and (since is None or c.published >= since) and (until is None or c.published <= until)
        }

    # --- reading ---------------------------------------------------------------------------------

    def get(self, chunk_id: str) -> Chunk:
        return self.chunks[chunk_id]

    def search_dense(self, vector: np.ndarray, depth: int, among: set[str] | None = None) -> list[tuple[str, float]]:
        """The `depth` chunks closest in meaning to a unit `vector`: (chunk id, cosine), best first;
        only chunks in `among` when it is given."""
        import faiss

        depth = min(depth, self.vectors.ntotal if among is None else len(among))
        if depth <= 0:
            return []
        params = None
        if among is not None:
            params = faiss.SearchParameters(sel=faiss.IDSelectorBatch(np.array([faiss_id(c) for c in among])))
        query = np.ascontiguousarray(vector, dtype=np.float32)[None, :]
        scores, ids = self.vectors.search(query, depth, params=params)
        return [(self._ids[int(i)], float(s)) for s, i in zip(scores[0], ids[0]) if i >= 0]

    def search_lexical(self, question: str, depth: int, among: set[str] | None = None) -> list[tuple[str, float]]:
        """The `depth` best BM25 matches for `question`: (chunk id, score), best first; only chunks
        in `among` when it is given."""
        keys = None if among is None else {faiss_id(c) for c in among}
        return [(self._ids[i], s) for i, s in self.lexical.search(question, depth, keys)]

    @property
    def term_stats(self) -> TermStats:
        return self.lexical.stats

    # --- changes ---------------------------------------------------------------------------------

    def upsert(self, chunks: list[Chunk], vectors: np.ndarray, texts: list[str]) -> None:
        """Adds `chunks` with their unit vectors and the texts BM25 indexes (one of each per chunk),
        replacing chunks already held under the same ids."""
        if not (len(chunks) == len(vectors) == len(texts)):
            raise ValueError("upsert needs one vector and one text per chunk")
        if not chunks:
            return
        self.delete(c.chunk_id for c in chunks)
        ids = np.array([faiss_id(c.chunk_id) for c in chunks], dtype=np.int64)
        self.vectors.add_with_ids(np.ascontiguousarray(vectors, dtype=np.float32), ids)
        self.lexical.upsert(ids.tolist(), texts)
        for chunk, i in zip(chunks, ids.tolist()):
            self.chunks[chunk.chunk_id] = chunk
            self._ids[i] = chunk.chunk_id

    def delete(self, chunk_ids: Iterable[str]) -> None:
        """Removes the chunks `chunk_ids`; ids not held are ignored."""
        import faiss

        held = [c for c in dict.fromkeys(chunk_ids) if c in self.chunks]
        if not held:
            return
        ids = np.array([faiss_id(c) for c in held], dtype=np.int64)
        self.vectors.remove_ids(faiss.IDSelectorBatch(ids))
        self.lexical.delete(ids.tolist())
        for chunk_id, i in zip(held, ids.tolist()):
            del self.chunks[chunk_id]
            del self._ids[i]
