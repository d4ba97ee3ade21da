"""RSS 2.0 and Atom feeds (`*.rss`, `*.atom`, and `*.xml` whose root is `<rss>` or `<feed>`) → one
`Article` per item, streamed.

RSS `<item>`: `title`, `link`, `guid`, `pubDate` (RFC 822) or `dc:date`, `dc:creator` or `author`
(an "email (Name)" gives the name), and `content:encoded` or else `description` as the text.
Atom `<entry>`: `title`, the `link` with rel="alternate" (or no rel), `id`, `published` or else
`updated`, every `author/name`, and `content` or else `summary` (type text, html or xhtml).
HTML in an item is reduced to text as an HTML file is (`rag.formats.html.html_to_text`). The key
of an item is its guid or id, else its link (`rag.formats.items`). An item without text is a
`Skipped`; so is the rest of a file whose XML breaks part-way (the items before it are read).

The file is parsed with `xml.etree.ElementTree.iterparse`, and each item is removed from the tree
once read, so memory stays flat however long the feed. It does not fetch anything (not the link,
not enclosures, not external entities, which expat does not load), and does not read RSS 1.0
(RDF) or JSON Feed.
"""

from __future__ import annotations

import html
import re
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from pathlib import Path

from rag.errors import RagError
from rag.formats.html import html_to_text
from rag.formats.items import Skipped, read_item
from rag.records import Article

EXTENSIONS = (".rss", ".atom", ".xml")
ROOTS = ("rss", "feed")
_NAME_IN_EMAIL = re.compile(r"^\S+@\S+\s*\((?P<name>[^()]+)\)$")  # "jane@example.com (Jane Doe)"


def is_feed(path: Path) -> bool:
    """Whether `path` holds a feed: every .rss and .atom file, an .xml file only when its root
    element is `<rss>` or `<feed>` (so a sitemap or a config file is not taken for articles)."""
    return path.suffix.lower() != ".xml" or _root(path) in ROOTS


def read(source: str, path: Path) -> Iterator[Article | Skipped]:
    """The items of the feed at `path` (named `source`), in file order; raises `RagError` when
    the file is not an RSS 2.0 or Atom feed."""
    with open(path, "rb") as file:
        stack: list[ET.Element] = []
        number = 0
        try:
            for event, elem in ET.iterparse(file, events=("start", "end")):
                if event == "start":
                    if not stack and _local(elem.tag) not in ROOTS:
                        raise RagError(
                            f"{source} is not an RSS 2.0 or Atom feed (its root element is <{_local(elem.tag)}>); "
                            "skipped it."
                        )
                    stack.append(elem)
                    continue
                stack.pop()
                if _local(elem.tag) not in ("item", "entry") or not stack:
                    continue
                number += 1
                yield _item(source, number, elem)
                stack[-1].remove(elem)  # the item is read: let it go
        except ET.ParseError as err:
            line = err.position[0]
            what = str(err).split(":")[0]
            if not stack and number == 0:
                raise RagError(f"{source} is not readable XML ({what} at line {line}); skipped it.") from None
            yield Skipped(source, f"{source} line {line}: the XML breaks ({what}); skipped the rest of the file")


def _item(source: str, number: int, elem: ET.Element) -> Article | Skipped:
    fields = _atom(elem) if elem.tag.startswith("{http://www.w3.org/2005/Atom}") else _rss(elem)
    return read_item(source, f"item {number}", ET.tostring(elem), fields, link="link")


def _rss(item: ET.Element) -> dict[str, str | None]:
    first: dict[str, str] = {}
    for child in item:
        name = _local(child.tag)
        if child.text and child.text.strip():
            first.setdefault(name, child.text.strip())
    body = first.get("encoded") or first.get("description")
    return {
        "title": _title(first.get("title")),
        "link": first.get("link"),
        "id": first.get("guid"),
        "date": first.get("pubDate") or first.get("date"),
        "author": first.get("creator") or _rss_author(first.get("author")),
        "text": html_to_text(body) if body else None,
    }


def _atom(entry: ET.Element) -> dict[str, str | None]:
    def child(name: str) -> ET.Element | None:
        return entry.find(f"{{http://www.w3.org/2005/Atom}}{name}")

    link = next(
        (
            e.get("href")
            for e in entry.iterfind("{http://www.w3.org/2005/Atom}link")
            if e.get("rel", "alternate") == "alternate" and e.get("href")
        ),
        None,
    )
    names = [(n.text or "").strip() for n in entry.iterfind("{http://www.w3.org/2005/Atom}author/{*}name")]
    names = [n for n in names if n]
    date = next((_text(child(n)) for n in ("published", "updated") if _text(child(n))), None)
    title = child("title")
    return {
        "title": _title(_atom_text(title).strip() if title is not None else None),
        "link": link,
        "id": _text(child("id")),
        "date": date,
        "author": " and ".join([", ".join(names[:-1]), names[-1]] if len(names) > 1 else names) or None,
        "text": next((t for t in (_atom_text(child("content")), _atom_text(child("summary"))) if t.strip()), None),
    }


def _atom_text(elem: ET.Element | None) -> str:
    """An Atom text construct as plain text: type="text" as written, "html" and "xhtml" reduced."""
    if elem is None or elem.get("src"):
        return ""  # out-of-line content is not fetched
    kind = elem.get("type", "text")
    if kind == "xhtml":
        markup = "".join(ET.tostring(c, encoding="unicode") for c in elem)
        return html_to_text(re.sub(r"<(/?)[\w.-]+:", r"<\1", markup))  # <html:p> → <p>
    value = elem.text or ""
    return html_to_text(value if kind == "html" else html.escape(value)) if value.strip() else ""


def _title(value: str | None) -> str | None:
    if not value:
        return None
    return " ".join(html_to_text(value).split()) if "<" in value else " ".join(value.split())


def _rss_author(value: str | None) -> str | None:
    """RSS `author` is an email address, often with the name in brackets: the name, or None."""
    if not value:
        return None
    named = _NAME_IN_EMAIL.match(value)
    if named:
        return named["name"].strip()
    return None if "@" in value else value


def _text(elem: ET.Element | None) -> str | None:
    return elem.text.strip() if elem is not None and elem.text and elem.text.strip() else None


def _local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]


def _root(path: Path) -> str | None:
    """The local name of the root element of the XML file at `path`, or None if it is not XML."""
    try:
        with open(path, "rb") as file:
            for _event, elem in ET.iterparse(file, events=("start",)):
                return _local(elem.tag)
    except (ET.ParseError, OSError):
        return None
    return None
