"""Plain text (`*.txt`, `*.md`) → `Article`, and the text stage every other format ends in.

`read` decodes a file's bytes (UTF-8 with or without BOM, UTF-16 with a BOM, else Windows-1252;
binary files are refused) and hands the text to `article_from_text`, which the other formats call
with the text they extracted: the first short line is the headline, and scraped page furniture
(relative timestamps, "Read Entire Article", navigation rows of `|`-separated links, "– video"
captions, photo credits and the alt text above them) is left out of the body spans but kept in the
text, so offsets still point into it. The date and byline come from `rag.dates` unless the caller
already knows them (a PDF's metadata, a feed item's fields).

It does not render Markdown (a `#` headline loses its marks in the title only) and does not guess
at furniture in running prose.
"""

from __future__ import annotations

import hashlib
import re
from pathlib import Path

from rag.dates import find_published
from rag.errors import RagError
from rag.records import Article, content_id
from rag.sentences import append_trimmed, count_words

EXTENSIONS = (".txt", ".md")
MAX_TITLE_WORDS = 30


def read(source: str, data: bytes) -> Article:
    """One text file's bytes as an `Article`; raises `RagError` for binary or empty files."""
    return article_from_text(source, decode(data, source), file_hash(data))


def article_from_text(
    source: str,
    text: str,
    digest: str,
    *,
    html: str | None = None,
    title: str | None = None,
    published: str | None = None,
    author: str | None = None,
    url: str | None = None,
) -> Article:
    """The `Article` of extracted `text`: headline, body spans, date and byline.

    `digest` is the SHA-256 recorded as the article's `file_hash`; `html` is the page the text came
    from, for the dates and bylines its markup states. `title`, `published` and `author`, when
    given, win over what the text says. Raises `RagError` when the text has no body.
    """
    title_span, body = find_body(text)
    if not body:
        raise RagError(f"{source} has no article text.")
    if not title:
        title = (
            text[title_span[0] : title_span[1]].strip().lstrip("#").strip() if title_span else title_from_name(source)
        )
    stated = find_published(text, html)
    return Article(
        doc_id=content_id(source, text),
        source=source,
        title=title,
        text=text,
        body=tuple(body),
        file_hash=digest,
        published=published or stated.date,
        author=author or stated.author,
        url=url,
    )


def file_hash(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def decode(data: bytes, source: str) -> str:
    """UTF-8 (with or without BOM), UTF-16 with a BOM, else Windows-1252; binary files are refused.

    A file is binary when its first 8 KB hold many control characters, or when its text holds a NUL
    anywhere: such a file is refused whole (skipped with a warning), never stripped, so no NUL can
    reach a quote and offsets stay those of the file's text.
    """
    binary = RagError(f"{source} looks like a binary file, not text; skipped it.")
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        text = data.decode("utf-16", errors="replace")
    elif _control_ratio(data[:8192]) > 0.05:
        raise binary
    else:
        try:
            text = data.decode("utf-8-sig")
        except UnicodeDecodeError:
            text = data.decode("cp1252", errors="replace")
    if "\x00" in text:
        raise binary
    return text.replace("\r\n", "\n").replace("\r", "\n")


def _control_ratio(data: bytes) -> float:
    if not data:
        return 0.0
    controls = sum(1 for b in data if b < 32 and b not in (9, 10, 12, 13))
    return controls / len(data)


def title_from_name(source: str) -> str:
    return Path(source).stem.replace("_", " ").replace("-", " ").strip() or source


# --- headline and furniture -------------------------------------------------------------------

_RELATIVE_TIME = re.compile(
    r"^\d+\s*(?:s|sec|second|m|min|minute|h|hr|hour|d|day|week|month|year)s?\s+ago\b", re.IGNORECASE
)
_NAV_PHRASE = re.compile(
    r"^(?:read (?:the )?(?:entire|full|more)(?: article| story)?|read more|continue reading|share(?: this)?"
    r"(?: article| story)?|advertisement|skip to (?:main )?content|related(?: articles| stories)?"
    r"|sign up .*newsletter.*)\W*$",
    re.IGNORECASE,
)
_MEDIA_CAPTION = re.compile(r"[–—-]\s*(?:video|audio|podcast|photos?|gallery|live)\s*$", re.IGNORECASE)
_PHOTO_CREDIT = re.compile(r"\b(?:Photograph|Photo|Photos|Photo credit|Image|Illustration|Composite)\s*:")
_TERMINAL = (".", "!", "?", "…", '"', "”", "'", "’", ":", ";")
_LINE = re.compile(r"[^\n]+")


def is_furniture(line: str) -> bool:
    """Whether one stripped line is scraped page furniture rather than article text."""
    if _RELATIVE_TIME.match(line) or _NAV_PHRASE.match(line) or _MEDIA_CAPTION.search(line):
        return True
    if _PHOTO_CREDIT.search(line):
        return True
    if line.count("|") >= 2:
        cells = [c.strip() for c in line.split("|")]
        return all(count_words(c) <= 4 for c in cells)
    return False


def find_body(text: str) -> tuple[tuple[int, int] | None, list[tuple[int, int]]]:
    """The headline's span (or None) and the body spans: runs of content lines between furniture."""
    lines = nonblank_lines(text)
    title_span = None
    if lines:
        first = text[lines[0][0] : lines[0][1]].strip()
        if count_words(first) <= MAX_TITLE_WORDS and not first.endswith("."):
            title_span = lines[0]
            lines = lines[1:]
    return title_span, body_spans(text, lines)


def body_spans(text: str, lines: list[tuple[int, int]]) -> list[tuple[int, int]]:
    """The runs of `lines` (spans of `text`) that are content, split where a line is furniture."""
    kinds = [is_furniture(text[s:e].strip()) for s, e in lines]
    # Alt text: a line without closing punctuation right above a photo credit.
    for i in range(len(lines) - 1):
        line = text[lines[i][0] : lines[i][1]].strip()
        if _PHOTO_CREDIT.search(text[lines[i + 1][0] : lines[i + 1][1]]) and not line.endswith(_TERMINAL):
            kinds[i] = True
    body: list[tuple[int, int]] = []
    run: list[tuple[int, int]] = []
    for span, furniture in zip(lines, kinds):
        if furniture:
            if run:
                body.append((run[0][0], run[-1][1]))
            run = []
        else:
            run.append(span)
    if run:
        body.append((run[0][0], run[-1][1]))
    return body


def nonblank_lines(text: str, start: int = 0) -> list[tuple[int, int]]:
    """Spans of the non-blank lines from `start` on, trimmed of surrounding whitespace."""
    spans: list[tuple[int, int]] = []
    for match in _LINE.finditer(text, start):
        append_trimmed(spans, text, *match.span())
    return spans
