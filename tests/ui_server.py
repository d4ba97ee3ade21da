"""`python -m ui` as a user starts it, on a free port, for the tests that talk to it over HTTP or in a browser;
and the headless Chromium those browser tests drive."""

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


CHROMIUM = Path("/usr/bin/chromium")
CHROMEDRIVER = Path("/usr/bin/chromedriver")
needs_chromium = pytest.mark.skipif(
    not CHROMIUM.exists() or not CHROMEDRIVER.exists(),
    reason="needs Debian's chromium and chromedriver (/usr/bin/chromium, /usr/bin/chromedriver); apt install them",
)


@contextmanager
def chromium(profile: Path, width: int = 1400, height: int = 1100) -> Iterator[object]:
    """Headless Chromium driven by Selenium, with a profile folder of its own, until the block ends."""
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = str(CHROMIUM)
    for arg in (
        "--headless=new --no-sandbox --disable-gpu --disable-dev-shm-usage --disable-background-networking "
        "--disable-component-update --disable-sync --no-first-run"
    ).split():
        options.add_argument(arg)
    options.add_argument(f"--window-size={width},{height}")
    options.add_argument(f"--user-data-dir={profile}")
    driver = webdriver.Chrome(service=Service(str(CHROMEDRIVER)), options=options)
    driver.set_page_load_timeout(120)
    try:
        yield driver
    finally:
        driver.quit()


def wait(driver, seconds: float):
    """A wait that polls every 50 ms and retries when the page re-rendered an element it held."""
    from selenium.common.exceptions import StaleElementReferenceException
    from selenium.webdriver.support.ui import WebDriverWait

    return WebDriverWait(driver, seconds, poll_frequency=0.05, ignored_exceptions=[StaleElementReferenceException])


def shown_inside(driver, element, box=None) -> bool:
    """Whether `element` shows whole inside `box` (when given) and inside the window."""
    return driver.execute_script(
        "const r = arguments[0].getBoundingClientRect();"
        "const b = arguments[1] ? arguments[1].getBoundingClientRect() : {top: 0, bottom: innerHeight};"
        "return r.height > 0 && r.top >= Math.max(b.top, 0) - 1 && r.bottom <= Math.min(b.bottom, innerHeight) + 1"
        " && r.left >= -1 && r.right <= innerWidth + 1;",
        element,
        box,
    )
