"""HTML pages (`*.html`, `*.htm`) → `Article`: the page reduced to its readable text.

Blocks become paragraphs and the `<title>` the first line unless the page has its own headline;
scripts, styles, navigation, headers, footers, asides and forms are dropped. Citation offsets point
into that reduced text, not into the HTML source. The date and byline come from the markup
(`rag.dates` over `rag.html_meta`), and the address from `<link rel="canonical">` or `og:url`.

It does not run scripts, follow or fetch links, or pick a "main content" region: what a page of the
user's own folder says is all its text outside the dropped elements.
"""

from __future__ import annotations

import re
from html.parser import HTMLParser

from rag.formats.text import article_from_text, decode, file_hash
from rag.html_meta import page_url, read_page_meta
from rag.records import Article

EXTENSIONS = (".html", ".htm")

_BLOCK_TAGS = frozenset(
    "address article aside blockquote br dd div dl dt figcaption figure footer h1 h2 h3 h4 h5 "
    "h6 header hr li main nav ol p pre section table td th tr ul title".split()
)
_SKIP_TAGS = frozenset("script style noscript template svg head nav footer aside form button".split())


def read(source: str, data: bytes) -> Article:
    """One HTML file's bytes as an `Article`; raises `RagError` for binary files and pages without text."""
    html = decode(data, source)
    return article_from_text(source, html_to_text(html), file_hash(data), html=html, url=page_url(read_page_meta(html)))


class _TextExtractor(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self.title: list[str] = []
        self._skip_depth = 0
        self._in_title = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "title":
            self._in_title = True
        elif tag in _SKIP_TAGS:
            self._skip_depth += 1
        if tag in _BLOCK_TAGS:
            self.parts.append("\n\n")

    def handle_endtag(self, tag: str) -> None:
        if tag == "title":
            self._in_title = False
        elif tag in _SKIP_TAGS and self._skip_depth:
            self._skip_depth -= 1
        if tag in _BLOCK_TAGS:
            self.parts.append("\n\n")

    def handle_data(self, data: str) -> None:
        if self._in_title:
            self.title.append(data)
        elif not self._skip_depth:
            self.parts.append(data)


def html_to_text(html: str) -> str:
    """The readable text of an HTML page: blocks become paragraphs, the <title> the first line
    unless the page has its own headline; scripts, styles and navigation are dropped.

    Kept rather than trafilatura: this text is what citation offsets point into, so it must come
    out the same on every run and every version, and trafilatura's main-text heuristics (tuned for
    boilerplate removal, not offsets) would add lxml and a dozen packages to decide what a page of
    the user's own folder says. Not measured against it; dates and authors come from rag.html_meta."""
    parser = _TextExtractor()
    parser.feed(html)
    parser.close()
    raw = "".join(parser.parts)
    paragraphs = [" ".join(p.split()) for p in re.split(r"\n\s*\n", raw)]
    paragraphs = [p for p in paragraphs if p]
    title = " ".join("".join(parser.title).split())
    if title and (not paragraphs or paragraphs[0] not in title):
        paragraphs.insert(0, title)
    return "\n\n".join(paragraphs) + "\n"
