"""Publication dates and bylines: HTML markup, "Published" lines, datelines, bylines, and what is not a date."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from rag.articles import html_to_text
from rag.dates import HEAD_LINES, Published, find_published, parse_date

REPO = Path(__file__).resolve().parent.parent
SEED = REPO / "seeds" / "000_681fe9c43916d851.txt"
PAGES = Path(__file__).resolve().parent / "fixtures" / "published"


@pytest.mark.parametrize(
    ("page", "date", "author"),
    [
        ("wire_json_ld.html", "2025-05-15", "Jane Doe and John Roe"),  # JSON-LD @graph, a list of Persons
        ("meta_published_rel_author.html", "2025-05-15", "Jane Doe"),  # article:author is a URL: rel="author"
        ("byl_compact_pubdate.html", "2025-03-12", "Ann Poe and Carlos de la Cruz"),  # name="byl", 20250312
        ("time_pubdate_itemprop_author.html", "2024-11-03", "Mary O’Neill"),
        ("first_time_in_article.html", "2025-05-20", None),  # not the masthead's time, nor a cited one
        ("updated_only_ld_author_string.html", "2025-05-16", "Jane Doe"),  # og:updated_time as a fall-back
        ("itemprop_date_published.html", "2025-03-02", "Tom Hughes"),
        ("rfc_publish_date_org_ld.html", "2025-05-15", None),  # an Organization is not an author
        ("broken_ld_meta_date.html", "2025-08-09", "Sam Lee"),  # unparsable JSON-LD: the meta tags still count
        ("no_date_relative.html", None, None),  # "7 hours ago", a date in the story, a copyright year
        ("no_date_prose_only.html", None, None),
        ("no_date_no_author.html", None, None),  # meta author is a URL
    ],
)
def test_markup_dates_and_authors(page: str, date: str | None, author: str | None) -> None:
    html = (PAGES / page).read_text(encoding="utf-8")
    found = find_published(html_to_text(html), html)
    assert (found.date, found.author) == (date, author)
    assert found.date_span is None and found.author_span is None


@pytest.mark.parametrize(
    ("page", "date", "date_phrase", "author", "author_phrase"),
    [
        ("text_published_line.html", "2025-05-15", "15 May 2025", None, None),
        (
            "dc_date_org_author_text_byline.html",
            "2025-05-14",
            None,
            "Priya Shah",
            "Priya Shah",
        ),  # "Example News" is not a name
    ],
)
def test_html_falls_back_to_the_reduced_text(page, date, date_phrase, author, author_phrase) -> None:
    html = (PAGES / page).read_text(encoding="utf-8")
    text = html_to_text(html)
    found = find_published(text, html)
    assert (found.date, found.author) == (date, author)
    assert _phrase(text, found.date_span) == date_phrase
    assert _phrase(text, found.author_span) == author_phrase


def test_the_seed_has_only_relative_furniture() -> None:
    text = SEED.read_text(encoding="utf-8")
    assert "7 hours ago" in text
    assert find_published(text) == Published()


HEAD = "Talks open in Istanbul without the presidents\n\n"
BODY = "\n\nDelegations met for the first time in three years on Thursday, officials said.\n"


@pytest.mark.parametrize(
    ("top", "date", "date_phrase"),
    [
        ("Published 15 May 2025", "2025-05-15", "15 May 2025"),
        ("Published: 2025-05-15T10:32:00Z", "2025-05-15", "2025-05-15"),
        ("Thursday 15 May 2025 10.32 BST", "2025-05-15", "Thursday 15 May 2025"),
        ("Thu 15 May 2025 10.32 BST", "2025-05-15", "Thu 15 May 2025"),
        ("May 15, 2025", "2025-05-15", "May 15, 2025"),
        ("2025-05-15", "2025-05-15", "2025-05-15"),
        ("15 May 2025 · 4 min read", "2025-05-15", "15 May 2025"),
        ("Last updated on Friday, May 16, 2025 at 9:00 a.m.", "2025-05-16", "Friday, May 16, 2025"),
        ("Updated 16 May 2025\n\nFirst published 15 May 2025", "2025-05-15", "15 May 2025"),  # published wins
        ("Posted on 2025/05/15", "2025-05-15", "2025/05/15"),
        ("Jane Doe | Published 15 May 2025", "2025-05-15", "15 May 2025"),
        ("13/06/2025", "2025-06-13", "13/06/2025"),  # a part over 12 decides the order
        ("06/13/2025", "2025-06-13", "06/13/2025"),
        ("05.05.2025", "2025-05-05", "05.05.2025"),  # equal parts read the same either way
        ("05/06/2025", None, None),  # 5 June or 6 May: not taken
        ("31/02/2025", None, None),  # no such day
        ("7 hours ago", None, None),
        ("2 days ago 12", None, None),
        ("Published 7 hours ago", None, None),
        ("May 2025", None, None),  # no day
        # The year of a dateline comes from a full date nearby; across New Year it is the closer one.
        (
            "May 16, 2025 3:04 AM GMT+1\n\nISTANBUL, May 15 (Reuters) - Talks began.",
            "2025-05-15",
            "ISTANBUL, May 15 (Reuters)",
        ),
        ("January 1, 2026\n\nNEW YORK, Dec 31 (Reuters) - Markets closed.", "2025-12-31", "NEW YORK, Dec 31 (Reuters)"),
        ("KYIV, Ukraine, May 15, 2025 (AP) — Sirens sounded.", "2025-05-15", "KYIV, Ukraine, May 15, 2025 (AP)"),
        ("ISTANBUL, May 15 (Reuters) - Delegations met on Thursday.", None, None),  # no year anywhere near
        # A date inside running prose is what the story is about, not when it was published.
        ("The ceasefire agreed on 15 May 2024 collapsed within hours, officials in both capitals said.", None, None),
        ("Report by the monitoring mission published on 3 April 2024 and widely criticised at the time.", None, None),
    ],
)
def test_dates_in_text(top: str, date: str | None, date_phrase: str | None) -> None:
    text = HEAD + top + BODY
    found = find_published(text)
    assert found.date == date
    assert _phrase(text, found.date_span) == date_phrase


def test_only_the_head_lines_count() -> None:
    filler = "".join(f"Paragraph {i} of the story goes on for a while.\n\n" for i in range(HEAD_LINES))
    assert find_published(HEAD + filler + "15 May 2025\n\nBy Jane Doe\n").date is None
    assert find_published(HEAD + filler[: filler.index("Paragraph 5")] + "15 May 2025\n").date == "2025-05-15"


@pytest.mark.parametrize(
    ("top", "author", "author_phrase"),
    [
        ("By Jane Doe", "Jane Doe", "Jane Doe"),
        ("By Jane Doe and John Roe", "Jane Doe and John Roe", "Jane Doe and John Roe"),
        ("By Jane Doe, John Roe and Ann Poe", "Jane Doe, John Roe and Ann Poe", "Jane Doe, John Roe and Ann Poe"),
        ("By Jane Doe, BBC News", "Jane Doe", "Jane Doe"),
        ("By Jane Doe | Reuters | May 15, 2025", "Jane Doe", "Jane Doe"),
        ("By Jane Doe May 15, 2025", "Jane Doe", "Jane Doe"),
        ("By Jane Doe in Kyiv and John Roe in Moscow", "Jane Doe and John Roe", "Jane Doe in Kyiv and John Roe"),
        ("By Carlos de la Cruz", "Carlos de la Cruz", "Carlos de la Cruz"),
        ("Jane Doe, BBC News", "Jane Doe", "Jane Doe"),
        ("Jane Doe - Political correspondent", "Jane Doe", "Jane Doe"),
        ("Jane Doe\n\nPolitical correspondent, BBC News", "Jane Doe", "Jane Doe"),
        ("By Friday, talks had stalled.", None, None),
        ("By Thursday evening there was little sign of a summit", None, None),
        ("By BBC News", None, None),
        ("Ankara, Turkey", None, None),
        ("Volodymyr Zelenskyy, Ukraine’s president", None, None),
    ],
)
def test_bylines_in_text(top: str, author: str | None, author_phrase: str | None) -> None:
    text = HEAD + top + BODY
    found = find_published(text)
    assert found.author == author
    assert _phrase(text, found.author_span) == author_phrase


@pytest.mark.parametrize(
    ("value", "date"),
    [
        ("2025-05-15T21:10:00Z", "2025-05-15"),
        ("2025-05-15T23:30:00-05:00", "2025-05-15"),  # the writer's day, not converted to UTC
        ("20250312", "2025-03-12"),
        ("Thu, 15 May 2025 10:32:00 GMT", "2025-05-15"),
        ("15th of May 2025", "2025-05-15"),
        ("1747300000", None),  # a Unix time is not read
        ("2025-13-01", None),
        ("", None),
    ],
)
def test_parse_date(value: str, date: str | None) -> None:
    assert parse_date(value) == date


# --- properties -----------------------------------------------------------------------------------

FORMATS = [
    lambda d: f"{d.day} {d:%B %Y}",
    lambda d: f"{d:%A} {d.day} {d:%B %Y} 10.32 BST",
    lambda d: f"{d:%b} {d.day}, {d.year}",
    lambda d: d.isoformat(),
    lambda d: f"Published {d.day} {d:%b %Y}",
    lambda d: f"Posted on {d:%B} {d.day}, {d.year}",
]
FILLER = [
    "Zelenskyy sends team for peace talks",
    "7 hours ago 8",
    "Share this article",
    "The talks are set to begin on Friday and Kyiv would focus on a 30-day ceasefire.",
    "Trump claims ‘nothing’s going to happen’ – video",
    "Home | World | Europe",
]
GIVEN = ["Jane", "John", "Ann", "Mary", "Priya", "Tomás", "Olek"]
FAMILY = ["Doe", "Roe", "O’Neill", "de la Cruz", "Shah", "Kowalski-Nowak", "Zelenska"]


@given(
    st.dates(dt.date(1990, 1, 1), dt.date(2099, 12, 31)),
    st.sampled_from(FORMATS),
    st.lists(st.sampled_from(FILLER), max_size=HEAD_LINES - 3),
    st.integers(0, HEAD_LINES),
    st.lists(st.tuples(st.sampled_from(GIVEN), st.sampled_from(FAMILY)), min_size=1, max_size=3),
)
def test_a_stated_date_and_byline_are_found_with_exact_spans(date, render, filler, at, people) -> None:
    phrase = render(date)
    names = [f"{first} {last}" for first, last in people]
    byline = names[0] if len(names) == 1 else ", ".join(names[:-1]) + " and " + names[-1]
    lines = [*filler]
    lines.insert(min(at, len(lines)), phrase)
    lines.insert(min(at, len(lines)), "By " + byline)
    text = "\n\n".join(lines) + "\n"
    found = find_published(text)
    assert found.date == date.isoformat()
    assert found.date_span and parse_date(_phrase(text, found.date_span)) == found.date
    assert _phrase(text, found.date_span) in phrase
    assert found.author == byline
    assert _phrase(text, found.author_span) == byline


PIECES = [*"ABCMJadeny0123456789/.-,:()\n ", "May ", "By ", "2025", "Published ", " and ", "(Reuters) - "]


@given(st.lists(st.sampled_from(PIECES), max_size=60).map("".join))
def test_any_span_holds_its_value(text: str) -> None:
    found = find_published(text)
    if found.date_span:
        start, end = found.date_span
        assert 0 <= start < end <= len(text)
        assert str(int(found.date[8:])) in text[start:end]  # the day is read from the phrase
    if found.author_span:
        phrase = _phrase(text, found.author_span)
        assert all(name in phrase for name in found.author.replace(" and ", ", ").split(", "))


@given(st.text())
def test_any_markup_is_read_without_error(html: str) -> None:
    assert isinstance(find_published(html_to_text(html), html), Published)


def _phrase(text: str, span: tuple[int, int] | None) -> str | None:
    return text[span[0] : span[1]] if span else None
