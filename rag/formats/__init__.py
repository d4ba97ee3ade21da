"""The one table of file formats newsrag reads, and looking a file's format up in it.

Each format is one module of this package and one line of `FORMATS`. A single-article format
(`many=False`: text, HTML, PDF, Word) has `read(source, data: bytes) -> Article`; a many-article
format (`many=True`: feeds, archive exports) has `read(source, path: Path) -> Iterator[Article |
Skipped]`, streaming one `Article` per item (whose `source` is `"<file>#<key>"`) and a `Skipped`
per malformed item. Both raise `RagError` for a file they cannot read at all. The folder reader,
the upload box, delete and every message that lists formats read this table.

It does not walk folders or apply the size limit (`rag.articles` does), and it fetches nothing.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from rag.errors import RagError
from rag.formats import docx, export, feed, html, pdf, text
from rag.formats.items import Skipped
from rag.records import Article

__all__ = ["EXTENSIONS", "FORMATS", "Format", "Skipped", "file_of", "format_for", "read_items", "spell_extensions"]


@dataclass(frozen=True)
class Format:
    """A kind of file: its extensions (lower case, with the dot), its reader, and whether a file
    holds many articles. `claims(path)`, when set, decides whether a file with one of the
    extensions is really this format (an `.xml` file is a feed only if its root says so)."""

    name: str
    extensions: tuple[str, ...]
    read: Callable
    many: bool
    claims: Callable[[Path], bool] | None = None


FORMATS: tuple[Format, ...] = (
    Format("text", text.EXTENSIONS, text.read, many=False),
    Format("HTML page", html.EXTENSIONS, html.read, many=False),
    Format("PDF", pdf.EXTENSIONS, pdf.read, many=False),
    Format("Word document", docx.EXTENSIONS, docx.read, many=False),
    Format("feed", feed.EXTENSIONS, feed.read, many=True, claims=feed.is_feed),
    Format("archive export", export.EXTENSIONS, export.read, many=True),
)

#: Every extension some format reads, in table order.
EXTENSIONS: tuple[str, ...] = tuple(ext for f in FORMATS for ext in f.extensions)


def format_for(source_or_path: str | Path) -> Format | None:
    """The format of a file by its extension, or None when no format reads it.

    Given a `Path` to an existing file, a format's `claims` check looks inside it too; given a
    source name (a string), the extension alone decides.
    """
    suffix = PurePosixPath(str(source_or_path).replace("\\", "/")).suffix.lower()
    for fmt in FORMATS:
        if suffix in fmt.extensions:
            if fmt.claims is None or not isinstance(source_or_path, Path) or not source_or_path.is_file():
                return fmt
            return fmt if fmt.claims(source_or_path) else None
    return None


def file_of(source: str) -> str:
    """The file an article's source is in: an item's "feeds/wire.rss#key" → "feeds/wire.rss"; any
    other source is its own file. (Item keys never hold "#", so the file is what precedes the last.)"""
    head, sep, _ = source.rpartition("#")
    fmt = format_for(head) if sep else None
    return head if fmt is not None and fmt.many else source


def spell_extensions(globs: bool = True) -> str:
    """The extensions for a message: "*.txt, *.md, …, *.csv", or without globs ".txt, .md, … or .csv"."""
    if globs:
        return ", ".join(f"*{ext}" for ext in EXTENSIONS)
    return ", ".join(EXTENSIONS[:-1]) + " or " + EXTENSIONS[-1]


def read_items(source: str, path: Path) -> Iterator[Article | Skipped]:
    """The articles of the file at `path` (named `source`) whatever its format: one for a
    single-article file, one per item (and a `Skipped` per bad item) for a feed or an export.
    Raises `RagError` when no format reads `source` or the file cannot be read at all."""
    fmt = format_for(source)
    if fmt is None:
        raise RagError(f"{source} is not a file newsrag reads; use one of {spell_extensions()}.")
    if fmt.many:
        yield from fmt.read(source, path)
    else:
        yield fmt.read(source, path.read_bytes())
