"""End to end in a real browser: `python -m ui` on a free port, driven by headless Chromium via Selenium.

The tests run in order against one server, as a user would use it: the page opens while the app is
still loading (the test holds the index's writer lock, as another process updating the index
would, until the page has said so) and a question asked then is answered after the page says
ready; a marker opens its source at the highlighted sentence; a new answer scrolls into view after
a source was opened; the question box shows without scrolling at 1366×768 and at phone width, with
one "Settings"; a follow-up is rewritten; an uploaded article is counted, listed and answerable; a
tiny GGUF model picked from the list answers with markers that open their sources; and, last, the
server log holds only the app's own lines.
Saves screenshots and the timings (printed too) to artifacts/ui_timings.json. The answers checked
for their words ("Medinsky", "Mira Tesk") need the trained reader. Skipped only when
/usr/bin/chromium is not installed.
"""

from __future__ import annotations

import importlib.util
import json
import re
import shutil
import time
from contextlib import ExitStack
from pathlib import Path

import pytest
from ui_server import chromium, needs_chromium, running_ui, shown_inside, wait

from rag.lock import writer_lock

REPO = Path(__file__).resolve().parent.parent
SEED = REPO / "seeds" / "000_681fe9c43916d851.txt"
ARTIFACTS = REPO / "artifacts"
QUESTION_BOX = "#question textarea, #question input"
ANSWER_TEXT = ".rag-answer .answer-text, .rag-answer .abstained, .rag-answer .error"
CHAT_BOX = "#chat .bubble-wrap"  # the element of Gradio's chatbot that scrolls

pytestmark = [needs_chromium, pytest.mark.browser]


@pytest.fixture(scope="module")
def browser(tmp_path_factory: pytest.TempPathFactory):
    """Chromium, started before the server so that the page can open while the app still loads."""
    with chromium(tmp_path_factory.mktemp("chromium") / "profile") as driver:
        yield driver


@pytest.fixture(scope="module")
def server(browser, tmp_path_factory: pytest.TempPathFactory):
    """The app, started as a user would, on a copy of the seed article, with a models folder of
    its own (empty until a test writes a GGUF file into it); yields its URL, folders and log, and
    `release`, which lets it index: until then the test holds the index's writer lock."""
    root = tmp_path_factory.mktemp("ui")
    docs, models, index = root / "docs", root / "models", root / "index"
    docs.mkdir()
    models.mkdir()
    shutil.copy(SEED, docs / SEED.name)
    args = ["--docs", str(docs), "--index-dir", str(index), "--models-dir", str(models)]
    with ExitStack() as lock:
        lock.enter_context(writer_lock(index, 10))
        with running_ui(root, args) as url:
            yield {"url": url, "docs": docs, "models": models, "log": root / "server.log", "release": lock.close}


@pytest.fixture(scope="module")
def timings():
    """Figures the tests measure; printed and saved to artifacts/ui_timings.json at the end."""
    figures: dict[str, object] = {}
    yield figures
    ARTIFACTS.mkdir(exist_ok=True)
    (ARTIFACTS / "ui_timings.json").write_text(json.dumps(figures, indent=1) + "\n")
    print(f"\nUI figures (seconds): {figures}; saved to {ARTIFACTS / 'ui_timings.json'}")


@pytest.fixture(scope="module")
def loading_page(browser, server):
    """The page, opened while the app cannot load the index yet: it must say that it is loading."""
    browser.get(server["url"])
    said = wait(browser, 60).until(lambda d: status(d))
    assert said == "⏳ Loading the articles and models…"
    wait(browser, 60).until(lambda d: d.find_elements("css selector", QUESTION_BOX))
    return browser


@pytest.fixture(scope="module")
def page(loading_page, server):
    """The page once the app is ready."""
    server["release"]()
    wait(loading_page, 300).until(lambda d: status(d).startswith("Ready"))
    return loading_page


def status(driver) -> str:
    found = driver.find_elements("css selector", "#status")
    return found[0].text.strip() if found else ""


def last_answer(driver):
    return driver.find_elements("css selector", "#chat .rag-answer")[-1]


def answer_shown(driver, before: int) -> bool:
    answers = driver.find_elements("css selector", "#chat .rag-answer")
    return len(answers) > before and any(e.text.strip() for e in answers[-1].find_elements("css selector", ANSWER_TEXT))


def source_for(answer, marker):
    """The source a marker names: "[2]" (or "[2]⚠") names the source whose summary starts "[2]"."""
    label = re.match(r"\[\d+\]", marker.text).group()
    found = [s for s in answer.find_elements("css selector", "details.source") if s.text.startswith(label)]
    assert len(found) == 1, (label, [s.text for s in answer.find_elements("css selector", "details.source")])
    return found[0]


