"""Shared fixtures: the seed article copied into a temporary docs folder, and a pipeline over it.

The real MiniLM model loads once per test process (rag.embedding caches it), so fixtures that
build indexes stay cheap after the first.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
SEED = REPO / "seeds" / "000_681fe9c43916d851.txt"


@pytest.fixture
def docs(tmp_path: Path) -> Path:
    """A docs folder holding a copy of the seed article."""
    folder = tmp_path / "docs"
    folder.mkdir()
    shutil.copy(SEED, folder / SEED.name)
    return folder


@pytest.fixture(scope="session")
def seed_pipeline(tmp_path_factory: pytest.TempPathFactory):
    """A pipeline whose index over the seed article is built once for the whole session."""
    from rag.pipeline import Pipeline
    from rag.settings import Settings

    root = tmp_path_factory.mktemp("seed")
    folder = root / "docs"
    folder.mkdir()
    shutil.copy(SEED, folder / SEED.name)
    pipeline = Pipeline(Settings.from_env(env={}, docs_dir=folder, index_dir=root / "index"))
    pipeline.refresh()
    return pipeline


@pytest.fixture(params=["faiss", "milvus"])
def each_store(request, monkeypatch) -> str:
    """Runs a test once per store backend (Milvus: a Milvus Lite file in the index folder), chosen
    the way a user chooses it: RAG_STORE."""
    monkeypatch.setenv("RAG_STORE", request.param)
    return request.param
