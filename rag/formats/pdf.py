"""PDF files (`*.pdf`) → `Article`: the text layer in reading order, without running headers,
footers and page numbers.

Each page is first laid out as lines of text by pypdf's layout mode, which places every piece of
text on a character grid by its position, so the order in which a file happens to draw its text
(often a row of both columns at a time) does not matter. Then, page by page:

- running furniture is dropped: a line among the top or bottom `EDGE_LINES` of a page that recurs
  (digits aside, so "Page 2" is "Page 3") at an edge of at least half the pages, and a bare page
  number ("7", "- 7 -", "Page 3 of 5", "3/5") at an edge;
- columns are read one after the other: where the lines of a stretch of the page leave a gutter of
  spaces at one place, the stretch is read left part first, then right (and each part again, so
  three columns work); a line that crosses the gutter (a headline, a caption) ends the stretch;
- lines become paragraphs: a blank line (extra spacing) or an indented line starts one, and a line
  that stops well short of the column's width ends one (unless the next line starts in lower
  case); lines are joined with a space, and a word hyphenated at a line end ("infor-" /
  "mation") is joined whole. A paragraph cut by a column or page break goes on when the text before the break ends mid
  sentence and the text after it starts in lower case (or the cut line runs the column's width).

`text` is these paragraphs, a blank line apart: body spans and citation offsets point into it.
Title, date and author come from the document information (/Title, /CreationDate, /Author) when
present (a title that is a file name or "Microsoft Word - …" does not count), else from the text
(the first line; `rag.dates`). /CreationDate is when the file was made: for a page printed to
PDF that is the day it was printed, and it still wins over a date the text states.

It does not OCR: a PDF without a text layer (a scan) raises `RagError`, as does one that needs a
password. It does not read tables as tables, footnotes as notes, annotations or form fields, and
it does not tell a hyphenated compound broken at its hyphen ("well-" / "known") from a word split
in two: both are joined.

Why pypdf: pure Python with no required dependencies, BSD-licensed, and its layout mode gives
text by position without a second parser (PyMuPDF, not measured, is a compiled AGPL package).
Measured on 2 shared cores over four synthetic 6-7 page two-column articles (eval/bench_formats.py's):
pypdf's layout mode 81 pages/s, this whole reader 55 pages/s, pdfminer.six 20260107 (pure Python,
default layout analysis) 11 pages/s, and pdfminer interleaved the two columns of the test fixture
line by line where this reader does not.
"""

from __future__ import annotations

import datetime as dt
import io
import re
from itertools import groupby

from rag.errors import RagError
from rag.formats.text import article_from_text, file_hash
from rag.records import Article

EXTENSIONS = (".pdf",)
EDGE_LINES = 2  # how many lines at the top and at the bottom of a page may be running furniture
MIN_GUTTER_LINES = 3  # lines that must have text on both sides of a gutter for it to be one
MAX_COLUMN_DEPTH = 2  # splits per stretch: two splits read up to four columns
INDENT = 2  # characters of extra indent that start a paragraph
SHORT_LINE = 0.6  # a line shorter than this share of its column's width ends its paragraph

_PAGE_NUMBER = re.compile(
    r"^(?:page\s+)?[-–—(\[]?\s*\d{1,4}\s*[-–—)\]]?(?:\s*(?:of|/)\s*\d{1,4})?$|^page\s+[ivxlc]+$", re.IGNORECASE
)
_HYPHENATED = re.compile(r"[^\W\d_][-\u00ad]$")
_SENTENCE_END = (".", "!", "?", "…", ":", '"', "”", "’", ")")
_JUNK_TITLE = re.compile(r"^(?:microsoft \w+ - |untitled$)|\.(?:docx?|pdf|odt|rtf|txt|indd|qxd)$", re.IGNORECASE)


def read(source: str, data: bytes) -> Article:
    """One PDF file's bytes as an `Article`; raises `RagError` for a scan, a locked or a broken file."""
    pages, info = _layout_pages(source, data)
    if not any(line.strip() for page in pages for line in page):
        raise RagError(f"{source} has no text layer (a scanned PDF?); skipped it: OCR is not done here.")
    furniture = _running_lines(pages)
    blocks = [block for page in pages for block in _reading_order(_drop_edges(page, furniture))]
    text = "\n\n".join(_paragraphs(blocks)) + "\n"
    title = info.get("/Title")
    return article_from_text(
        source,
        text,
        file_hash(data),
        title=title if title and not _JUNK_TITLE.search(title) else None,
        published=_pdf_date(info.get("/CreationDate")),
        author=info.get("/Author"),
    )


def _layout_pages(source: str, data: bytes) -> tuple[list[list[str]], dict[str, str]]:
    """Each page's lines as pypdf's layout mode draws them, and the document information as text."""
    from pypdf import PdfReader  # imported here: reading questions never needs it
    from pypdf.errors import DependencyError, FileNotDecryptedError, PyPdfError

    try:
        reader = PdfReader(io.BytesIO(data))
        # An empty user password only restricts printing and copying; such a file opens as is.
        if reader.is_encrypted and not reader.decrypt(""):
            raise FileNotDecryptedError("needs a password")
        pages = [page.extract_text(extraction_mode="layout").split("\n") for page in reader.pages]
        info = {k: " ".join(str(v).split()) for k, v in (reader.metadata or {}).items() if isinstance(k, str)}
    except (FileNotDecryptedError, DependencyError):
        raise RagError(
            f"{source} is encrypted and cannot be read without its password; skipped it: save an unprotected copy."
        ) from None
    except (PyPdfError, ValueError, KeyError, IndexError, TypeError) as err:
        raise RagError(f"{source} is not a readable PDF ({type(err).__name__}: {err}); skipped it.") from None
    return [[line.rstrip() for line in page] for page in pages], {k: v for k, v in info.items() if v}


