"""`python -m eval.bench_store`: the store backends side by side on synthetic chunks, as figures.

For each size it fills a FAISS store and a Milvus Lite store with the same random unit vectors
(384 dimensions, as MiniLM's) and the same random texts (words drawn from a Zipf law over a
20,000-word vocabulary, 60 per chunk, 5 chunks per article), timing the fill (the indexing rate,
embedding excluded: real vectors are too slow to make here), then times hybrid searches (meaning and
words, depth 40, fused) with random vectors and five-word queries. Then, on a store of `--articles`
articles, it times replacing one article (remove + put + save) and deleting one (remove + save), as
an update does. Sizes and timings are printed as one JSON object per line. It does not measure
answer quality: `python -m eval` with RAG_STORE=milvus does.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from rag import disk
from rag.records import Chunk
from rag.settings import Settings
from rag.store import Store, store_class

DIMENSION = 384
CHUNKS_PER_ARTICLE = 5
WORDS_PER_CHUNK = 60
VOCABULARY = [f"w{n}" for n in range(20_000)]
BATCH = 5_000


def synthetic(begin: int, count: int, seed: int) -> tuple[list[Chunk], np.ndarray, list[str]]:
    """Chunks `begin`..`begin + count` with their unit vectors and texts; the same for the same seed."""
    rng = np.random.default_rng(seed + begin)
    vectors = rng.standard_normal((count, DIMENSION), dtype=np.float32)
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    ranks = np.minimum(rng.zipf(1.2, (count, WORDS_PER_CHUNK)), len(VOCABULARY)) - 1
    texts = [" ".join(VOCABULARY[r] for r in row) for row in ranks]
    chunks = []
    for n, text in zip(range(begin, begin + count), texts):
        article = n // CHUNKS_PER_ARTICLE
        chunks.append(Chunk(f"{n * 2:016x}", f"d{article}", f"a{article}.txt", "t", 0, len(text), text))
    return chunks, vectors, texts


def fill(store: Store, size: int, seed: int) -> float:
    """Puts `size` synthetic chunks into `store`, recording their articles; seconds taken."""
    started = time.perf_counter()
    for begin in range(0, size, BATCH):
        chunks, vectors, texts = synthetic(begin, min(BATCH, size - begin), seed)
        for c in chunks:
            entry = store.files.setdefault(c.source, {"hash": "h", "doc_id": c.doc_id, "chunks": 0})
            entry["chunks"] += 1
        store.put(chunks, vectors, texts)
    return time.perf_counter() - started


def search_ms(store: Store, queries: int, seed: int) -> dict:
    rng = np.random.default_rng(seed)
    timings = []
    for _ in range(queries + 1):
        vector = rng.standard_normal(DIMENSION).astype(np.float32)
        words = " ".join(VOCABULARY[r] for r in rng.integers(0, 2_000, 5))
        started = time.perf_counter()
        store.search(vector / np.linalg.norm(vector), words, 40, 60)
        timings.append((time.perf_counter() - started) * 1000)
    timings = timings[1:]  # the first search warms caches
    return {"p50_ms": round(statistics.median(timings), 1), "p90_ms": round(float(np.percentile(timings, 90)), 1)}


def new_store(backend: str, folder: Path) -> tuple[Store, Settings]:
    settings = Settings(index_dir=folder / backend, store=backend)
    store = store_class(settings).empty(DIMENSION, settings, {"shape": {"bench": True}})
    return store, settings


def scale(backend: str, size: int, queries: int, seed: int, folder: Path) -> dict:
    """Fills a store of `size` chunks and saves it (durable: FAISS files, a Milvus flush), then searches."""
    store, settings = new_store(backend, folder)
    started = time.perf_counter()
    fill(store, size, seed)
    disk.save(store, settings.index_dir)
    seconds = time.perf_counter() - started
    row = {"backend": store.name, "chunks": size, "fill_s": round(seconds, 1), "chunks_per_s": round(size / seconds)}
    row |= search_ms(store, queries, seed)
    return row


def edits(backend: str, articles: int, seed: int, folder: Path) -> dict:
    """Seconds to replace one article and to delete one on a store of `articles` articles, saved."""
    store, settings = new_store(backend, folder)
    fill(store, articles * CHUNKS_PER_ARTICLE, seed)
    disk.save(store, settings.index_dir)
    target = f"a{articles // 2}.txt"
    chunks, vectors, texts = synthetic((articles // 2) * CHUNKS_PER_ARTICLE, CHUNKS_PER_ARTICLE, seed + 1)
    started = time.perf_counter()
    store.remove([target])
    store.files[target] = {"hash": "h2", "doc_id": chunks[0].doc_id, "chunks": len(chunks)}
    store.put(chunks, vectors, texts)
    disk.save(store, settings.index_dir)
    replaced = time.perf_counter() - started
    started = time.perf_counter()
    store.remove([target])
    del store.files[target]
    disk.save(store, settings.index_dir)
    deleted = time.perf_counter() - started
    return {
        "backend": store.name,
        "articles": articles,
        "chunks": len(store),
        "replace_one_s": round(replaced, 3),
        "delete_one_s": round(deleted, 3),
    }


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m eval.bench_store", description=__doc__.splitlines()[0])
    p.add_argument("--sizes", type=int, nargs="+", default=[100_000, 1_000_000], help="chunks per store")
    p.add_argument("--backends", nargs="+", default=["faiss", "milvus"], choices=["faiss", "milvus"])
    p.add_argument("--articles", type=int, default=2_000, help="articles in the store the edits are timed on")
    p.add_argument("--queries", type=int, default=50)
    p.add_argument("--seed", type=int, default=0)
    args = p.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="bench-store-") as tmp:
        folder = Path(tmp)
        for backend in args.backends:
            print(json.dumps(edits(backend, args.articles, args.seed, folder / "edits")), flush=True)
        for size in args.sizes:
            for backend in args.backends:
                print(json.dumps(scale(backend, size, args.queries, args.seed, folder / str(size))), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
