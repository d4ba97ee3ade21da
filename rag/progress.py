"""Progress on stderr for long jobs: a redrawn bar on a terminal, periodic lines in a log.

`indexing()` shows an index update (`rag.ingest.Progress`): files and chunks done, chunks per
second and the time left, estimated from the files still to read. `counter(label)` shows any
(done, total) count, such as the eval's questions. When stderr is not a terminal a line is written
every `every_s` seconds and at the end, so a job run in the background can be followed in its log.
It does not log to files itself.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable
from typing import TextIO

from rag.ingest import Progress

#: Seconds between two progress lines when stderr is not a terminal.
LINE_EVERY_S = 5.0


def indexing(stream: TextIO | None = None, every_s: float = LINE_EVERY_S) -> Callable[[Progress], None]:
    out = stream or sys.stderr
    tty = out.isatty()
    last = [-every_s]

    def show(p: Progress) -> None:
        rate = p.chunks_done / p.seconds if p.seconds > 0 else 0.0
        left = p.seconds / p.files_done * (p.files_total - p.files_done) if p.files_done else 0.0
        line = (
            f"Indexing: {p.files_done}/{p.files_total} files, {p.chunks_done} chunks, "
            f"{rate:.0f} chunks/s, {_duration(left)} left"
        )
        finished = p.files_done >= p.files_total
        if tty:
            width = 24
            filled = width * p.files_done // max(p.files_total, 1)
            print(f"\r[{'#' * filled}{'.' * (width - filled)}] {line}\033[K", end="\n" if finished else "", file=out)
        elif finished or time.monotonic() - last[0] >= every_s:
            last[0] = time.monotonic()
            print(line, file=out, flush=True)

    return show


def counter(label: str, stream: TextIO | None = None, every_s: float = LINE_EVERY_S) -> Callable[[int, int], None]:
    out = stream or sys.stderr
    tty = out.isatty()
    last = [-every_s]

    def show(done: int, total: int) -> None:
        if tty:
            width = 30
            filled = width * done // max(total, 1)
            print(f"\r{label} [{'#' * filled}{'.' * (width - filled)}] {done}/{total}", end="", file=out)
            if done >= total:
                print(file=out)
        elif done >= total or time.monotonic() - last[0] >= every_s:
            last[0] = time.monotonic()
            print(f"{label}: {done}/{total}", file=out, flush=True)

    return show


def _duration(seconds: float) -> str:
    seconds = int(round(seconds))
    if seconds < 60:
        return f"{seconds} s"
    if seconds < 3600:
        return f"{seconds // 60} min {seconds % 60:02d} s"
    return f"{seconds // 3600} h {seconds % 3600 // 60:02d} min"
