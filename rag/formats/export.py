"""Archive exports (`*.jsonl` JSON Lines, `*.csv` with a header row) → one `Article` per row, streamed.

A row's fields are found by column name, case and spacing aside ("Published At" is `published_at`):
`COLUMNS` lists, once, the names each field goes by (text: text, body, content, …; title: title,
headline, …; date: date, published, pubdate, …; author: author, byline, …; url: url, link, …;
id: id, guid, …), and the first the row has wins. The date is read by `rag.dates.parse_date`
(ISO 8601, RFC 822, "15 May 2025"); the item key is the id, else the url, else a hash of the row.

The text is taken as plain text (paragraphs apart by blank lines; a JSON list of strings is a list
of paragraphs, a list of authors is joined). A row without text, a line that is not JSON or not a
JSON object, and a CSV row of the wrong width is a `Skipped` naming the file and its line; the
other rows are read. A CSV file without a text column raises `RagError`.

Files are read a line (JSON Lines) or a record (`csv.reader` over the open file) at a time, so a
100,000-row export is read in flat memory. Both are read as UTF-8 (other bytes become U+FFFD).
It does not read JSON arrays (a `.json` file), Excel files, HTML inside the text, numeric
timestamps, or CSV fields longer than `csv.field_size_limit()` (128 KB by default; such a field
ends the file's reading with a `Skipped`).
"""

from __future__ import annotations

import csv
import json
import re
from collections.abc import Iterator
from functools import lru_cache
from pathlib import Path

from rag.errors import RagError
from rag.formats.items import Skipped, read_item
from rag.records import Article

EXTENSIONS = (".jsonl", ".csv")

#: Each field of a row and the column names that hold it, first match wins. Names are compared
#: normalised: lower case, "_" for runs of spaces and hyphens.
COLUMNS: dict[str, tuple[str, ...]] = {
    "text": (
        "text", "body", "content", "article_text", "article", "story", "full_text", "fulltext", "maintext",
        "description",
    ),
    "title": ("title", "headline", "heading"),
    "date": (
        "date", "published", "pubdate", "published_at", "publish_date", "publication_date", "date_published",
        "datetime", "created_at", "created",
    ),
    "author": ("author", "byline", "authors", "creator", "by"),
    "url": ("url", "link", "href", "permalink", "canonical_url"),
    "id": ("id", "guid", "uid", "article_id", "doc_id", "key"),
}  # fmt: skip


def read(source: str, path: Path) -> Iterator[Article | Skipped]:
    """The rows of the export at `path` (named `source`) as articles, in file order."""
    return _read_csv(source, path) if source.lower().endswith(".csv") else _read_jsonl(source, path)


def _read_jsonl(source: str, path: Path) -> Iterator[Article | Skipped]:
    with open(path, "rb") as file:
        for number, raw in enumerate(file, start=1):
            line = raw.rstrip(b"\r\n")
            if number == 1:
                line = line.removeprefix(b"\xef\xbb\xbf")
            if not line.strip():
                continue
            try:
                row = json.loads(line)
            except ValueError as err:
                yield Skipped(source, f"{source} line {number}: not valid JSON ({_first_clause(err)}); skipped it")
                continue
            if not isinstance(row, dict):
                yield Skipped(source, f"{source} line {number}: not a JSON object; skipped it")
                continue
            keys = _keys(tuple(row))
            yield _row(source, number, {f: _value(row[k], f) if k else None for f, k in keys.items()}, line)


def _read_csv(source: str, path: Path) -> Iterator[Article | Skipped]:
    with open(path, encoding="utf-8-sig", errors="replace", newline="") as file:
        rows = csv.reader(file)
        try:
            header = next(rows, None)
            if header is None:
                raise RagError(f"{source} is empty; an export needs a header row and a row per article.")
            names = {_normal(name): i for i, name in enumerate(header)}
            columns = {f: names.get(_column(names, f)) for f in COLUMNS}
            if columns["text"] is None:
                raise RagError(
                    f"{source} has no text column (its header is {', '.join(header)[:120]}); "
                    f"name the column that holds the article text one of: {', '.join(COLUMNS['text'])}."
                )
            last = rows.line_num
            for row in rows:
                number, last = last + 1, rows.line_num  # the line the record starts on
                if not row:
                    continue  # a blank line
                if len(row) != len(header):
                    yield Skipped(
                        source,
                        f"{source} line {number}: {len(row)} fields where the header has {len(header)}; skipped it",
                    )
                    continue
                fields = {f: row[i] if i is not None else None for f, i in columns.items()}
                yield _row(source, number, fields, "\x1f".join(row).encode("utf-8"))
        except csv.Error as err:
            yield Skipped(source, f"{source} line {rows.line_num}: {err}; skipped the rest of the file")


def _row(source: str, number: int, fields: dict[str, str | None], content: bytes) -> Article | Skipped:
    return read_item(source, f"line {number}", content, fields, link="url")


@lru_cache(maxsize=64)
def _keys(keys: tuple[str, ...]) -> dict[str, str | None]:
    """Each field's key among a JSON row's `keys`, or None (rows of one export share their keys)."""
    names = {_normal(k): k for k in keys}
    return {f: names.get(_column(names, f)) for f in COLUMNS}


def _column(names: dict[str, object], field: str) -> str | None:
    return next((n for n in COLUMNS[field] if n in names), None)


def _normal(name: object) -> str:
    return re.sub(r"[\s-]+", "_", str(name).strip().lower())


def _value(value: object, field: str) -> str | None:
    """A JSON value as the field's text: strings and numbers as written, a list of strings joined
    (paragraphs for the text, names for the author); anything else is None."""
    if isinstance(value, str):
        return value.strip() or None
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return str(value)
    if isinstance(value, list) and value and all(isinstance(v, str) for v in value):
        return ("\n\n" if field == "text" else ", ").join(v.strip() for v in value if v.strip()) or None
    return None


def _first_clause(err: ValueError) -> str:
    return str(err).split(":")[0]
