"""Reading an HTML page's own markup: meta tags, JSON-LD, time tags, author elements."""

from __future__ import annotations

import pytest

from rag.html_meta import TimeTag, page_url, read_page_meta


@pytest.mark.parametrize(
    ("html", "meta"),
    [
        (
            '<meta property="article:published_time" content="2025-05-15T09:00Z">',
            {"article:published_time": "2025-05-15T09:00Z"},
        ),
        ('<meta name="DC.date.issued" content=" 2025-05-14 ">', {"dc.date.issued": "2025-05-14"}),
        ('<meta name="author" content="">', {}),  # empty content says nothing
        ('<meta name="author" content="Jane Doe"><meta name="author" content="John Roe">', {"author": "Jane Doe"}),
        ('<span itemprop="datePublished" content="2025-03-02"></span>', {"datepublished": "2025-03-02"}),
        ('<time itemprop="datePublished" datetime="2025-03-02">2 March</time>', {"datepublished": "2025-03-02"}),
    ],
)
def test_meta_keys_are_lower_case_and_first_wins(html: str, meta: dict[str, str]) -> None:
    assert read_page_meta(html).meta == meta


def test_json_ld_objects_come_through_graphs_and_lists_and_broken_blocks_are_skipped() -> None:
    html = (
        '<script type="application/ld+json">{"@graph": [{"@type": "WebPage"}, '
        '{"@type": "NewsArticle", "author": [{"@type": "Person", "name": "Jane Doe"}]}]}</script>'
        '<script type="application/ld+json">{"@type": "Article",}</script>'
        '<script>{"@type": "NotJsonLd"}</script>'
    )
    types = [o.get("@type") for o in read_page_meta(html).json_ld]
    assert types == [None, "WebPage", "NewsArticle", "Person"]


def test_time_tags_know_pubdate_and_whether_they_are_in_the_article() -> None:
    html = (
        '<div><time datetime="2025-06-01">today</time></div>'
        '<article><p><time datetime="2025-05-20" pubdate>20 May</time></p></article>'
        '<time datetime="2025-05-21">later</time><time>no datetime</time>'
    )
    assert read_page_meta(html).times == (
        TimeTag("2025-06-01", pubdate=False, in_article=False),
        TimeTag("2025-05-20", pubdate=True, in_article=True),
        TimeTag("2025-05-21", pubdate=False, in_article=False),
    )


@pytest.mark.parametrize(
    ("html", "texts"),
    [
        ('<a rel="author" href="/p/jd">Jane  Doe</a>', ("Jane Doe",)),
        ('<a rel="noopener author" href="/p/jd">Jane Doe</a>', ("Jane Doe",)),
        ('<link rel="author" href="/p/jd">', ()),  # a link element has no name to read
        (
            '<span itemprop="author"><span itemprop="name">Mary</span> <span>O’Neill</span></span> wrote',
            ("Mary O’Neill",),
        ),
        ('<div itemprop="author"><div>Ann Poe</div></div><div>not the author</div>', ("Ann Poe",)),
    ],
)
def test_author_elements_give_their_whole_text(html: str, texts: tuple[str, ...]) -> None:
    assert read_page_meta(html).author_texts == texts


@pytest.mark.parametrize(
    ("html", "url"),
    [
        (
            '<link rel="canonical" href="https://a.example/story"><meta property="og:url" content="https://b.example/x">',
            "https://a.example/story",
        ),
        ('<meta property="og:url" content="https://b.example/x">', "https://b.example/x"),
        (
            '<link rel="canonical" href="/story"><meta property="og:url" content="http://b.example/x">',
            "http://b.example/x",
        ),
        ('<link rel="stylesheet" href="https://a.example/s.css">', None),
        ('<link rel="canonical" href="javascript:alert(1)">', None),
        ("<p>no address</p>", None),
    ],
)
def test_page_url_is_the_canonical_link_else_og_url_and_only_absolute(html: str, url: str | None) -> None:
    assert page_url(read_page_meta(html)) == url
