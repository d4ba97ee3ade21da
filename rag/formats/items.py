"""One item of a many-article file (a feed entry, an export row) → `Article`; `Skipped` for a bad one.

An item's `source` is `"<file source>#<key>"`. The key is the item's own id (a feed's guid or Atom
id, an export's id column), else its link, else a hash of its content, made safe for a path-like
id: letters, digits and `._-` only, at most `MAX_KEY_CHARS` characters, with a short hash of the
raw key added whenever making it safe changed it (so "a/b" and "a?b" stay two keys). Its
`file_hash` is the SHA-256 of the item's own content, so editing one item of a file changes only
that item's hash; its `text` is the headline, a blank line and the item's text.

It does not read files (`rag.formats.feed` and `rag.formats.export` do), and it does not check that
keys are unique within a file: that would hold every key of a 100,000-item export in memory, so a
repeated key reads as two versions of one item, and the indexer keeps the later.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from pathlib import PurePosixPath

from rag.dates import find_published, parse_date
from rag.formats.text import body_spans, find_body, nonblank_lines
from rag.records import Article, content_id

MAX_KEY_CHARS = 80
TITLE_WORDS = 12  # an item without a headline is titled by the start of its first line
_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")


@dataclass(frozen=True)
class Skipped:
    """An item of a many-article file that was not read: `reason` is one line naming the file and
    the item ("archive.jsonl line 7: not a JSON object; skipped it"); `source` is the file's."""

    source: str
    reason: str


def item_key(*candidates: str | None, content: bytes) -> str:
    """The first non-blank candidate made safe for a path-like id, else a hash of `content`."""
    raw = next((c.strip() for c in candidates if c and c.strip()), None)
    if raw is None:
        return "sha-" + hashlib.sha256(content).hexdigest()[:16]
    safe = _UNSAFE.sub("_", raw).strip("._-")
    if safe == raw and len(safe) <= MAX_KEY_CHARS:
        return safe
    digest = hashlib.sha256(raw.encode("utf-8")).hexdigest()[:8]
    return f"{safe[: MAX_KEY_CHARS - 9]}-{digest}" if safe else digest


def read_item(
    file_source: str, where: str, content: bytes, fields: dict[str, str | None], link: str
) -> Article | Skipped:
    """One item from its `fields` (id, title, text, date, author and the link under `link`): its
    `Article`, keyed by its id, else its link, else a hash of `content`; or a `Skipped` naming the
    file and `where` the item is ("line 7", "item 3") when it holds no text."""
    key = item_key(fields["id"], fields[link], content=content)
    article = item_article(
        file_source,
        key,
        content,
        title=fields["title"],
        text=fields["text"] or "",
        date=fields["date"],
        author=fields["author"],
        url=fields[link],
    )
    return article or Skipped(file_source, f"{file_source} {where}: no text; skipped it")


def item_article(
    file_source: str,
    key: str,
    content: bytes,
    *,
    title: str | None,
    text: str,
    date: str | None = None,
    author: str | None = None,
    url: str | None = None,
) -> Article | None:
    """The `Article` of one item, or None when its text holds no article body.

    `text` is the item's plain text (paragraphs apart by blank lines); `date` a date as the item
    writes it (RFC 822, ISO 8601, "15 May 2025"); `content` the item's own bytes, for `file_hash`.
    """
    source = f"{file_source}#{key}"
    title = " ".join((title or "").split())
    body_text = text.replace("\r\n", "\n").replace("\r", "\n").strip()
    if " \n" in body_text or "\t\n" in body_text:
        body_text = "\n".join(line.rstrip() for line in body_text.split("\n"))
    if not body_text:
        return None
    if title:
        full = f"{title}\n\n{body_text}\n"
        body = body_spans(full, nonblank_lines(full, len(title) + 2))
    else:
        full = body_text + "\n"
        title_span, body = find_body(full)
        first = full[title_span[0] : title_span[1]] if title_span else full[: full.index("\n")]
        words = first.split()
        title = " ".join(words[:TITLE_WORDS]) + ("…" if len(words) > TITLE_WORDS else "")
    if not body:
        return None
    published = parse_date(date) if date else None
    if published is None or not author:
        stated = find_published(full)
        published, author = published or stated.date, author or stated.author
    return Article(
        doc_id=content_id(source, full),
        source=source,
        title=title or PurePosixPath(file_source).stem,
        text=full,
        body=tuple(body),
        file_hash=hashlib.sha256(content).hexdigest(),
        published=published,
        author=author or None,
        url=url or None,
    )
