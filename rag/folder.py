"""The docs folder as an update sees it: each file's SHA-256, and its articles read when needed.

A file of one article (text, HTML, PDF, Word) is read whole by `article`; a feed or an archive export
is read item by item by `items`, streaming, so a 100,000-item export is never held in memory. Files
are hashed in blocks. The article size limit applies to a single-article file's bytes and to each
item's text; files and items that cannot be read are listed in `skipped` with a one-line reason.
It does not decide what to re-embed (`rag.ingest` does).
"""

from __future__ import annotations

from collections.abc import Iterator

from rag.articles import MB, check_size, list_files, read_article, source_name
from rag.disk import sha256
from rag.errors import RagError
from rag.formats import Skipped, format_for, read_items
from rag.records import Article
from rag.settings import Settings


def holds_many(source: str) -> bool:
    """Whether the file `source` is a feed or an export: many articles, read item by item."""
    fmt = format_for(source)
    return fmt is not None and fmt.many


class Folder:
    """The docs folder as it is now: each article file's SHA-256 (articles are read when needed)."""

    def __init__(self, settings: Settings) -> None:
        self.docs_dir = settings.docs_dir
        self.max_file_mb = settings.max_file_mb
        self.paths = {source_name(p, self.docs_dir): p for p in list_files(self.docs_dir)}
        self.hashes: dict[str, str] = {}
        self.skipped: dict[str, str] = {}
        for source, path in self.paths.items():
            try:
                if not holds_many(source):  # a feed or an export is limited item by item
                    check_size(source, path.stat().st_size, settings.max_file_mb)
                self.hashes[source] = sha256(path)
            except RagError as err:
                self.skipped[source] = str(err)
            except OSError as err:
                self.skipped[source] = f"{source} cannot be read ({err.strerror}); skipped it."

    def article(self, source: str) -> Article | None:
        """The file's article; None (and a reason in `skipped`) when it cannot be read."""
        try:
            return read_article(source, self.paths[source].read_bytes())
        except RagError as err:
            self.skipped[source] = str(err)
            return None

    def items(self, source: str) -> Iterator[Article]:
        """The articles of the feed or export `source`, in file order; bad items are noted in
        `skipped` ("archive.jsonl line 7": what is wrong) and left out, as is an item over the size
        limit. A file that cannot be read at all is noted and yields nothing more."""
        try:
            for item in read_items(source, self.paths[source]):
                if isinstance(item, Skipped):
                    where, _, what = item.reason.partition(": ")
                    self.skipped[where] = what or item.reason
                elif len(item.text.encode("utf-8")) > self.max_file_mb * MB:
                    self.skipped[item.source] = f"the item is over the {self.max_file_mb:g} MB article size limit"
                else:
                    yield item
        except RagError as err:
            self.skipped[source] = str(err)
