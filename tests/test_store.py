"""The on-disk index: incremental updates, deletions, model changes and crash-safe saves."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from rag import store
from rag.embedding import Embedder
from rag.lexical import Bm25Index
from rag.settings import Settings


class CountingEmbedder(Embedder):
    """The real model, counting the texts it is asked to encode."""

    def __init__(self, model_name: str | None = None) -> None:
        super().__init__(model_name) if model_name else super().__init__()
        self.encoded = 0

    def encode(self, texts, progress=False):
        self.encoded += len(texts)
        return super().encode(texts, progress)


def article(headline: str, *sentences: str) -> str:
    return headline + "\n\n" + " ".join(sentences) + "\n"


def settings_for(docs: Path, tmp_path: Path, **more) -> Settings:
    return Settings.from_env(env={}, docs_dir=docs, index_dir=tmp_path / "index", **more)


@pytest.fixture
def two_docs(docs: Path) -> Path:
    (docs / "harbour.txt").write_text(article("Harbour reopens", "The harbour in Gdańsk reopened on Monday."))
    return docs


def test_only_the_changed_file_is_re_embedded(two_docs: Path, tmp_path: Path) -> None:
    settings = settings_for(two_docs, tmp_path)
    embedder = CountingEmbedder()
    first, report = store.update(settings, embedder)
    assert report.embedded_files == 2 and embedder.encoded == len(first.chunks)

    embedder.encoded = 0
    _, report = store.update(settings, embedder)
    assert not report.changed and embedder.encoded == 0

    (two_docs / "harbour.txt").write_text(article("Harbour reopens", "The harbour in Gdańsk reopened on Tuesday."))
    updated, report = store.update(settings, embedder)
    assert report.embedded_files == 1 and report.embedded_chunks == 1 and embedder.encoded == 1
    assert len(updated.chunks) == len(first.chunks)
    assert any("Tuesday" in c.text for c in updated.chunks)
    assert not any("Monday" in c.text for c in updated.chunks)
    # Vectors of the unchanged file were carried over, not recomputed: still aligned with their chunks.
    reloaded = store.load(settings.index_dir)
    seed_rows = [i for i, c in enumerate(reloaded.chunks) if c.source != "harbour.txt"]
    fresh = Embedder().encode([store.embed_text(reloaded.chunks[i]) for i in seed_rows])
    assert (abs(reloaded.all_vectors()[seed_rows] - fresh) < 1e-4).all()


def test_deleted_file_leaves_the_index(two_docs: Path, tmp_path: Path) -> None:
    settings = settings_for(two_docs, tmp_path)
    store.update(settings, Embedder())
    (two_docs / "harbour.txt").unlink()
    index, report = store.update(settings, Embedder())
    assert report.removed_files == 1
    assert {c.source for c in index.chunks} == {"000_681fe9c43916d851.txt"}
    assert "harbour.txt" not in index.files
    assert index.vectors.ntotal == len(index.chunks)
    assert all("Gdańsk" not in c.text for c in store.load(settings.index_dir).chunks)


@pytest.fixture(scope="module")
def other_model(tmp_path_factory: pytest.TempPathFactory) -> str:
    """A genuinely different embedding model: MiniLM followed by a random 384→128 projection."""
    from sentence_transformers import SentenceTransformer
    from sentence_transformers.models import Dense

    from rag.embedding import bundled_model_dir

    base = SentenceTransformer(str(bundled_model_dir()), device="cpu")
    folder = tmp_path_factory.mktemp("other-model")
    SentenceTransformer(modules=[*base, Dense(384, 128)], device="cpu").save(str(folder))
    return str(folder)


def test_index_from_another_model_is_rebuilt_not_mixed(docs: Path, tmp_path: Path, other_model: str) -> None:
    store.update(settings_for(docs, tmp_path), Embedder())
    settings = settings_for(docs, tmp_path, embedding_model=other_model)
    index, report = store.update(settings, Embedder(other_model))
    assert report.rebuilt_because and "all-MiniLM-L6-v2" in report.rebuilt_because
    assert report.embedded_chunks == len(index.chunks)
    assert index.manifest["dimension"] == 128 and index.vectors.d == 128
    assert store.load(settings.index_dir).embedding_model == other_model


def test_failed_save_keeps_the_previous_index(docs: Path, tmp_path: Path, monkeypatch) -> None:
    settings = settings_for(docs, tmp_path)
    before, _ = store.update(settings, Embedder())
    (docs / "late.txt").write_text(article("Late news", "A ferry ran aground near Split."))

    def crash(self, folder):
        raise OSError("disk full")

    monkeypatch.setattr(Bm25Index, "save", crash)
    with pytest.raises(OSError, match="disk full"):
        store.update(settings, Embedder())
    after = store.load(settings.index_dir)
    assert [c.chunk_id for c in after.chunks] == [c.chunk_id for c in before.chunks]
    assert not any(p.name.endswith(".partial") for p in settings.index_dir.iterdir())


def test_killed_save_leaves_a_loadable_index(docs: Path, tmp_path: Path) -> None:
    """A process killed in the middle of writing (no cleanup runs) leaves the old index current."""
    settings = settings_for(docs, tmp_path)
    before, _ = store.update(settings, Embedder())
    (docs / "late.txt").write_text(article("Late news", "A ferry ran aground near Split."))
    script = textwrap.dedent(
        f"""
        import os
        from pathlib import Path
        from rag import store
        from rag.embedding import Embedder
        from rag.lexical import Bm25Index
        from rag.settings import Settings

        def die(self, folder):
            Path(folder).mkdir()
            (Path(folder) / "half").write_text("partial")
            os._exit(9)

        Bm25Index.save = die
        store.update(Settings.from_env(env={{}}, docs_dir=Path({str(docs)!r}), index_dir=Path({str(settings.index_dir)!r})), Embedder())
        """
    )
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=300)
    assert result.returncode == 9, result.stderr
    after = store.load(settings.index_dir)
    assert [c.chunk_id for c in after.chunks] == [c.chunk_id for c in before.chunks]
    # The next update finishes the job and clears the half-written generation.
    index, report = store.update(settings, Embedder())
    assert report.embedded_files == 1 and any(c.source == "late.txt" for c in index.chunks)
    assert not any(p.name.endswith(".partial") for p in settings.index_dir.iterdir())
