"""The extractive answerer on a real index: what may and may not be quoted as the answer."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from rag.pipeline import Pipeline
from rag.settings import Settings

REPO = Path(__file__).resolve().parent.parent
SEED = REPO / "seeds" / "000_681fe9c43916d851.txt"
READERS_ASK = (
    "Readers ask about the Istanbul talks\n\n"
    "Who led Russia's delegation? Who led Russia’s delegation?\n\n"
    "Russia's delegation: who led it? We put these questions to our correspondent.\n"
)


@pytest.fixture(scope="module")
def pipeline(tmp_path_factory: pytest.TempPathFactory) -> Pipeline:
    root = tmp_path_factory.mktemp("extractive")
    docs = root / "docs"
    docs.mkdir()
    shutil.copy(SEED, docs / SEED.name)
    (docs / "readers.txt").write_text(READERS_ASK, encoding="utf-8")
    pipeline = Pipeline(Settings.from_env(env={}, docs_dir=docs, index_dir=root / "index"))
    pipeline.refresh()
    return pipeline


@pytest.mark.parametrize("question", ["Who led Russia's delegation?", "who led russia's delegation"])
def test_a_sentence_asking_the_question_is_not_the_answer(pipeline: Pipeline, question: str) -> None:
    answer = pipeline.ask(question)
    assert any(p.source == "readers.txt" for p in answer.passages)  # the echo was retrieved...
    assert all(c.source != "readers.txt" for c in answer.citations)  # ...and not quoted
    assert not answer.abstained and "Medinsky" in answer.text