def _pdf_date(value: str | None) -> str | None:
    """A PDF date string ("D:20250515093000+01'00'") as ISO yyyy-mm-dd, or None."""
    m = re.match(r"(?:D:)?(\d{4})(\d{2})(\d{2})", value or "")
    if not m:
        return None
    try:
        date = dt.date(int(m[1]), int(m[2]), int(m[3]))
    except ValueError:
        return None
    return date.isoformat() if 1900 <= date.year <= 2100 else None


# --- running headers, footers and page numbers ----------------------------------------------------


def _key(line: str) -> str:
    return re.sub(r"\d+", "#", " ".join(line.split()).lower())


def _edges(lines: list[str]) -> list[int]:
    """Indexes of the first and last `EDGE_LINES` non-blank lines of a page."""
    texty = [i for i, line in enumerate(lines) if line.strip()]
    return sorted(set(texty[:EDGE_LINES] + texty[-EDGE_LINES:]))


def _running_lines(pages: list[list[str]]) -> set[str]:
    """Keys of the edge lines that recur at an edge of at least half the pages (and two pages)."""
    counts: dict[str, int] = {}
    for lines in pages:
        for key in {_key(lines[i]) for i in _edges(lines)}:
            counts[key] = counts.get(key, 0) + 1
    need = max(2, (len(pages) + 1) // 2)
    return {key for key, n in counts.items() if n >= need}


def _drop_edges(lines: list[str], furniture: set[str]) -> list[str]:
    drop = {i for i in _edges(lines) if _key(lines[i]) in furniture or _PAGE_NUMBER.match(lines[i].strip())}
    return [line for i, line in enumerate(lines) if i not in drop]


# --- columns ----------------------------------------------------------------------------------------


def _reading_order(lines: list[str], depth: int = 0) -> list[list[str]]:
    """The page's lines as blocks in reading order: each block is a run of lines of one column."""
    gutter = _gutter(lines) if depth < MAX_COLUMN_DEPTH else None
    if gutter is None:
        return [lines] if any(line.strip() for line in lines) else []
    blocks: list[list[str]] = []
    for crossing, group in groupby(lines, key=lambda line: _crosses(line, gutter)):
        run = list(group)
        if crossing:
            blocks.append(run)
            continue
        for part in ([line[:gutter].rstrip() for line in run], [line[gutter:] for line in run]):
            blocks.extend(_reading_order(_trim(part), depth + 1))
    return blocks


def _gutter(lines: list[str]) -> int | None:
    """The character position of a gutter between columns, or None: the position in the middle half
    of the lines' width where most lines have text on both sides of three spaces, less those that
    cross it."""
    texty = [line for line in lines if line.strip()]
    if len(texty) < MIN_GUTTER_LINES:
        return None
    width = max(len(line) for line in texty)
    best, best_score = None, 0
    for x in range(max(1, width // 4), width * 3 // 4):
        both = crossing = 0
        for line in texty:
            if _crosses(line, x):
                crossing += 1
            elif line[:x].strip() and line[x:].strip():
                both += 1
        score = both - crossing
        if both >= MIN_GUTTER_LINES and score > best_score:
            best, best_score = x, score
    return best


def _crosses(line: str, x: int) -> bool:
    return bool(line[x - 1 : x + 2].strip())


def _trim(lines: list[str]) -> list[str]:
    """The lines without the blank ones at either end."""
    texty = [i for i, line in enumerate(lines) if line.strip()]
    return lines[texty[0] : texty[-1] + 1] if texty else []


# --- paragraphs -------------------------------------------------------------------------------------


def _paragraphs(blocks: list[list[str]]) -> list[str]:
    paragraphs: list[str] = []
    current: list[str] = []  # the lines of the paragraph being read
    cut_full = False  # whether the last line before a break ran the width of its block
    for block in blocks:
        lines = _trim(block)
        if not lines:
            continue
        margin = min(len(line) - len(line.lstrip()) for line in lines if line.strip())
        width = max(len(line) for line in lines) - margin
        first = lines[0].strip()
        goes_on = current and not current[-1].endswith(_SENTENCE_END) and (first[:1].islower() or cut_full)
        if current and not goes_on:
            paragraphs.append(_join(current))
            current = []
        blank = short = False
        for i, line in enumerate(lines):
            if not line.strip():
                blank = True
                continue
            indent = len(line) - len(line.lstrip()) - margin
            # A line that stops well short of the column's width ended its paragraph, unless the
            # sentence plainly goes on (the next line starts in lower case).
            ended = short and not line.lstrip()[:1].islower()
            if current and i and (blank or indent >= INDENT or ended):
                paragraphs.append(_join(current))
                current = []
            current.append(line.strip())
            blank = False
            short = len(line) - margin < SHORT_LINE * width and not _HYPHENATED.search(line)
        cut_full = len(lines) >= MIN_GUTTER_LINES and len(lines[-1].strip()) >= 0.8 * width
    if current:
        paragraphs.append(_join(current))
    return paragraphs


def _join(lines: list[str]) -> str:
    """One paragraph from its lines: a space between lines, none where a word was hyphenated."""
    out = lines[0]
    for line in lines[1:]:
        if _HYPHENATED.search(out) and line[:1].islower():
            out = out[:-1] + line
        else:
            out += " " + line
    return " ".join(out.split())