def submit(driver, question: str) -> int:
    """Types `question` and presses Enter; returns how many answers the chat held before."""
    from selenium.webdriver.common.keys import Keys

    before = len(driver.find_elements("css selector", "#chat .rag-answer"))
    box = driver.find_element("css selector", QUESTION_BOX)
    box.send_keys(question)
    box.send_keys(Keys.ENTER)
    return before


def finished(driver, timeout: float) -> None:
    wait(driver, timeout).until(
        lambda d: not d.find_elements("css selector", "#chat .rag-answer .streaming, #chat .rag-answer .pending")
    )
    time.sleep(0.5)  # let the last re-render settle before elements are held


def ask(driver, question: str, timeout: float = 180) -> tuple[object, float]:
    """Sends `question`; returns the finished answer element and the seconds until its first text showed."""
    started = time.perf_counter()
    before = submit(driver, question)
    wait(driver, timeout).until(lambda d: answer_shown(d, before))
    first_text = time.perf_counter() - started
    finished(driver, timeout)
    return last_answer(driver), round(first_text, 2)


def test_a_question_asked_while_loading_is_answered_after_the_page_says_ready(loading_page, server, timings):
    page = loading_page
    before = submit(page, "Who led Russia's delegation?")
    wait(page, 30).until(lambda d: "your question is next" in d.find_element("id", "chat").text)
    assert status(page) == "⏳ Loading the articles and models…"
    # no second question can be sent (and lost) while this one waits
    assert not page.find_element("css selector", QUESTION_BOX).is_enabled()
    assert not page.find_element("id", "ask").is_enabled()
    submitted = time.perf_counter()  # from the moment the app may load
    server["release"]()
    seen: dict[str, float] = {}

    def look(driver) -> bool:
        now = time.perf_counter()
        if "ready" not in seen and status(driver).startswith("Ready"):
            seen["ready"] = now
        if answer_shown(driver, before):
            seen["answer"] = now
            seen["status_at_answer"] = status(driver)
            return True
        return False

    wait(page, 300).until(look)
    finished(page, 180)
    wait(page, 10).until(lambda d: d.find_element("css selector", QUESTION_BOX).is_enabled())
    assert "ready" in seen, f"the answer showed while the page said {seen['status_at_answer']!r}"
    assert status(page) == "Ready: 1 article"
    assert not last_answer(page).find_elements("css selector", ".error"), last_answer(page).text
    timings["loading_s"] = round(seen["ready"] - submitted, 2)  # index, embedder, reader (seen by the page)
    timings["first_answer_after_ready_s"] = round(seen["answer"] - seen["ready"], 2)


def test_a_marker_opens_its_source_at_the_highlighted_sentence(page, timings):
    answer, timings["reader_first_text_s"] = ask(page, "Who led Russia's delegation?")
    text = answer.find_element("css selector", ".answer-text").text
    assert "Medinsky" in text
    marker = answer.find_element("css selector", ".answer-text sup.cite")
    source = source_for(answer, marker)
    mark = source.find_element("css selector", "mark.cited")
    assert not mark.is_displayed()
    marker.click()
    box = page.find_element("css selector", CHAT_BOX)
    passage = source.find_element("css selector", ".passage")
    wait(page, 10).until(lambda d: shown_inside(d, mark, passage) and shown_inside(d, mark, box))
    ARTIFACTS.mkdir(exist_ok=True)
    page.save_screenshot(str(ARTIFACTS / "ui_source.png"))
    quote = " ".join(mark.text.split())
    assert "Medinsky" in quote and quote in " ".join(SEED.read_text(encoding="utf-8").split())
    summary = source.find_element("css selector", "summary").text
    assert "Zelenskyy sends team" in summary and "paragraph" in summary and SEED.name in summary


def test_a_new_answer_scrolls_into_view_after_a_source_was_opened(page, timings):
    settings(page, show_passages=True)  # so that every answer has sources to open, cited or not
    try:
        answer, _ = ask(page, "When do the talks begin?")
        source = answer.find_element("css selector", "details.source")
        source.find_element("css selector", "summary").click()
        wait(page, 10).until(lambda d: source.get_attribute("open") is not None)
        marks = source.find_elements("css selector", "mark.cited")
        if marks:
            box = page.find_element("css selector", CHAT_BOX)
            wait(page, 10).until(lambda d: shown_inside(d, marks[0], box))
        box = page.find_element("css selector", CHAT_BOX)
        page.execute_script("arguments[0].scrollTop = 0", box)  # and the reader scrolls back up
        answer, timings["after_opened_source_first_text_s"] = ask(page, "Where are the talks held?")
        first_line = answer.find_element("css selector", ANSWER_TEXT)
        assert shown_inside(page, first_line, page.find_element("css selector", CHAT_BOX))
    finally:
        settings(page, show_passages=False)


