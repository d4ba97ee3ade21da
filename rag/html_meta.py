"""What an HTML page says about itself in its markup: meta tags, JSON-LD objects, `<time>` elements,
the text of author links and the page's own address, as the raw strings the page holds.

It reads and barely interprets: which tag means "published" and how a date value reads belong to
`rag.dates`; `page_url` only picks the canonical link over `og:url`. It does not render the page's
text (that is `rag.formats.html.html_to_text`), does not resolve relative links, and fetches nothing.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from html.parser import HTMLParser

MAX_JSON_DEPTH = 6  # JSON-LD nests an article in @graph or mainEntity; deeper objects are not the page's


@dataclass(frozen=True)
class TimeTag:
    """A `<time datetime=…>` element."""

    datetime: str
    pubdate: bool  # carries the (old HTML5) `pubdate` attribute
    in_article: bool  # inside an `<article>` element


@dataclass(frozen=True)
class PageMeta:
    meta: dict[str, str]  # key (property, name or itemprop, lower-cased) → the first non-empty content
    json_ld: tuple[dict, ...]  # every object in the JSON-LD blocks, nested ones included, in page order
    times: tuple[TimeTag, ...]
    author_texts: tuple[str, ...]  # text of `rel="author"` / `itemprop="author"` elements, whitespace folded
    links: dict[str, str] = field(default_factory=dict)  # `<link rel=… href=…>`: each rel (lower-cased) → first href


def read_page_meta(html: str) -> PageMeta:
    """The meta tags, JSON-LD objects, time tags and author-link texts of one HTML page."""
    reader = _Reader()
    reader.feed(html)
    reader.close()
    return PageMeta(
        meta=reader.meta,
        json_ld=tuple(_json_objects(reader.json_ld)),
        times=tuple(reader.times),
        author_texts=tuple(reader.author_texts),
        links=reader.links,
    )


def page_url(page: PageMeta) -> str | None:
    """The page's own address as its markup states it: `<link rel="canonical">`, else `og:url`.
    Only an absolute http(s) address counts; a relative one cannot be resolved without fetching."""
    for value in (page.links.get("canonical"), page.meta.get("og:url")):
        if value and value.lower().startswith(("http://", "https://")) and not any(c.isspace() for c in value):
            return value
    return None


class _Reader(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.meta: dict[str, str] = {}
        self.json_ld: list[str] = []
        self.times: list[TimeTag] = []
        self.author_texts: list[str] = []
        self.links: dict[str, str] = {}
        self._in_article = 0
        self._script: list[str] | None = None
        # The author element being read: its text so far, its tag, how many same-named tags are open in it.
        self._author: list[str] | None = None
        self._author_tag = ""
        self._author_depth = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k.lower(): (v or "").strip() for k, v in attrs}
        itemprop = a.get("itemprop", "").lower().split()
        if tag == "meta":
            key = (a.get("property") or a.get("name") or a.get("itemprop") or "").lower()
            if key and a.get("content"):
                self.meta.setdefault(key, a["content"])
            return
        if tag == "link" and a.get("href"):
            for rel in a.get("rel", "").lower().split():
                self.links.setdefault(rel, a["href"])
        if tag == "script" and a.get("type", "").lower() == "application/ld+json":
            self._script = []
        elif tag == "article":
            self._in_article += 1
        if tag == "time" and a.get("datetime"):
            self.times.append(TimeTag(a["datetime"], "pubdate" in a, self._in_article > 0))
        if "datepublished" in itemprop and (a.get("datetime") or a.get("content")):
            self.meta.setdefault("datepublished", a.get("datetime") or a["content"])
        if self._author is not None:
            self._author_depth += tag == self._author_tag
        elif tag != "link" and ("author" in a.get("rel", "").lower().split() or "author" in itemprop):
            self._author, self._author_tag, self._author_depth = [], tag, 0

    def handle_endtag(self, tag: str) -> None:
        if tag == "script" and self._script is not None:
            self.json_ld.append("".join(self._script))
            self._script = None
        elif tag == "article" and self._in_article:
            self._in_article -= 1
        if self._author is not None and tag == self._author_tag:
            if self._author_depth == 0:
                self.author_texts.append(" ".join("".join(self._author).split()))
                self._author = None
            else:
                self._author_depth -= 1

    def handle_data(self, data: str) -> None:
        if self._script is not None:
            self._script.append(data)
        if self._author is not None:
            self._author.append(data)


def _json_objects(blocks: list[str]) -> list[dict]:
    """Every JSON object in the blocks (through @graph, lists and nesting), in document order."""
    found: list[dict] = []

    def walk(node: object, depth: int) -> None:
        if depth > MAX_JSON_DEPTH:
            return
        if isinstance(node, dict):
            found.append(node)
            for value in node.values():
                walk(value, depth + 1)
        elif isinstance(node, list):
            for value in node:
                walk(value, depth + 1)

    for block in blocks:
        try:
            walk(json.loads(block), 0)
        except ValueError:
            continue  # a broken block says nothing we can trust; the meta tags may still
    return found
