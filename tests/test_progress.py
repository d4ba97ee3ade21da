"""Progress lines for long jobs: on a terminal a redrawn bar, in a log a line every few seconds."""

from __future__ import annotations

import io

import pytest

from rag import progress
from rag.ingest import Progress


class Log(io.StringIO):
    def isatty(self) -> bool:
        return False


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


@pytest.fixture
def clock(monkeypatch):
    """A clock that moves 3 s each time it is read."""
    now = [1000.0]

    def tick() -> float:
        now[0] += 3.0
        return now[0]

    monkeypatch.setattr(progress.time, "monotonic", tick)


@pytest.mark.parametrize(
    ("every_s", "updates", "lines"),
    [
        (10.0, 20, 6),  # the first at once, then one each fourth update (12 s), and the last
        (2.0, 5, 5),  # slower updates than lines: every update is a line
        (1000.0, 7, 2),  # the first and the last
    ],
)
def test_a_log_gets_a_line_every_few_seconds_and_at_the_end(clock, every_s: float, updates: int, lines: int) -> None:
    out = Log()
    show = progress.indexing(out, every_s)
    for done in range(1, updates + 1):
        show(Progress(done, updates, done * 30, done * 2.0))
    printed = out.getvalue().splitlines()
    assert len(printed) == lines
    assert printed[-1] == f"Indexing: {updates}/{updates} files, {updates * 30} chunks, 15 chunks/s, 0 s left"


def test_a_line_says_files_chunks_rate_and_time_left() -> None:
    out = Log()
    progress.indexing(out)(Progress(files_done=500, files_total=2000, chunks_done=1700, seconds=100.0))
    assert out.getvalue() == "Indexing: 500/2000 files, 1700 chunks, 17 chunks/s, 5 min 00 s left\n"


def test_a_terminal_gets_one_redrawn_line() -> None:
    out = Terminal()
    show = progress.indexing(out)
    for done in range(1, 4):
        show(Progress(done, 3, done * 10, float(done)))
    text = out.getvalue()
    assert text.count("\r") == 3 and text.count("\n") == 1 and text.endswith("0 s left\x1b[K\n")


@pytest.mark.parametrize(
    ("seconds", "shown"), [(0, "0 s"), (59.4, "59 s"), (61, "1 min 01 s"), (3600, "1 h 00 min"), (7325, "2 h 02 min")]
)
def test_durations(seconds: float, shown: str) -> None:
    assert progress._duration(seconds) == shown


def test_counter_in_a_log(clock) -> None:
    out = Log()
    show = progress.counter("Questions", out, every_s=10.0)
    for done in range(1, 9):
        show(done, 8)
    assert out.getvalue().splitlines() == ["Questions: 1/8", "Questions: 5/8", "Questions: 8/8"]
