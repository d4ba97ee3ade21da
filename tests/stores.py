"""Reading an index through the store contract, whichever backend the environment chose."""

from __future__ import annotations

from pathlib import Path


def load_index(index_dir: Path):
    """The index in `index_dir` as the environment's store (RAG_STORE) reads it."""
    from rag import disk
    from rag.settings import Settings

    return disk.load(index_dir, Settings.from_env(index_dir=index_dir))


def held_ids(store) -> set[str]:
    """Every chunk id a store holds, through the contract (see `held_chunks`)."""
    return set(held_chunks(store))


def held_chunks(store) -> dict:
    """Every chunk a store holds, by id, through the contract: a search deeper than the store is large."""
    import numpy as np

    vector = np.full(store.dimension, store.dimension**-0.5, dtype=np.float32)
    return {c.chunk_id: c for c, _ in store.search(vector, "", len(store) + 1, 60)}
