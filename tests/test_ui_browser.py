"""End to end in a real browser: `python -m ui` on a free port, driven by headless Chromium via Selenium.

Asks a question, opens its first source, uploads an article and asks about it, and (when the llama.cpp
answerer exists) writes a tiny GGUF model into the server's models folder and picks it from the list.
Saves a screenshot to artifacts/ui_chat.png and the time from pressing Enter to the first visible
answer text to artifacts/ui_timings.json; prints both.
Skipped only when /usr/bin/chromium is not installed.
"""

from __future__ import annotations

import importlib.util
import json
import shutil
import time
from pathlib import Path

import pytest
from ui_server import running_ui

REPO = Path(__file__).resolve().parent.parent
SEED = REPO / "seeds" / "000_681fe9c43916d851.txt"
CHROMIUM = Path("/usr/bin/chromium")
CHROMEDRIVER = Path("/usr/bin/chromedriver")
ARTIFACTS = REPO / "artifacts"
ANSWER_TEXT = ".rag-answer .answer-text, .rag-answer .abstained, .rag-answer .error"

pytestmark = pytest.mark.skipif(
    not CHROMIUM.exists() or not CHROMEDRIVER.exists(),
    reason="needs Debian's chromium and chromedriver (/usr/bin/chromium, /usr/bin/chromedriver); apt install them",
)


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory):
    """The app, started as a user would, on a copy of the seed article, with a models folder of
    its own (empty until a test writes a GGUF file into it); yields its URL and folders."""
    root = tmp_path_factory.mktemp("ui")
    docs, models = root / "docs", root / "models"
    docs.mkdir()
    models.mkdir()
    shutil.copy(SEED, docs / SEED.name)
    args = ["--docs", str(docs), "--index-dir", str(root / "index"), "--models-dir", str(models)]
    with running_ui(root, args) as url:
        yield {"url": url, "root": root, "docs": docs, "models": models}


@pytest.fixture(scope="module")
def browser(server):
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = str(CHROMIUM)
    for arg in (
        "--headless=new --no-sandbox --disable-gpu --disable-dev-shm-usage --disable-background-networking "
        "--disable-component-update --disable-sync --no-first-run --window-size=1400,1100"
    ).split():
        options.add_argument(arg)
    options.add_argument(f"--user-data-dir={server['root'] / 'chromium-profile'}")
    driver = webdriver.Chrome(service=Service(str(CHROMEDRIVER)), options=options)
    driver.set_page_load_timeout(120)
    try:
        driver.get(server["url"])
        wait(driver, 120).until(lambda d: d.find_elements("css selector", "#question textarea, #question input"))
        yield driver
    finally:
        driver.quit()


def wait(driver, seconds: float):
    """A wait that polls every 50 ms and retries when the page re-rendered an element it held."""
    from selenium.common.exceptions import StaleElementReferenceException
    from selenium.webdriver.support.ui import WebDriverWait

    return WebDriverWait(driver, seconds, poll_frequency=0.05, ignored_exceptions=[StaleElementReferenceException])


def last_answer(driver):
    return driver.find_elements("css selector", "#chat .rag-answer")[-1]


def ask(driver, question: str, timeout: float = 180) -> tuple[object, float]:
    """Sends `question`; returns the finished answer element and the seconds until its first text showed."""
    from selenium.webdriver.common.keys import Keys

    before = len(driver.find_elements("css selector", "#chat .rag-answer"))
    box = driver.find_element("css selector", "#question textarea, #question input")
    box.send_keys(question)
    started = time.perf_counter()
    box.send_keys(Keys.ENTER)

    def answer_text_shown(d):
        answers = d.find_elements("css selector", "#chat .rag-answer")
        return len(answers) > before and any(
            e.text.strip() for e in answers[-1].find_elements("css selector", ANSWER_TEXT)
        )

    wait(driver, timeout).until(answer_text_shown)
    first_text = time.perf_counter() - started
    wait(driver, timeout).until(
        lambda d: not d.find_elements("css selector", "#chat .rag-answer .streaming, #chat .rag-answer .pending")
    )
    time.sleep(0.5)  # let the last re-render settle before elements are held
    return last_answer(driver), first_text


