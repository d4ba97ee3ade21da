"""A folder of files → `Article`s: which files are articles, reading one, reading them all.

The formats, their extensions and their readers are the table in `rag.formats`; this module walks
the docs folder (recursively, skipping hidden names) for the files some format reads, applies the
size limit, and names the files it skips. `read_article` reads a single-article file (text, HTML,
PDF, Word); `read_folder` reads every file, a feed or an export item by item. The text-level stages
(decoding, headline and furniture, HTML reduction) live with their formats and are re-exported here.
It does not index, embed or watch the folder.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from rag.errors import RagError
from rag.formats import Skipped, format_for, read_items, spell_extensions
from rag.formats.html import html_to_text
from rag.formats.text import MAX_TITLE_WORDS, decode, file_hash, find_body, is_furniture
from rag.records import Article

__all__ = [
    "MAX_TITLE_WORDS",
    "MB",
    "Corpus",
    "check_size",
    "decode",
    "file_hash",
    "find_body",
    "html_to_text",
    "is_furniture",
    "list_files",
    "read_article",
    "read_folder",
    "source_name",
]

MB = 1024 * 1024


@dataclass
class Corpus:
    articles: list[Article]
    skipped: list[tuple[str, str]] = field(default_factory=list)  # (source, reason)


def list_files(docs_dir: Path) -> list[Path]:
    """The article files under `docs_dir`, sorted; raises `RagError` when there are none."""
    if docs_dir.exists() and not docs_dir.is_dir():
        raise RagError(f"{docs_dir} is a file, not a folder; pass --docs with the folder that holds the articles.")
    if not docs_dir.is_dir():
        raise RagError(f"Docs folder {docs_dir}/ does not exist. Create it and add articles, or pass --docs DIR.")
    files = sorted(
        p
        for p in docs_dir.rglob("*")
        if not any(part.startswith(".") for part in p.relative_to(docs_dir).parts)
        and p.is_file()
        and format_for(p) is not None
    )
    if not files:
        raise RagError(
            f"No articles found in {docs_dir}/ (looked for {spell_extensions()}). Add files or pass --docs DIR."
        )
    return files


def source_name(path: Path, docs_dir: Path) -> str:
    return path.relative_to(docs_dir).as_posix()


def check_size(source: str, size: int, max_mb: float) -> None:
    """Raises `RagError` when a file of `size` bytes is over the article size limit of `max_mb` MB."""
    if size > max_mb * MB:
        raise RagError(
            f"{source} is {size / MB:.1f} MB; the limit is {max_mb:g} MB per article file "
            "(split the file, or raise RAG_MAX_FILE_MB)."
        )


def read_article(source: str, data: bytes) -> Article:
    """Reads one single-article file's bytes (text, HTML, PDF, Word) into an `Article`; raises
    `RagError` for files it cannot read (binary, empty, scanned, locked) and for feeds and exports,
    which hold many articles (`rag.formats.read_items` reads those)."""
    fmt = format_for(source)
    if fmt is None:
        raise RagError(f"{source} is not a file newsrag reads; use one of {spell_extensions()}.")
    if fmt.many:
        raise RagError(f"{source} is a {fmt.name} of many articles; it is read item by item, not as one article.")
    return fmt.read(source, data)


def read_folder(docs_dir: Path, max_file_mb: float | None = None) -> Corpus:
    """Every readable article under `docs_dir`, items of feeds and exports included; unreadable
    files and items are listed in `skipped`, as are files over `max_file_mb` when it is given."""
    corpus = Corpus(articles=[])
    for path in list_files(docs_dir):
        source = source_name(path, docs_dir)
        try:
            if max_file_mb is not None:
                check_size(source, path.stat().st_size, max_file_mb)
            for item in read_items(source, path):
                if isinstance(item, Skipped):
                    corpus.skipped.append((item.source, item.reason))
                else:
                    corpus.articles.append(item)
        except RagError as err:
            corpus.skipped.append((source, str(err)))
    return corpus
