"""`python -m ui` as a user starts it, on a free port, for the tests that talk to it over HTTP or in a browser."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextmanager
def running_ui(root: Path, args: list[str], env: dict[str, str] | None = None) -> Iterator[str]:
    """Serves `python -m ui *args` from `root` until the block ends; yields its URL. Its output goes
    to root/server.log, shown when it fails to start."""
    port = free_port()
    # One llama.cpp thread: with two, generation crawls while other processes load the cores.
    env = {
        **os.environ,
        "GRADIO_ANALYTICS_ENABLED": "False",
        "HF_HUB_OFFLINE": "1",
        "RAG_N_THREADS": "1",
        **(env or {}),
    }
    url = f"http://127.0.0.1:{port}/"
    log_path = root / "server.log"
    with open(log_path, "w") as log:
        process = subprocess.Popen(
            [sys.executable, "-m", "ui", "--port", str(port), *args],
            cwd=root,
            stdout=log,
            stderr=subprocess.STDOUT,
            env=env,
        )
        try:
            wait_until_serving(process, url, log_path)
            yield url
        finally:
            process.terminate()
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                process.kill()


def wait_until_serving(process: subprocess.Popen, url: str, log: Path, seconds: float = 300) -> None:
    deadline = time.monotonic() + seconds
    while True:
        if process.poll() is not None:
            pytest.fail(f"python -m ui exited with {process.returncode}:\n{log.read_text()}")
        try:
            with urllib.request.urlopen(url, timeout=5) as response:
                if response.status == 200:
                    return
        except OSError:
            pass
        if time.monotonic() > deadline:
            pytest.fail(f"python -m ui did not answer on {url}:\n{log.read_text()}")
        time.sleep(0.5)
