"""The index on disk, through updates: incremental changes, deletions, model changes, crash-safe
saves, and what loading does with a damaged index (refuse it in one line) and updating (repair it)."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from collections.abc import Callable
from pathlib import Path

import pytest

from rag import changes, disk, ingest
from rag.bm25 import Bm25
from rag.embedding import Embedder
from rag.errors import RagError
from rag.settings import Settings
from rag.store.faiss_bm25 import faiss_id


class CountingEmbedder(Embedder):
    """The real model, counting the texts it is asked to encode."""

    def __init__(self, model_name: str | None = None) -> None:
        super().__init__(model_name) if model_name else super().__init__()
        self.encoded = 0

    def encode_documents(self, texts):
        self.encoded += len(texts)
        return super().encode_documents(texts)


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
    first, report = ingest.update(settings, embedder=embedder)
    assert report.embedded_files == 2 and embedder.encoded == len(first.chunks)

    embedder.encoded = 0
    _, report = ingest.update(settings, embedder=embedder)
    assert not report.changed and embedder.encoded == 0

    (two_docs / "harbour.txt").write_text(article("Harbour reopens", "The harbour in Gdańsk reopened on Tuesday."))
    updated, report = ingest.update(settings, embedder=embedder)
    assert report.embedded_files == 1 and report.embedded_chunks == 1 and embedder.encoded == 1
    assert len(updated.chunks) == len(first.chunks)
    assert any("Tuesday" in c.text for c in updated.chunks.values())
    assert not any("Monday" in c.text for c in updated.chunks.values())
    # Vectors of the unchanged file were kept, not recomputed: still under their chunks' ids.
    reloaded = disk.load(settings.index_dir)
    seed = [c for c in reloaded.chunks.values() if c.source != "harbour.txt"]
    fresh = Embedder().encode_documents([changes.embed_text(c) for c in seed])
    kept = [reloaded.vectors.reconstruct(faiss_id(c.chunk_id)) for c in seed]
    assert (abs(kept - fresh) < 1e-4).all()


def test_deleted_file_leaves_the_index(two_docs: Path, tmp_path: Path) -> None:
    settings = settings_for(two_docs, tmp_path)
    ingest.update(settings, embedder=Embedder())
    (two_docs / "harbour.txt").unlink()
    index, report = ingest.update(settings, embedder=Embedder())
    assert report.removed_files == 1
    assert {c.source for c in index.chunks.values()} == {"000_681fe9c43916d851.txt"}
    assert "harbour.txt" not in index.files
    assert index.vectors.ntotal == len(index.chunks) == len(index.lexical)
    assert all("Gdańsk" not in c.text for c in disk.load(settings.index_dir).chunks.values())


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
    ingest.update(settings_for(docs, tmp_path), embedder=Embedder())
    settings = settings_for(docs, tmp_path, embedding_model=other_model)
    index, report = ingest.update(settings, embedder=Embedder(other_model))
    assert report.rebuilt_because and "all-MiniLM-L6-v2" in report.rebuilt_because
    assert report.embedded_chunks == len(index.chunks)
    assert index.manifest["dimension"] == 128 and index.vectors.d == 128
    assert disk.load(settings.index_dir).embedding_model == other_model


def test_failed_save_keeps_the_previous_index(docs: Path, tmp_path: Path, monkeypatch) -> None:
    settings = settings_for(docs, tmp_path)
    before, _ = ingest.update(settings, embedder=Embedder())
    (docs / "late.txt").write_text(article("Late news", "A ferry ran aground near Split."))

    def crash(self, folder):
        raise OSError("disk full")

    monkeypatch.setattr(Bm25, "save", crash)
    with pytest.raises(OSError, match="disk full"):
        ingest.update(settings, embedder=Embedder())
    after = disk.load(settings.index_dir)
    assert sorted(after.chunks) == sorted(before.chunks)
    assert not any(p.name.endswith(".partial") for p in settings.index_dir.iterdir())


def test_killed_save_leaves_a_loadable_index(docs: Path, tmp_path: Path) -> None:
    """A process killed in the middle of writing (no cleanup runs) leaves the old index current."""
    settings = settings_for(docs, tmp_path)
    before, _ = ingest.update(settings, embedder=Embedder())
    (docs / "late.txt").write_text(article("Late news", "A ferry ran aground near Split."))
    script = textwrap.dedent(
        f"""
        import os
        from pathlib import Path
        from rag import ingest
        from rag.bm25 import Bm25
        from rag.settings import Settings

        def die(self, folder):
            Path(folder).mkdir()
            (Path(folder) / "half").write_text("partial")
            os._exit(9)

        Bm25.save = die
        ingest.update(Settings.from_env(env={{}}, docs_dir=Path({str(docs)!r}), index_dir=Path({str(settings.index_dir)!r})))
        """
    )
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=300)
    assert result.returncode == 9, result.stderr
    after = disk.load(settings.index_dir)
    assert sorted(after.chunks) == sorted(before.chunks)
    # The next update finishes the job and clears the half-written generation.
    index, report = ingest.update(settings, embedder=Embedder())
    assert report.embedded_files == 1 and any(c.source == "late.txt" for c in index.chunks.values())
    assert not any(p.name.endswith(".partial") for p in settings.index_dir.iterdir())


# --- damage ---------------------------------------------------------------------------------------


def live(index_dir: Path) -> Path:
    return index_dir / (index_dir / "CURRENT").read_text().strip()


def cut(path: Path, keep: float = 0.5) -> None:
    data = path.read_bytes()
    path.write_bytes(data[: int(len(data) * keep)])


def drop_last_line(path: Path) -> None:
    path.write_text("".join(path.read_text().splitlines(keepends=True)[:-1]))


# What the issue found in the wild, and more of the kind. The first five damage the live generation's
# files; the last two its pointer, so the live generation itself is intact.
DAMAGE: dict[str, Callable[[Path], object]] = {
    "empty chunk table": lambda d: (live(d) / "chunks.jsonl").write_text(""),
    "chunk table one line short": lambda d: drop_last_line(live(d) / "chunks.jsonl"),
    "empty BM25 arrays": lambda d: [p.write_bytes(b"") for p in (live(d) / "bm25").glob("*.npy")],
    "vectors cut in half": lambda d: cut(live(d) / "vectors.faiss"),
    "manifest cut short": lambda d: cut(live(d) / "manifest.json"),
    "CURRENT of random bytes": lambda d: (d / "CURRENT").write_bytes(bytes(range(128, 256))),
    "CURRENT missing": lambda d: (d / "CURRENT").unlink(),
}
POINTER_DAMAGE = {"CURRENT of random bytes", "CURRENT missing"}


@pytest.mark.parametrize("checksums", [True, False], ids=["checksums", "older index without checksums"])
@pytest.mark.parametrize("damage", DAMAGE)
def test_a_damaged_index_is_refused_in_one_line(two_docs: Path, tmp_path: Path, damage: str, checksums: bool) -> None:
    settings = settings_for(two_docs, tmp_path)
    ingest.update(settings, embedder=Embedder())
    if not checksums:  # as saved before checksums were recorded: counts and ids are still checked
        manifest = live(settings.index_dir) / "manifest.json"
        manifest.write_text(json.dumps({k: v for k, v in json.loads(manifest.read_text()).items() if k != "checksums"}))
    DAMAGE[damage](settings.index_dir)
    with pytest.raises(RagError) as err:
        disk.load(settings.index_dir)
    message = str(err.value)
    assert "is damaged" in message and "python -m rag.index" in message and "\n" not in message


def test_a_changed_file_is_damage_even_when_counts_agree(two_docs: Path, tmp_path: Path) -> None:
    settings = settings_for(two_docs, tmp_path)
    ingest.update(settings, embedder=Embedder())
    table = live(settings.index_dir) / "chunks.jsonl"
    table.write_text(table.read_text().replace("Gdańsk", "Gdynia"))
    with pytest.raises(RagError, match=r"chunks\.jsonl does not match its checksum"):
        disk.load(settings.index_dir)


@pytest.mark.parametrize("damage", DAMAGE)
def test_an_update_repairs_damage_from_the_previous_generation(two_docs: Path, tmp_path: Path, damage: str) -> None:
    settings = settings_for(two_docs, tmp_path)
    ingest.update(settings, embedder=Embedder())
    (two_docs / "harbour.txt").write_text(article("Harbour reopens", "The harbour in Gdańsk reopened on Tuesday."))
    ingest.update(settings, embedder=Embedder())
    DAMAGE[damage](settings.index_dir)

    embedder = CountingEmbedder()
    index, report = ingest.update(settings, embedder=embedder)
    [note] = report.notes
    assert "was damaged" in note and "repaired it from gen-" in note
    # Damage to the live files costs that generation: only the file changed since the one before is
    # embedded again. Damage to the pointer costs nothing: the live generation is intact.
    assert embedder.encoded == (0 if damage in POINTER_DAMAGE else 1)
    loaded = disk.load(settings.index_dir)
    assert sorted(loaded.chunks) == sorted(index.chunks)
    texts = [c.text for c in loaded.chunks.values()]
    assert any("Tuesday" in t for t in texts) and not any("Monday" in t for t in texts)
    assert len(disk.generations(settings.index_dir)) == 2


def test_without_an_intact_generation_the_update_rebuilds_and_says_so(two_docs: Path, tmp_path: Path) -> None:
    settings = settings_for(two_docs, tmp_path)
    first, _ = ingest.update(settings, embedder=Embedder())
    (two_docs / "harbour.txt").write_text(article("Harbour reopens", "The harbour in Gdańsk reopened on Tuesday."))
    ingest.update(settings, embedder=Embedder())
    for generation in disk.generations(settings.index_dir):
        (settings.index_dir / generation / "chunks.jsonl").write_text("")
    index, report = ingest.update(settings, embedder=Embedder())
    assert report.rebuilt_because and "no earlier generation was intact" in report.rebuilt_because
    assert report.embedded_files == 2 and len(disk.load(settings.index_dir).chunks) == len(first.chunks)


def test_a_save_keeps_the_previous_generation_and_no_older(two_docs: Path, tmp_path: Path) -> None:
    settings = settings_for(two_docs, tmp_path)
    names = []
    for day in ("Monday", "Tuesday", "Wednesday"):
        (two_docs / "harbour.txt").write_text(article("Harbour reopens", f"The harbour in Gdańsk reopened on {day}."))
        ingest.update(settings, embedder=Embedder())
        names.append((settings.index_dir / "CURRENT").read_text().strip())
    kept = sorted(p.name for p in settings.index_dir.iterdir() if p.name.startswith("gen-"))
    assert kept == sorted(names[1:])  # the live generation and the one before it
    assert any("Tuesday" in c.text for c in disk.load_generation(settings.index_dir, names[1]).chunks.values())
