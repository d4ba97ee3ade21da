"""The docs folder as a library a person edits: add an uploaded article, list the indexed ones, delete one.

`save_upload` checks an upload (a format of `rag.formats`, size limit, readable articles) before
writing it under the docs folder with a sanitised name; it never writes outside that folder and never
replaces a file unless asked to. `list_articles` reads titles and chunk counts from a loaded index's manifest.
It does not update the index: the caller runs `Pipeline.refresh()` after a change.
"""

from __future__ import annotations

import os
import re
import unicodedata
from dataclasses import dataclass
from pathlib import Path

from rag.articles import check_size
from rag.errors import RagError
from rag.formats import EXTENSIONS, Skipped, file_of, format_for, read_items, spell_extensions
from rag.store import Store

#: Extensions an upload may have: every format the indexer reads.
UPLOAD_EXTENSIONS = EXTENSIONS
MAX_NAME_CHARS = 100


@dataclass(frozen=True)
class ArticleRow:
    title: str
    source: str  # path relative to the docs folder
    chunks: int


def sanitise_name(name: str) -> str:
    """A safe file name for an upload: the last path component, ASCII letters, digits, `._-` only,
    no leading dot, at most `MAX_NAME_CHARS` characters, extension kept and lower-cased.

    Raises `RagError` when the extension is not one of `UPLOAD_EXTENSIONS`.
    """
    base = re.split(r"[\\/]", name or "")[-1]
    base = unicodedata.normalize("NFKD", base).encode("ascii", "ignore").decode("ascii")
    stem, dot, ext = base.rpartition(".")
    if not dot:
        stem, ext = base, ""
    ext = "." + ext.lower() if ext else ""
    if ext not in UPLOAD_EXTENSIONS:
        shown = ext or "no extension"
        raise RagError(f"{base or name!r} has {shown}; upload {spell_extensions(globs=False)} files only.")
    stem = re.sub(r"[^A-Za-z0-9._-]+", "_", stem)
    stem = re.sub(r"_{2,}", "_", stem).strip("._-") or "article"
    return stem[: MAX_NAME_CHARS - len(ext)] + ext


def save_upload(docs_dir: Path, name: str, data: bytes, max_file_mb: float, overwrite: bool = False) -> Path:
    """Writes an uploaded article to `docs_dir` under its sanitised name and returns the new path.

    Refuses (with `RagError`) files over `max_file_mb` (the indexer's limit too, so an upload is
    never one the indexer would skip), files with no readable article (binary, empty, a scanned
    PDF, a feed or export whose every item is bad), and an existing file of the same name unless
    `overwrite` is true.
    """
    target_name = sanitise_name(name)
    check_size(target_name, len(data), max_file_mb)
    docs_dir.mkdir(parents=True, exist_ok=True)
    target = docs_dir / target_name
    if not _inside(target, docs_dir):  # cannot happen after sanitising; checked because it matters
        raise RagError(f"{name!r} would be saved outside {docs_dir}/; rename the file.")
    if target.exists() and not overwrite:
        raise RagError(f"{docs_dir.name}/{target_name} already exists; choose to replace it, or rename your file.")
    # Write beside the target, read it there, then rename: a reader never sees a half-written or
    # unreadable article. Feeds and exports are read from the file, item by item.
    partial = docs_dir / f".{target_name}.partial"
    partial.write_bytes(data)
    try:
        _check_readable(target_name, partial)
    except RagError:
        partial.unlink()
        raise
    os.replace(partial, target)
    return target


def _check_readable(source: str, path: Path) -> None:
    """Raises `RagError` unless the file holds at least one article."""
    first_skip = None
    for item in read_items(source, path):
        if not isinstance(item, Skipped):
            return
        first_skip = first_skip or item.reason
    raise RagError(f"{source} holds no readable article ({first_skip or 'it is empty'}).")


def list_articles(index: Store) -> list[ArticleRow]:
    """The indexed articles, by file name: title, file and how many chunks it was split into."""
    return [
        ArticleRow(title=entry.get("title") or source, source=source, chunks=int(entry.get("chunks", 0)))
        for source, entry in sorted(index.files.items())
    ]


def delete_article(docs_dir: Path, source: str) -> Path:
    """Removes the article file `source` (relative to `docs_dir`) and returns its path.

    Raises `RagError` for a name outside the docs folder, a non-article file, a missing file, or
    one item of a feed or export (only the whole file can be deleted).
    """
    if file_of(source) != source:
        raise RagError(f"{source} is one item of {file_of(source)}; delete {file_of(source)} to remove all its items.")
    target = docs_dir / source
    if not source or not _inside(target, docs_dir) or target.resolve() == docs_dir.resolve():
        raise RagError(f"{source!r} is not a file in {docs_dir}/; pick an article from the list.")
    if format_for(target) is None:
        raise RagError(
            f"{source} is not an article file; only {spell_extensions(globs=False)} files can be deleted here."
        )
    if not target.is_file():
        raise RagError(f"{source} is no longer in {docs_dir}/; refresh the list.")
    target.unlink()
    return target


def _inside(path: Path, folder: Path) -> bool:
    return path.resolve().is_relative_to(folder.resolve())
