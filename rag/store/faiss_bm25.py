"""The default store: chunks, their vectors (FAISS, exact inner product) and their BM25 terms, in
memory, saved as files of the index's generation folder.

Chunk ids (16 hex digits) become FAISS and BM25 ids by dropping their last bit, so no file has to
list rows in any order. A generation holds `chunks.jsonl`, `vectors.faiss` and `bm25/`;
`read` checks that they agree with each other and with the manifest (counts, ids, offsets) and
raises `PartsDisagree` when they do not. Every change is made in memory and reaches disk only as a
whole new generation (`rag.disk.save`), so `stale()` is always empty. This is the only module that
imports faiss. It does not read files, chunk or embed (`rag.ingest` does).
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterable
from dataclasses import asdict
from pathlib import Path

import numpy as np

from rag.bm25 import Bm25, TermStats
from rag.records import Chunk, content_id
from rag.settings import Settings
from rag.store import Catalogue, Dates, PartsDisagree, in_range


def faiss_id(chunk_id: str) -> int:
    """The 63-bit FAISS id of a chunk id (16 hex digits)."""
    return int(chunk_id, 16) >> 1


class FaissStore(Catalogue):
    """Chunks with their unit vectors (FAISS inner product) and their BM25 terms."""

    name = "faiss-flat-ip"
    precision = "float32"

    def __init__(self, dimension: int, chunks: dict[str, Chunk], vectors, lexical: Bm25, manifest: dict) -> None:
        self.dimension = dimension
        self.chunks = chunks  # chunk id -> Chunk
        self.vectors = vectors  # a faiss.IndexIDMap2 over an IndexFlatIP
        self.lexical = lexical
        self.manifest = manifest
        self.generation: str | None = None  # the folder it was loaded from or saved to
        self._ids = {faiss_id(c): c for c in chunks}
        self._by_source: dict[str, set[str]] = {}  # so removing an article does not scan every chunk
        for chunk in chunks.values():
            self._by_source.setdefault(chunk.source, set()).add(chunk.chunk_id)

    @classmethod
    def check(cls, settings: Settings) -> None:
        pass  # files in the index folder, which `rag.disk` checks

    @classmethod
    def empty(cls, dimension: int, settings: Settings | None = None, manifest: dict | None = None) -> FaissStore:
        import faiss

        vectors = faiss.IndexIDMap2(faiss.IndexFlatIP(dimension))
        return cls(dimension, {}, vectors, Bm25(), dict(manifest or {}))

    def __len__(self) -> int:
        return len(self.chunks)

    def describe(self) -> str:
        return f"FAISS exact inner product + BM25, generation {self.generation or 'not saved'} ({len(self)} chunks)"

    # --- reading ---------------------------------------------------------------------------------

    def search(
        self, vector: np.ndarray, words: str, depth: int, rrf_k: int, dates: Dates | None = None
    ) -> list[tuple[Chunk, float]]:
        among = None
        if dates is not None and dates != (None, None):
            among = {c.chunk_id for c in self.chunks.values() if in_range(c.published, dates)}
        dense = [c for c, _ in self.search_dense(vector, depth, among)]
        lexical = [c for c, _ in self.search_lexical(words, depth, among)]
        fused = reciprocal_rank_fusion([dense, lexical], rrf_k)
        return [(self.chunks[c], fused[c]) for c in sorted(fused, key=lambda c: (-fused[c], c))]

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

    def stale(self) -> set[str]:
        return set()

    # --- changes ---------------------------------------------------------------------------------

    def put(self, chunks: list[Chunk], vectors: np.ndarray, texts: list[str]) -> None:
        """Adds `chunks` with their unit vectors and the texts BM25 indexes (one of each per chunk),
        replacing chunks already held under the same ids."""
        if not (len(chunks) == len(vectors) == len(texts)):
            raise ValueError("put needs one vector and one text per chunk")
        if not chunks:
            return
        self.delete(c.chunk_id for c in chunks)
        ids = np.array([faiss_id(c.chunk_id) for c in chunks], dtype=np.int64)
        self.vectors.add_with_ids(np.ascontiguousarray(vectors, dtype=np.float32), ids)
        self.lexical.upsert(ids.tolist(), texts)
        for chunk, i in zip(chunks, ids.tolist()):
            self.chunks[chunk.chunk_id] = chunk
            self._ids[i] = chunk.chunk_id
            self._by_source.setdefault(chunk.source, set()).add(chunk.chunk_id)

    def remove(self, sources: Iterable[str]) -> None:
        self.delete([c for source in dict.fromkeys(sources) for c in self._by_source.get(source, ())])

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
            source = self.chunks.pop(chunk_id).source
            del self._ids[i]
            self._by_source[source].discard(chunk_id)
            if not self._by_source[source]:
                del self._by_source[source]

    # --- the generation's files --------------------------------------------------------------------

    def write(self, folder: Path) -> None:
        import faiss

        with open(folder / "chunks.jsonl", "w", encoding="utf-8") as f:
            for chunk in sorted(self.chunks.values(), key=lambda c: (c.source, c.start, c.end)):
                f.write(json.dumps(asdict(chunk), ensure_ascii=False) + "\n")
        faiss.write_index(self.vectors, str(folder / "vectors.faiss"))
        self.lexical.save(folder / "bm25")

    def saved(self) -> None:
        pass

    @classmethod
    def read(cls, folder: Path, manifest: dict, settings: Settings | None = None) -> FaissStore:
        import faiss

        with open(folder / "chunks.jsonl", encoding="utf-8") as f:
            chunks = [Chunk(**json.loads(line)) for line in f]
        vectors = faiss.read_index(str(folder / "vectors.faiss"))
        bm25 = Bm25.load(folder / "bm25")
        problem = disagreement(manifest, chunks, vectors, bm25)
        if problem:
            raise PartsDisagree(problem)
        return cls(manifest["dimension"], {c.chunk_id: c for c in chunks}, vectors, bm25, manifest)


def reciprocal_rank_fusion(rankings: list[list[str]], k: int = 60) -> dict[str, float]:
    """Sum over rankings of 1 / (k + rank), rank counting from 1."""
    fused: dict[str, float] = {}
    for ranking in rankings:
        for rank, item in enumerate(ranking, start=1):
            fused[item] = fused.get(item, 0.0) + 1.0 / (k + rank)
    return fused


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
