"""Every store backend on its own, held to the contract in rag/store/__init__.py: real FAISS and BM25,
and a real Milvus Lite engine, with small random vectors. Whatever sequence of article puts and
removes a store sees, it holds exactly the chunks of the articles last put and not removed, finds
each by its own vector and its own words, and proves it agrees with its manifest."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from rag.records import Chunk
from rag.settings import Settings
from rag.store import Store, store_class

DIMENSION = 8
WORDS = ["harbour", "ferry", "tide", "lighthouse", "quay", "pilot", "anchor", "buoy", "mooring", "dredger"]
BACKENDS = ["faiss", "milvus"]


def chunk(article: int, n: int, version: int = 0, published: str | None = None) -> Chunk:
    """Chunk `n` of version `version` of article `article`; its id is unique to all three."""
    key = article * 10_000 + version * 100 + n
    text = f"{WORDS[key % len(WORDS)]} {WORDS[(key * 3 + 1) % len(WORDS)]} number{key}"
    return Chunk(f"{key * 2:016x}", f"d{article}", f"{article}.txt", "t", 0, len(text), text, published)


def vector(c: Chunk) -> np.ndarray:
    v = np.random.default_rng(int(c.chunk_id, 16)).normal(size=DIMENSION).astype(np.float32)
    return v / np.linalg.norm(v)


def put(store: Store, article: int, version: int, count: int, published: str | None = None) -> list[Chunk]:
    """Replaces `article`'s chunks as `rag.ingest` does: remove, record in the manifest, put."""
    chunks = [chunk(article, n, version, published) for n in range(count)]
    store.remove([chunks[0].source])
    store.files[chunks[0].source] = {
        "hash": f"h{version}",
        "doc_id": chunks[0].doc_id,
        "chunks": count,
        "published": published,
    }
    store.put(chunks, np.stack([vector(c) for c in chunks]), [c.text for c in chunks])
    return chunks


def remove(store: Store, article: int) -> None:
    store.remove([f"{article}.txt"])
    store.files.pop(f"{article}.txt", None)


def everything(store: Store, dates=None) -> set[str]:
    """Every chunk id the store's dense ranking reaches (its depth is more than it holds)."""
    return {c.chunk_id for c, _ in store.search(vector(chunk(0, 0)), "", 1000, 60, dates)}


@pytest.fixture(params=BACKENDS)
def new_store(request, tmp_path: Path):
    """Makes empty stores of one backend in a folder of their own (Milvus: a Milvus Lite file)."""
    config = Settings(index_dir=tmp_path / "index", store=request.param)

    def make() -> Store:
        return store_class(config).empty(DIMENSION, config, {"shape": {"test": True}})

    return make


changes = st.lists(
    st.tuples(st.sampled_from(["put", "remove"]), st.integers(0, 4), st.integers(0, 2), st.integers(1, 4)),
    max_size=10,
)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(changes)
def test_any_sequence_of_changes_leaves_exactly_the_articles_put_last(new_store, steps) -> None:
    store = new_store()
    held: dict[int, list[Chunk]] = {}
    for action, article, version, count in steps:
        if action == "put":
            held[article] = put(store, article, version, count)
        else:
            remove(store, article)
            held.pop(article, None)
    expected = {c.chunk_id for chunks in held.values() for c in chunks}
    assert len(store) == len(expected)
    assert everything(store) == expected
    for chunks in held.values():
        for c in chunks:
            [(found, score), *_] = store.search(vector(c), c.text.split()[-1], 1, 60)
            assert found == c
    assert store.stale() == set()  # Milvus: the journal is there, so every row was compared


def test_search_fuses_meaning_and_words_best_first_ties_by_id(new_store) -> None:
    store = new_store()
    chunks = put(store, 1, 0, 6)
    target = chunks[3]
    found = store.search(vector(target), target.text.split()[-1], 4, 60)
    scores = [s for _, s in found]
    assert found[0][0] == target and scores[0] == pytest.approx(2 / 61)  # first in both rankings
    assert scores == sorted(scores, reverse=True) and len(found) <= 8
    for (a, sa), (b, sb) in zip(found, found[1:]):
        assert sa > sb or (sa == sb and a.chunk_id < b.chunk_id)


@pytest.mark.parametrize(
    "dates, articles",
    [
        ((None, "2025-05-31"), {1}),
        (("2025-06-01", None), {2}),
        (("2025-05-03", "2025-06-12"), {1, 2}),
        (("2025-07-01", None), set()),
        (None, {1, 2, 3}),
    ],
)
def test_a_date_range_searches_only_articles_dated_within_it(new_store, dates, articles) -> None:
    store = new_store()
    chunks = {1: put(store, 1, 0, 2, "2025-05-03"), 2: put(store, 2, 0, 2, "2025-06-12"), 3: put(store, 3, 0, 2)}
    assert everything(store, dates) == {c.chunk_id for a in articles for c in chunks[a]}
    assert store.dates_any(dates or (None, None)) == bool(articles - {3})


def test_rows_that_disagree_with_the_manifest_are_named_stale(new_store) -> None:
    """What a crash between a store change and the manifest's save leaves, found by comparing."""
    store = new_store()
    put(store, 1, 0, 3)
    put(store, 2, 0, 2)
    if store.name != "milvus":
        assert store.stale() == set()  # FAISS changes only in memory: nothing on disk to disagree
        return
    store.saved()
    assert store.stale() == set()
    store.files["1.txt"]["hash"] = "h9"  # the manifest says another version of article 1
    store.files["3.txt"] = {"hash": "h0", "doc_id": "d3", "chunks": 1}  # and an article never put
    store._stale = None  # as a fresh load of this manifest would find it
    assert store.stale() == {"1.txt", "3.txt"}


@pytest.mark.parametrize(
    ("library", "only_in"),
    [("faiss", "rag/store/faiss_bm25.py"), ("pymilvus", "rag/store/milvus.py"), ("milvus_lite", None)],
)
def test_only_its_backend_imports_a_store_library(library: str, only_in: str | None) -> None:
    repo = Path(__file__).resolve().parent.parent
    importing = {
        path.relative_to(repo).as_posix()
        for folder in ("rag", "ui", "eval")
        for path in (repo / folder).rglob("*.py")
        if re.search(rf"^\s*(import {library}\b|from {library}\b)", path.read_text(encoding="utf-8"), re.M)
    }
    assert importing == ({only_in} if only_in else set())
