"""Copies folded and dates honoured, through a real index: a story, its syndicated copy and an
unrelated story give one source with "also in"; a date range leaves other days' articles out."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from test_duplicates import COPY, UNRELATED

from rag.fold import mark_copies
from rag.pipeline import Pipeline
from rag.settings import Settings

SEED = Path(__file__).resolve().parent.parent / "seeds" / "000_681fe9c43916d851.txt"
QUESTION = "Who led Russia's delegation?"


@pytest.fixture(scope="module")
def folded(tmp_path_factory: pytest.TempPathFactory) -> Pipeline:
    root = tmp_path_factory.mktemp("fold")
    docs = root / "docs"
    docs.mkdir()
    shutil.copy(SEED, docs / "guardian.txt")  # states no date
    headline, rest = COPY.split("\n", 1)
    (docs / "wire.txt").write_text(f"{headline}\nPublished 16 May 2025\n{rest}", encoding="utf-8")
    (docs / "other.txt").write_text(UNRELATED.replace("\n", "\nPublished 14 May 2025\n", 1), encoding="utf-8")
    pipeline = Pipeline(Settings.from_env(env={}, docs_dir=docs, index_dir=root / "index"), reranker=None)
    pipeline.refresh()
    return pipeline


def test_the_index_records_which_file_is_the_newest_copy(folded: Pipeline) -> None:
    files = folded.store.files
    assert files["wire.txt"]["also_in"] == ["guardian.txt"] and files["guardian.txt"]["copy_of"] == "wire.txt"
    assert "also_in" not in files["other.txt"] and "copy_of" not in files["other.txt"]
    assert files["wire.txt"]["published"] == "2025-05-16" and files["guardian.txt"]["published"] is None


def test_a_story_and_its_copy_give_one_source_that_names_the_other(folded: Pipeline) -> None:
    passages = folded.passages(QUESTION, k=5)
    sources = [p.source for p in passages]
    assert "guardian.txt" not in sources and sources[0] == "wire.txt"
    assert passages[0].also_in == ("guardian.txt",) and passages[0].published == "2025-05-16"
    assert all(p.also_in == () for p in passages if p.source == "other.txt")


@pytest.mark.parametrize(
    ("dates", "sources"),
    [
        (("2025-05-16", None), {"wire.txt"}),
        ((None, "2025-05-15"), {"other.txt"}),
        (("2025-05-14", "2025-05-16"), {"wire.txt", "other.txt"}),
        (("2025-06-01", None), set()),  # nothing that day: no passage at all
    ],
)
def test_a_date_range_searches_only_articles_dated_within_it(folded: Pipeline, dates, sources) -> None:
    assert {p.source for p in folded.passages(QUESTION, k=5, dates=dates)} == sources


@pytest.mark.parametrize(
    ("entries", "expected"),
    [
        # the dated copy is the newest, whatever the file times say
        ({"a": ("2025-05-16", 1.0), "b": (None, 9.0)}, {"a": ["b"]}),
        # no dates: the file modified last
        ({"a": (None, 1.0), "b": (None, 9.0)}, {"b": ["a"]}),
        # the later date wins
        ({"a": ("2025-05-14", 9.0), "b": ("2025-05-16", 1.0)}, {"b": ["a"]}),
    ],
)
def test_mark_copies_names_the_newest(entries, expected) -> None:
    import base64

    from rag.duplicates import sign

    signature = base64.b64encode(sign(SEED.read_text(encoding="utf-8")).to_bytes()).decode()
    files = {s: {"published": p, "modified": m, "minhash": signature} for s, (p, m) in entries.items()}
    files["lone"] = {"minhash": base64.b64encode(sign(UNRELATED).to_bytes()).decode()}
    mark_copies(files)
    assert {s: e["also_in"] for s, e in files.items() if "also_in" in e} == expected
    newest = next(iter(expected))
    assert all(files[s]["copy_of"] == newest for s in expected[newest])