def settings(driver, show_passages: bool) -> None:
    """Sets "Show retrieved passages" in the Settings panel, opening the panel and closing it after."""
    toggle_settings(driver)
    box = wait(driver, 10).until(lambda d: d.find_element("css selector", "#show-passages input"))
    if box.is_selected() != show_passages:
        box.click()
    wait(driver, 10).until(
        lambda d: d.find_element("css selector", "#show-passages input").is_selected() == show_passages
    )
    toggle_settings(driver)


def toggle_settings(driver) -> None:
    """Opens or closes the Settings panel, once the page has rendered its header (after a reload the
    question box can show before it)."""
    wait(driver, 30).until(lambda d: d.find_elements("css selector", "#settings .label-wrap"))[0].click()


@pytest.mark.parametrize(("width", "height", "name"), [(1366, 768, "laptop"), (390, 844, "phone")])
def test_the_question_box_shows_without_scrolling_and_there_is_one_settings(page, width, height, name):
    try:
        page.set_window_size(width, height)
        page.refresh()
        box = wait(page, 60).until(lambda d: d.find_element("css selector", QUESTION_BOX))
        wait(page, 30).until(lambda d: status(d).startswith("Ready"))
        time.sleep(0.5)  # layout settles
        ARTIFACTS.mkdir(exist_ok=True)
        page.save_screenshot(str(ARTIFACTS / f"ui_{name}.png"))
        assert page.execute_script("return window.scrollY") == 0
        assert shown_inside(page, box), (box.rect, page.execute_script("return [innerWidth, innerHeight]"))
        assert shown_inside(page, page.find_element("id", "ask"))
        says_settings = page.execute_script(
            "const found = []; const walk = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);"
            "while (walk.nextNode()) if (/settings/i.test(walk.currentNode.textContent))"
            " found.push(walk.currentNode.textContent.trim());"
            "return found;"
        )
        assert says_settings == ["Settings"]
    finally:
        page.set_window_size(1400, 1100)
        page.refresh()
        wait(page, 60).until(lambda d: d.find_elements("css selector", QUESTION_BOX))


def test_a_follow_up_is_rewritten_and_the_rewrite_shown(page):
    ask(page, "Who led Russia's delegation?")
    followup, _ = ask(page, "And who led Ukraine's?")
    assert "Who led Ukraine's delegation?" in followup.find_element("css selector", ".rewritten").text


def test_an_uploaded_article_is_counted_listed_and_answerable(page, server, timings, tmp_path):
    wait(page, 30).until(lambda d: "1 article, " in d.find_element("css selector", "#article-list").text)
    assert status(page) == "Ready: 1 article"
    article = tmp_path / "lighthouse keepers.txt"
    article.write_text(
        "Lighthouse keepers meet\n\nThe keepers of the Orlen lighthouse elected Mira Tesk as their chair on Tuesday.\n"
    )
    page.find_element("css selector", "#upload input[type=file]").send_keys(str(article))
    wait(page, 180).until(lambda d: "lighthouse_keepers.txt" in d.find_element("css selector", "#article-list").text)
    library = page.find_element("css selector", "#library-status").text
    assert "Added lighthouse_keepers.txt" in library and "Index up to date: 2 articles, " in library
    assert "2 articles, " in page.find_element("css selector", "#article-list .article-count").text
    assert status(page) == "Ready: 2 articles"
    assert (server["docs"] / "lighthouse_keepers.txt").read_text() == article.read_text()
    answer, timings["after_upload_first_text_s"] = ask(page, "Who did the Orlen lighthouse keepers elect as chair?")
    ARTIFACTS.mkdir(exist_ok=True)
    page.save_screenshot(str(ARTIFACTS / "ui_chat.png"))
    assert "Mira Tesk" in answer.find_element("css selector", ".answer-text").text


