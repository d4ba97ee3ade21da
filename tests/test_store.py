"""The store on its own: real FAISS and BM25, small random vectors. Whatever sequence of upserts and
deletes it sees, it holds exactly the chunks last upserted and not deleted, and finds each by its
own vector, its own words and its id."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from rag.records import Chunk
from rag.store import Store

DIMENSION = 8
WORDS = ["harbour", "ferry", "tide", "lighthouse", "quay", "pilot", "anchor", "buoy", "mooring", "dredger"]


def chunk(n: int, published: str | None = None) -> Chunk:
    text = f"{WORDS[n % len(WORDS)]} {WORDS[(n * 3 + 1) % len(WORDS)]} number{n}"
    return Chunk(f"{n * 2:016x}", "d", f"{n}.txt", "t", 0, len(text), text, published)


def vector(n: int) -> np.ndarray:
    v = np.random.default_rng(n).normal(size=DIMENSION).astype(np.float32)
    return v / np.linalg.norm(v)


def upsert(store: Store, numbers: list[int]) -> None:
    chunks = [chunk(n) for n in numbers]
    store.upsert(chunks, np.stack([vector(n) for n in numbers]), [c.text for c in chunks])


changes = st.lists(
    st.tuples(st.sampled_from(["upsert", "delete"]), st.lists(st.integers(0, 30), min_size=1, max_size=6)),
    max_size=12,
)


@settings(max_examples=60, deadline=None)
@given(changes)
def test_any_sequence_of_changes_leaves_exactly_the_chunks_upserted_last(steps) -> None:
    store = Store.empty(DIMENSION)
    held: set[int] = set()
    for action, numbers in steps:
        if action == "upsert":
            upsert(store, list(dict.fromkeys(numbers)))
            held |= set(numbers)
        else:
            store.delete(chunk(n).chunk_id for n in numbers)
            held -= set(numbers)
    assert len(store) == len(held) == store.vectors.ntotal
    assert set(store.chunks) == {chunk(n).chunk_id for n in held}
    for n in held:
        assert store.get(chunk(n).chunk_id) == chunk(n)
        [(found, score)] = store.search_dense(vector(n), 1)
        assert found == chunk(n).chunk_id and score > 0.999
        assert store.search_lexical(f"number{n}", 1)[0][0] == chunk(n).chunk_id


def test_search_among_a_set_returns_only_its_members() -> None:
    store = Store.empty(DIMENSION)
    upsert(store, list(range(20)))
    among = {chunk(n).chunk_id for n in (3, 7, 11)}
    assert {c for c, _ in store.search_dense(vector(5), 10, among)} == among
    assert {c for c, _ in store.search_lexical("harbour ferry tide quay number3", 10, among)} <= among
    assert store.search_dense(vector(5), 10, set()) == []


def test_dated_between_keeps_only_articles_dated_in_range() -> None:
    store = Store.empty(DIMENSION)
    dated = [chunk(1, "2025-05-03"), chunk(2, "2025-06-12"), chunk(3, None)]
    store.upsert(dated, np.stack([vector(n) for n in (1, 2, 3)]), [c.text for c in dated])
    table = [
        ((None, "2025-05-31"), {dated[0].chunk_id}),
        (("2025-06-01", None), {dated[1].chunk_id}),
        (("2025-05-03", "2025-06-12"), {dated[0].chunk_id, dated[1].chunk_id}),
        (("2025-07-01", None), set()),
    ]
    for (since, until), expected in table:
        assert store.dated_between(since, until) == expected