def test_chat_in_a_real_browser(server, browser, tmp_path):
    timings: dict[str, float] = {}

    answer, timings["extractive_first_text_s"] = ask(browser, "Who led Russia's delegation?")
    text = answer.find_element("css selector", ".answer-text").text
    assert "Medinsky" in text

    # The first source opens to show its passage with the quoted sentence highlighted.
    source = answer.find_element("css selector", "details.source")
    mark = source.find_element("css selector", "mark.cited")
    assert not mark.is_displayed()
    source.find_element("css selector", "summary").click()
    wait(browser, 10).until(lambda d: mark.is_displayed())
    quote = mark.text.strip()
    assert "Medinsky" in quote
    assert text.startswith(quote)  # the extractive answer is the quoted sentence, then its [n]
    assert " ".join(quote.split()) in " ".join(SEED.read_text(encoding="utf-8").split())
    assert "000_681fe9c43916d851.txt" in source.find_element("css selector", "summary").text

    # A follow-up is rewritten, and the rewrite is shown.
    followup, _ = ask(browser, "And who led Ukraine's?")
    assert "Who led Ukraine's delegation?" in followup.find_element("css selector", ".rewritten").text

    # Upload an article with a fact only it has; it is listed and answerable at once.
    article = tmp_path / "lighthouse keepers.txt"
    article.write_text(
        "Lighthouse keepers meet\n\nThe keepers of the Orlen lighthouse elected Mira Tesk as their chair on Tuesday.\n"
    )
    browser.find_element("css selector", "#upload input[type=file]").send_keys(str(article))
    wait(browser, 180).until(lambda d: "lighthouse_keepers.txt" in d.find_element("css selector", "#article-list").text)
    assert "Added lighthouse_keepers.txt" in browser.find_element("css selector", "#library-status").text
    assert (server["docs"] / "lighthouse_keepers.txt").read_text() == article.read_text()
    answer, timings["extractive_after_upload_first_text_s"] = ask(
        browser, "Who did the Orlen lighthouse keepers elect as chair?"
    )
    assert "Mira Tesk" in answer.find_element("css selector", ".answer-text").text
    answer.find_element("css selector", "details.source summary").click()

    ARTIFACTS.mkdir(exist_ok=True)
    browser.save_screenshot(str(ARTIFACTS / "ui_chat.png"))

    if importlib.util.find_spec("rag.generate") is not None:
        timings["tiny_gguf_first_text_s"] = ask_with_tiny_model(browser, server["models"])  # includes loading llama.cpp
        answer, timings["tiny_gguf_warm_first_text_s"] = ask(browser, "When do the talks begin?", timeout=600)
        assert not answer.find_elements("css selector", ".error"), answer.text
        browser.save_screenshot(str(ARTIFACTS / "ui_chat_tiny_gguf.png"))

    (ARTIFACTS / "ui_timings.json").write_text(json.dumps(timings, indent=1) + "\n")
    print(f"\nsubmit → first visible answer text: {timings}; screenshot: {ARTIFACTS / 'ui_chat.png'}")


def ask_with_tiny_model(browser, models: Path) -> float:
    """Writes a tiny random-weight GGUF into the server's models folder, picks it from the model list
    (reloaded with the page) and asks; returns seconds to first text."""
    from tiny_gguf import write_tiny_gguf

    write_tiny_gguf(models / "tiny.gguf")
    browser.refresh()  # the model list is read when the page loads
    wait(browser, 120).until(lambda d: d.find_elements("css selector", "#question textarea, #question input"))
    browser.find_element("css selector", "#settings .label-wrap").click()  # open the Settings panel
    radio = wait(browser, 10).until(
        lambda d: d.find_element("xpath", "//*[@id='answerer']//label[contains(., 'llama.cpp model')]")
    )
    radio.click()
    browser.find_element("css selector", "#model-path input").click()
    option = wait(browser, 10).until(
        lambda d: d.find_element("css selector", "#model-path li[data-testid=dropdown-option][aria-label='tiny.gguf']")
    )
    option.click()
    wait(browser, 10).until(
        lambda d: d.find_element("css selector", "#model-path input").get_attribute("value") == "tiny.gguf"
    )
    answer, first_text = ask(browser, "Who led Russia's delegation?", timeout=600)
    assert not answer.find_elements("css selector", ".error"), answer.text
    return first_text
