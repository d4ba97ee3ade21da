"""Loading at launch (`ui.respond.Shared.load`): the index and models load in a background thread,
the status line says so, and a question asked meanwhile waits for it instead of failing."""

from __future__ import annotations

import shutil
import threading
from pathlib import Path

from rag.settings import Settings
from ui.respond import LOADING, Shared, respond

REPO = Path(__file__).resolve().parent.parent
SEED = REPO / "seeds" / "000_681fe9c43916d851.txt"


def shared_over(docs: Path, tmp_path: Path) -> Shared:
    return Shared(Settings.from_env(env={}, docs_dir=docs, index_dir=tmp_path / "index"))


def test_the_status_says_loading_until_loaded_then_counts_the_articles(docs: Path, tmp_path: Path) -> None:
    shared = shared_over(docs, tmp_path)
    said: list[str] = []
    thread = shared.load(say=said.append)
    assert shared.status() == LOADING or not thread.is_alive()
    thread.join(300)
    assert shared.ready() and shared.status() == "Ready: 1 article"
    assert said[0].startswith("Indexed 1 files") and said[-1].startswith("Ready to answer (loaded in ")
    assert len(said) == 2
    (docs / "ferry.txt").write_text("Ferry news\n\nA ferry ran aground near Split on Sunday.\n")
    shared.refresh()
    assert shared.status() == "Ready: 2 articles"


def test_a_question_asked_while_loading_waits_and_is_then_answered(docs: Path, tmp_path: Path) -> None:
    shared = shared_over(docs, tmp_path)
    go_on = threading.Event()

    def say(line: str) -> None:  # holds loading up at its first line until the question is in
        go_on.wait(60)

    thread = shared.load(say=say)
    assert shared.status() == LOADING
    turn = respond("Who led Russia's delegation?", [], shared)
    waiting = next(turn)[-1]["content"]
    assert "Loading the articles and models; your question is next" in waiting
    go_on.set()
    last = list(turn)[-1][-1]["content"]
    thread.join(300)
    assert 'class="error"' not in last and ('class="answer-text' in last or 'class="abstained"' in last)
    assert shared.status() == "Ready: 1 article"


def test_loading_that_fails_says_why_in_one_line_and_turns_still_end(tmp_path: Path) -> None:
    empty = tmp_path / "empty"
    empty.mkdir()
    shared = shared_over(empty, tmp_path)
    said: list[str] = []
    shared.load(say=said.append).join(300)
    assert len(said) == 1 and said[0].startswith("error: ") and "\n" not in said[0]
    assert shared.status() == f"⚠ {said[0].removeprefix('error: ')}"
    last = list(respond("Who led Russia's delegation?", [], shared))[-1][-1]["content"]
    assert 'class="error"' in last
    shutil.copy(SEED, empty / SEED.name)  # an article arrives (the page's upload): ready again
    shared.refresh()
    assert shared.status() == "Ready: 1 article"