def test_an_uploaded_pdf_answers_and_an_export_links_back_to_its_story(page, server, tmp_path):
    """A PDF and an archive export uploaded together: the PDF answers a question only it answers, and
    the export's story shows a link that opens its own page in a new tab."""
    from format_files import two_column_pdf

    pdf = tmp_path / "gazette.pdf"
    pdf.write_bytes(two_column_pdf())
    export = tmp_path / "archive.jsonl"
    story = {"id": "ferry-7", "title": "Ferry aground", "date": "2025-05-07", "url": "https://gazette.example/ferry-7"}
    export.write_text(json.dumps(story | {"text": "The ferry Saint Brendan ran aground off Quillan on 7 May."}) + "\n")
    page.find_element("css selector", "#upload input[type=file]").send_keys(f"{pdf}\n{export}")
    wait(page, 180).until(lambda d: "archive.jsonl" in d.find_element("css selector", "#article-list").text)
    assert "gazette.pdf" in page.find_element("css selector", "#article-list").text

    answer, _ = ask(page, "When did the council meet to discuss the harbour budget?")
    assert "Monday" in answer.find_element("css selector", ".answer-text").text
    assert any("gazette.pdf" in s.text for s in answer.find_elements("css selector", "details.source"))

    answer, _ = ask(page, "Which ferry ran aground off Quillan?")
    assert "Saint Brendan" in answer.find_element("css selector", ".answer-text").text
    [link] = [a for a in answer.find_elements("css selector", "a.story-link")][:1]
    assert link.get_attribute("href") == story["url"] and link.get_attribute("target") == "_blank"
    assert "noopener" in link.get_attribute("rel")


@pytest.mark.skipif(importlib.util.find_spec("llama_cpp") is None, reason="needs llama-cpp-python")
def test_a_model_from_the_list_answers_with_markers_that_open_their_sources(page, server, timings):
    """A tiny random-weight GGUF, written into the server's models folder and picked from the list
    (read when the page loads), answers with strict citations: its claims are gibberish, but each
    cites a passage, and clicking a marker opens that passage at its highlighted sentence."""
    from tiny_gguf import write_tiny_gguf

    write_tiny_gguf(server["models"] / "tiny.gguf")
    page.refresh()
    wait(page, 120).until(lambda d: d.find_elements("css selector", QUESTION_BOX))
    toggle_settings(page)  # open the Settings panel
    radio = wait(page, 10).until(
        lambda d: d.find_element("xpath", "//*[@id='answerer']//label[contains(., 'llama.cpp model')]")
    )
    radio.click()
    page.find_element("css selector", "#model-path input").click()
    option = wait(page, 10).until(
        lambda d: d.find_element("css selector", "#model-path li[data-testid=dropdown-option][aria-label='tiny.gguf']")
    )
    option.click()
    wait(page, 10).until(
        lambda d: d.find_element("css selector", "#model-path input").get_attribute("value") == "tiny.gguf"
    )
    page.find_element("css selector", "#strict input").click()
    toggle_settings(page)  # close it again
    # includes loading llama.cpp
    answer, timings["tiny_gguf_first_text_s"] = ask(page, "Who led Russia's delegation?", timeout=600)
    assert not answer.find_elements("css selector", ".error"), answer.text
    markers = answer.find_elements("css selector", ".answer-text sup.cite")
    assert markers, answer.text
    marker = markers[-1]
    source = source_for(answer, marker)
    marker.click()
    wait(page, 10).until(lambda d: source.get_attribute("open") is not None)
    mark = source.find_element("css selector", "mark.cited")
    passage = source.find_element("css selector", ".passage")
    box = page.find_element("css selector", CHAT_BOX)
    wait(page, 10).until(lambda d: shown_inside(d, mark, passage) and shown_inside(d, mark, box))
    ARTIFACTS.mkdir(exist_ok=True)
    page.save_screenshot(str(ARTIFACTS / "ui_chat_tiny_gguf.png"))
    answer, timings["tiny_gguf_warm_first_text_s"] = ask(page, "When do the talks begin?", timeout=600)
    assert not answer.find_elements("css selector", ".error"), answer.text


OWN_LINES = [
    r"note: the index in .+/ is being updated by .+; waiting for it to finish\.",
    r"Indexed \d+ files, \d+ chunks \(\d+ files re-embedded, \d+ removed\) in [\d.]+ s\.",
    r"Serving on http://127\.0\.0\.1:\d+/",
    r"Ready to answer \(loaded in [\d.]+ s\)\.",
]


def test_the_server_log_holds_only_the_apps_own_lines(page, server):
    """Run last: after everything above, the log has the address, the note that the index was
    locked, the index summary and the ready line; no tracebacks, warnings or library chatter."""
    lines = [line for line in server["log"].read_text(encoding="utf-8").splitlines() if line.strip()]
    others = [line for line in lines if not any(re.fullmatch(p, line) for p in OWN_LINES)]
    assert not others, "\n".join(lines)
    assert len(lines) == 4
