"""A folder of files → `Article`s: decoding, HTML reduction, headline and page-furniture detection.

Reads `*.txt`, `*.md` and `*.html` (recursively, skipping hidden names). The first short line is the
headline. Scraped page furniture (relative timestamps, "Read Entire Article", navigation rows of
`|`-separated links, "– video" captions, photo credits and the alt text above them) is left out of
the article's body spans but kept in its text, so offsets still point into the original.
It does not parse PDFs or office documents, and it does not guess at furniture in running prose.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field
from html.parser import HTMLParser
from pathlib import Path

from rag.dates import find_published
from rag.errors import RagError
from rag.records import Article, content_id
from rag.sentences import count_words

EXTENSIONS = (".txt", ".md", ".html", ".htm")
MAX_TITLE_WORDS = 30
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
        if p.suffix.lower() in EXTENSIONS
        and p.is_file()
        and not any(part.startswith(".") for part in p.relative_to(docs_dir).parts)
    )
    if not files:
        raise RagError(
            f"No articles found in {docs_dir}/ (looked for *.txt, *.md, *.html). Add files or pass --docs DIR."
        )
    return files


def source_name(path: Path, docs_dir: Path) -> str:
    return path.relative_to(docs_dir).as_posix()


def file_hash(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def check_size(source: str, size: int, max_mb: float) -> None:
    """Raises `RagError` when a file of `size` bytes is over the article size limit of `max_mb` MB."""
    if size > max_mb * MB:
        raise RagError(
            f"{source} is {size / MB:.1f} MB; the limit is {max_mb:g} MB per article file "
            "(split the file, or raise RAG_MAX_FILE_MB)."
        )


def read_article(source: str, data: bytes) -> Article:
    """Decodes one file's bytes into an `Article`; raises `RagError` for binary or empty files."""
    text = decode(data, source)
    html = text if source.lower().endswith((".html", ".htm")) else None
    if html is not None:
        text = html_to_text(html)
    title_span, body = find_body(text)
    if not body:
        raise RagError(f"{source} has no article text.")
    title = text[title_span[0] : title_span[1]].strip().lstrip("#").strip() if title_span else _title_from_name(source)
    published = find_published(text, html)
    return Article(
        doc_id=content_id(source, text),
        source=source,
        title=title,
        text=text,
        body=tuple(body),
        file_hash=file_hash(data),
        published=published.date,
        author=published.author,
    )


def read_folder(docs_dir: Path) -> Corpus:
    """Every readable article under `docs_dir`; unreadable files are listed in `skipped`."""
    corpus = Corpus(articles=[])
    for path in list_files(docs_dir):
        source = source_name(path, docs_dir)
        try:
            corpus.articles.append(read_article(source, path.read_bytes()))
        except RagError as err:
            corpus.skipped.append((source, str(err)))
    return corpus


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
    lines = _nonblank_lines(text)
    title_span = None
    if lines:
        first = text[lines[0][0] : lines[0][1]].strip()
        if count_words(first) <= MAX_TITLE_WORDS and not first.endswith("."):
            title_span = lines[0]
            lines = lines[1:]
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
    return title_span, body


def _nonblank_lines(text: str) -> list[tuple[int, int]]:
    """Spans of the non-blank lines, trimmed of surrounding whitespace."""
    spans = []
    for match in re.finditer(r"[^\n]+", text):
        start, end = match.span()
        while start < end and text[start].isspace():
            start += 1
        while end > start and text[end - 1].isspace():
            end -= 1
        if start < end:
            spans.append((start, end))
    return spans


def _title_from_name(source: str) -> str:
    return Path(source).stem.replace("_", " ").replace("-", " ").strip() or source


# --- HTML -----------------------------------------------------------------------------------------

_BLOCK_TAGS = frozenset(
    "address article aside blockquote br dd div dl dt figcaption figure footer h1 h2 h3 h4 h5 "
    "h6 header hr li main nav ol p pre section table td th tr ul title".split()
)
_SKIP_TAGS = frozenset("script style noscript template svg head nav footer aside form button".split())


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
