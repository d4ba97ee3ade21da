"""Word documents (`*.docx`) → `Article`: the body's paragraphs, a blank line apart.

Paragraphs are read in order with python-docx; a line break inside a paragraph becomes a space and
empty paragraphs are dropped. The title is the core properties' title, else a paragraph styled
Title or Heading among the first three, else the first line (as for text); the date is the core properties'
`created`, else one the text states (`rag.dates`); the author is the core properties' `author`,
else a byline in the text. python-docx's own template stamps author "python-docx" and created
2013-12-23 23:15 UTC on every document made with it and left unset: those say nothing and are
ignored.

It does not read tables, text boxes, headers, footers, footnotes or comments, nor legacy `.doc`
files or password-protected documents (both raise `RagError`).
"""

from __future__ import annotations

import datetime as dt
import io
import zipfile

from rag.errors import RagError
from rag.formats.text import article_from_text, file_hash
from rag.records import Article

EXTENSIONS = (".docx",)
_TEMPLATE_AUTHOR = "python-docx"
_TEMPLATE_CREATED = dt.datetime(2013, 12, 23, 23, 15, tzinfo=dt.timezone.utc)


def read(source: str, data: bytes) -> Article:
    """One .docx file's bytes as an `Article`; raises `RagError` for a file that is not a readable .docx."""
    import docx  # imported here: reading questions never needs it
    from docx.opc.exceptions import PackageNotFoundError

    try:
        document = docx.Document(io.BytesIO(data))
    except (PackageNotFoundError, zipfile.BadZipFile, KeyError, ValueError):
        raise RagError(
            f"{source} is not a readable Word .docx file (a .doc, or password-protected?); skipped it: "
            "save it again as .docx without a password."
        ) from None
    paragraphs = [(p.style.name if p.style is not None else "", " ".join(p.text.split())) for p in document.paragraphs]
    paragraphs = [(style, words) for style, words in paragraphs if words]
    text = "\n\n".join(words for _, words in paragraphs) + "\n"
    props = document.core_properties
    heading = next((words for style, words in paragraphs[:3] if style == "Title" or style.startswith("Heading")), None)
    created = props.created
    return article_from_text(
        source,
        text,
        file_hash(data),
        title=(props.title or "").strip() or heading,
        published=created.date().isoformat() if created and created != _TEMPLATE_CREATED else None,
        author=props.author.strip() if props.author and props.author != _TEMPLATE_AUTHOR else None,
    )
