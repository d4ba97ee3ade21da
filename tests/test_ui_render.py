"""How the chat labels sources and counts things (`ui.render`): headline, date for people, where in
the article, other copies; "1 article", "2 articles"."""

from __future__ import annotations

import html
import re

import pytest

from rag.records import Citation, Passage
from ui.render import articles_html, counted, paragraphs_label, people_date, source_html, story_link


@pytest.mark.parametrize(
    ("published", "shown"),
    [
        ("2025-05-15", "15 May 2025"),
        ("2024-01-01", "1 January 2024"),
        ("2023-12-31", "31 December 2023"),
        (None, ""),
        ("", ""),
        ("sometime in May", "sometime in May"),  # not ISO: shown as it is
    ],
)
def test_people_date(published, shown):
    assert people_date(published) == shown


@pytest.mark.parametrize(
    ("paragraphs", "shown"), [((2, 2), "paragraph 2"), ((3, 5), "paragraphs 3-5"), ((1, 2), "paragraphs 1-2")]
)
def test_paragraphs_label(paragraphs, shown):
    assert paragraphs_label(paragraphs) == shown


@pytest.mark.parametrize(
    ("n", "noun", "shown"),
    [(0, "article", "0 articles"), (1, "article", "1 article"), (2, "article", "2 articles"), (1, "chunk", "1 chunk")],
)
def test_counted(n, noun, shown):
    assert counted(n, noun) == shown


def summary_text(markup: str) -> str:
    """The summary of one source as a person reads it: tags dropped, entities decoded."""
    summary = re.search(r"<summary>(.*)</summary>", markup).group(1)
    return " ".join(html.unescape(re.sub(r"<[^>]+>", "", summary)).split())


@pytest.mark.parametrize(
    ("fields", "shown"),
    [
        (
            {"published": "2025-05-15", "paragraphs": (3, 5), "also_in": ("a.txt", "b.txt")},
            "[2] Talks <open> — 15 May 2025 · paragraphs 3-5 talks.txt also in: a.txt, b.txt",
        ),
        ({"published": None, "paragraphs": (2, 2)}, "[2] Talks <open> — paragraph 2 talks.txt"),
        ({"published": "2025-05-15", "paragraphs": (4, 4)}, "[2] Talks <open> — 15 May 2025 · paragraph 4 talks.txt"),
        (
            {"published": "2025-05-15", "author": "Jane <Doe>", "paragraphs": (3, 5)},
            "[2] Talks <open> — 15 May 2025 · by Jane <Doe> · paragraphs 3-5 talks.txt",
        ),
        ({"author": "Jane Doe", "paragraphs": (2, 2)}, "[2] Talks <open> — by Jane Doe · paragraph 2 talks.txt"),
    ],
)
def test_a_source_is_labelled_with_headline_date_byline_place_file_and_copies(fields, shown):
    passage = Passage(2, "d", "talks.txt", "Talks <open>", 0, 10, "0123456789", 0.5, **fields)
    out = source_html(passage, [Citation(2, "d", "talks.txt", "Talks", 2, 5, "234")])
    assert summary_text(out) == shown
    assert "Talks &lt;open&gt;" in out and '<mark class="cited">234</mark>' in out
    assert ("also-in" in out) == bool(fields.get("also_in"))
    assert "Jane <Doe>" not in out  # a byline is text, escaped like the headline


def test_the_library_table_counts_in_words():
    one = articles_html([("Talks", "talks.txt", 1)])
    assert '<p class="article-count">1 article, 1 chunk</p>' in one and "<td>1 chunk</td>" in one
    two = articles_html([("Talks", "talks.txt", 1), ("Ferry <b>", "ferry.txt", 3)])
    assert '<p class="article-count">2 articles, 4 chunks</p>' in two and "<td>3 chunks</td>" in two
    assert "Ferry &lt;b&gt;" in two
    assert articles_html([]) == '<p class="no-articles">No articles indexed yet.</p>'


@pytest.mark.parametrize(
    ("url", "shown"),
    [
        (None, ""),
        ("", ""),
        ("javascript:alert(1)", ""),  # only http(s) addresses become links
        ("ftp://gazette.example/a", ""),
        (
            'https://gazette.example/story?a=1&b="2"',
            ' <a class="story-link" href="https://gazette.example/story?a=1&amp;b=&quot;2&quot;" target="_blank" '
            'rel="noopener noreferrer">open the story ↗</a>',
        ),
        (
            "HTTP://Gazette.example/x",
            ' <a class="story-link" href="HTTP://Gazette.example/x" target="_blank" '
            'rel="noopener noreferrer">open the story ↗</a>',
        ),
    ],
)
def test_a_story_link_opens_only_web_addresses_in_a_new_tab(url, shown) -> None:
    assert story_link(url) == shown
