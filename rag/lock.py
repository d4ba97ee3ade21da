"""One writer at a time per index folder: an advisory lock on `<index folder>/.lock`.

`writer_lock(index_dir, timeout_s, on_wait)` takes an exclusive `fcntl.flock` on the lock file.
When another process holds it, `on_wait` is told once, in a line naming that process's pid, and
the lock is tried again until `timeout_s` seconds have passed; then a `RagError` says who holds it.
The holder's pid is written into the file while it holds the lock. The kernel releases the lock
when its holder exits, even when killed, so a crash never leaves the folder locked. Readers take
no lock. It is advisory (it keeps out only processes that use it) and needs a POSIX system.
"""

from __future__ import annotations

import fcntl
import os
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

from rag.errors import RagError

LOCK_NAME = ".lock"
#: Seconds between two tries while another writer holds the lock (flock itself cannot time out).
POLL_S = 0.1


@contextmanager
def writer_lock(index_dir: Path, timeout_s: float, on_wait: Callable[[str], None] | None = None) -> Iterator[None]:
    """Holds the writer lock of `index_dir` (created if missing) for the body of the `with`."""
    index_dir.mkdir(parents=True, exist_ok=True)
    fd = os.open(index_dir / LOCK_NAME, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        if not _try_lock(fd):
            holder = _holder(fd)
            if on_wait:
                on_wait(f"the index in {index_dir}/ is being updated by {holder}; waiting for it to finish")
            deadline = time.monotonic() + timeout_s
            while not _try_lock(fd):
                if time.monotonic() >= deadline:
                    raise RagError(
                        f"The index in {index_dir}/ is still being updated by {holder} after {timeout_s:g} s; "
                        "try again when it has finished (or raise RAG_LOCK_TIMEOUT_S)."
                    )
                time.sleep(POLL_S)
        os.ftruncate(fd, 0)
        os.pwrite(fd, f"{os.getpid()}\n".encode(), 0)
        try:
            yield
        finally:
            os.ftruncate(fd, 0)
    finally:
        os.close(fd)  # releases the lock


def _try_lock(fd: int) -> bool:
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return False
    return True


def _holder(fd: int) -> str:
    """Who holds the lock, as the holder wrote it: "process 1234", or "another process"."""
    pid = os.pread(fd, 32, 0).decode("ascii", errors="replace").strip()
    return f"process {pid}" if pid.isdigit() else "another process"
