"""The page's CSS and script (`ui.page`) on answers rendered from records (`ui.render`), in real
headless Chromium: markers are separate, styled and open their own source; an unsupported claim is
flagged on that claim only; an opened source shows its highlighted sentence; the newest answer is
scrolled into view. The page is a plain file with a scrolling chat box, no Gradio, and without the
`data-` attributes that Gradio's sanitiser drops: the same checks on the served app are in
test_ui_browser.py.
"""

from __future__ import annotations

import re

import pytest
from ui_server import chromium, needs_chromium, wait
from ui_server import shown_inside as inside

from rag.records import Answer, Citation, Claim, Passage
from ui.page import CSS, PAGE_JS
from ui.render import answer_html

pytestmark = needs_chromium

FILLER = " ".join(f"Sentence {i} of the report says nothing anyone asked about." for i in range(1, 30))
CITED = "Vladimir Medinsky led Russia's delegation."
TEXT = f"{FILLER} {CITED}"


def passage(n: int, title: str, cited: bool) -> Passage:
    text = TEXT if cited else FILLER
    return Passage(n, f"d{n}", f"file{n}.txt", title, 0, len(text), text, 1 / n, published="2025-05-15")


def cite(n: int, claim: int, supported: bool) -> Citation:
    start = len(FILLER) + 1
    return Citation(n, f"d{n}", f"file{n}.txt", "t", start, len(TEXT), CITED, claim=claim, supported=supported)


ANSWER = Answer(
    "Who led Russia's delegation?",
    # "[1, 3]" on a supported claim, then "[2]" on one its passage does not support
    (Claim("Medinsky led it.", (1, 3), True), Claim("The talks failed.", (2,), False)),
    False,
    (cite(1, 0, True), cite(3, 0, True), cite(2, 1, False)),
    (passage(1, "Talks", True), passage(2, "Ferry", True), passage(3, "Envoys", True)),
    "reader",
)


@pytest.fixture(scope="module")
def page(tmp_path_factory: pytest.TempPathFactory):
    root = tmp_path_factory.mktemp("page")
    answers = "".join(f'<div class="message">{sanitised(answer_html(ANSWER))}</div>' for _ in range(3))
    (root / "page.html").write_text(
        f"<!doctype html><html><head><meta charset='utf-8'><style>{CSS}\n"
        "#log { height: 420px; overflow-y: auto; }</style></head><body>"
        f"<div id='chat'><div id='log'>{answers}</div></div><script>({PAGE_JS})();</script></body></html>",
        encoding="utf-8",
    )
    with chromium(root / "profile", 900, 700) as driver:
        driver.get((root / "page.html").as_uri())
        yield driver


def sanitised(markup: str) -> str:
    """The markup as the chat shows it: its sanitiser drops `data-` attributes."""
    return re.sub(r' data-[a-z-]+="[^"]*"', "", markup)


def last_answer(driver):
    return driver.find_elements("css selector", "#chat .rag-answer")[-1]


def test_each_label_is_its_own_styled_marker_that_opens_its_own_source(page):
    answer = last_answer(page)
    markers = answer.find_elements("css selector", ".answer-text sup.cite")
    assert [m.text for m in markers] == ["[1]", "[3]", "[2]⚠"]
    for marker in markers:
        assert marker.is_displayed() and marker.value_of_css_property("cursor") == "pointer"
        assert marker.value_of_css_property("font-weight") == "600"
    assert markers[0].value_of_css_property("color") == "rgba(29, 78, 216, 1)"
    sources = {
        s.find_element("css selector", "summary b").text.strip("[]"): s
        for s in answer.find_elements("css selector", "details.source")
    }
    assert sorted(sources) == ["1", "2", "3"]
    assert not any(s.get_attribute("open") for s in sources.values())
    markers[1].click()
    wait(page, 5).until(lambda d: sources["3"].get_attribute("open") is not None)
    assert sources["1"].get_attribute("open") is None and sources["2"].get_attribute("open") is None
    mark = sources["3"].find_element("css selector", "mark.cited")
    wait(page, 5).until(lambda d: inside(d, mark, sources["3"].find_element("css selector", ".passage")))
    assert inside(page, mark, page.find_element("id", "log"))


def test_an_unsupported_claim_is_flagged_on_that_claim_only(page):
    answer = last_answer(page)
    claims = answer.find_elements("css selector", ".answer-text .claim")
    assert [c.text for c in claims] == ["Medinsky led it.", "The talks failed."]
    assert claims[0].get_attribute("class") == "claim"
    assert claims[1].get_attribute("class") == "claim unsupported"
    assert "dotted" in claims[1].value_of_css_property("text-decoration")
    assert "dotted" not in claims[0].value_of_css_property("text-decoration")
    flagged = answer.find_elements("css selector", ".answer-text sup.cite.unsupported")
    assert [m.text for m in flagged] == ["[2]⚠"]


def test_an_opened_source_shows_its_highlighted_sentence_without_scrolling(page):
    source = page.find_elements("css selector", "#chat .rag-answer")[0].find_element("css selector", "details.source")
    passage = source.find_element("css selector", ".passage")
    source.find_element("css selector", "summary").click()
    mark = source.find_element("css selector", "mark.cited")
    wait(page, 5).until(lambda d: inside(d, mark, passage) and inside(d, mark, d.find_element("id", "log")))
    # the sentence is at the end of a passage taller than its box: the box itself was scrolled
    assert page.execute_script("return arguments[0].scrollTop", passage) > 0


def test_the_newest_answer_is_scrolled_into_view_after_the_reader_scrolled_away(page):
    log = page.find_element("id", "log")
    page.execute_script("arguments[0].scrollTop = 0", log)
    markup = sanitised(answer_html(ANSWER))
    # a turn: the pending note, then the finished answer in its place, as the chat renders them
    page.execute_script(
        "const m = document.createElement('div'); m.className = 'message';"
        'm.innerHTML = \'<div class="rag-answer"><div class="pending">Searching…</div></div>\';'
        "arguments[0].appendChild(m);",
        log,
    )
    wait(page, 5).until(lambda d: inside(d, last_answer(d), log))
    page.execute_script("arguments[0].scrollTop = 0", log)  # the reader scrolls back while it is written
    page.execute_script("arguments[0].lastElementChild.innerHTML = arguments[1]", log, markup)
    wait(page, 5).until(lambda d: inside(d, last_answer(d).find_element("css selector", ".answer-text"), log))
