"""An article's publication date and author, where the file states them.

`find_published(text, html)` takes the publication date from the HTML markup (JSON-LD
`datePublished`, `article:published_time` and the other publication meta tags, `<time pubdate>`,
the first `<time datetime>` inside `<article>`), else from the first `HEAD_LINES` non-blank lines
of the text (a "Published …"/"Posted …" line, a wire dateline "ISTANBUL, May 15 (Reuters) -" with
its year from a full date nearby, a short line that is a date), else an update time (markup, then
an "Updated …" line). The author comes from markup (JSON-LD, meta `author`/`byl`/`article:author`,
the text of a `rel="author"` or `itemprop="author"` element), else from a byline in the head lines
("By Jane Doe and John Roe", "Jane Doe, BBC News"). A value read from the text carries its span.

It does not read relative furniture ("7 hours ago"), dates lower in the article, file names or
modification times; it does not convert time zones (the date is the one written, in the writer's
zone); it takes a numeric date such as 05/06/2025 only when a part over 12 (or two equal parts)
makes the order certain; it fetches nothing.

Why not htmldate (measured with htmldate 1.11 on the 14 pages in tests/fixtures/published): it
found no date that this module misses. It agreed on 11 pages (every date marked up in meta tags,
JSON-LD or `<time pubdate>`, a "Published" line, a page with no date at all); on the page whose
date is a plain `<time>` in the article it took the masthead's date (newest) or an older date
cited in the story (original); and with its text search on, its default, it dated two pages that
state no date, from a sentence (2023-04-03) and from the copyright line (2024-01-01). It finds no authors, takes 0.13-0.18 s to
import, brings six packages (lxml, dateparser, regex, pytz, tzlocal, python-dateutil), and its
`find_date` downloads a page when handed a string that starts with "http". The markup it would
read is a short list of tags, which `rag.html_meta` parses with the standard library.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass

from rag.html_meta import read_page_meta

HEAD_LINES = 15  # only the top of the file states the date and byline; lower lines are story

_MONTHS = {
    name: number
    for number, names in enumerate(
        "jan january|feb february|mar march|apr april|may|jun june|jul july|aug august|sep sept september"
        "|oct october|nov november|dec december".split("|"),
        start=1,
    )
    for name in names.split()
}
_MONTH = r"(?P<month>jan(?:uary)?|feb(?:ruary)?|mar(?:ch)?|apr(?:il)?|may|june?|july?|aug(?:ust)?|sep(?:t(?:ember)?)?|oct(?:ober)?|nov(?:ember)?|dec(?:ember)?)\.?"
_WEEKDAY = (
    r"(?:(?:monday|tuesday|wednesday|thursday|friday|saturday|sunday|mon|tues?|wed|thur?s?|fri|sat|sun)\.?,?\s+)?"
)
_DAY = r"(?P<day>\d{1,2})(?:st|nd|rd|th)?"
_DATES = [
    re.compile(rf"\b{_WEEKDAY}{_DAY}\s+(?:of\s+)?{_MONTH},?\s+(?P<year>\d{{4}})\b", re.IGNORECASE),  # 15 May 2025
    re.compile(rf"\b{_WEEKDAY}{_MONTH}\s+{_DAY},?\s+(?P<year>\d{{4}})\b", re.IGNORECASE),  # May 15, 2025
    re.compile(r"\b(?P<year>\d{4})([-/.])(?P<month>\d{1,2})\2(?P<day>\d{1,2})(?!\d)"),  # 2025-05-15
    re.compile(r"\b(?P<a>\d{1,2})([/.-])(?P<b>\d{1,2})\2(?P<year>\d{4})\b"),  # 15/05/2025, 05/15/2025
]
_COMPACT = re.compile(r"\s*(?P<year>\d{4})(?P<month>\d{2})(?P<day>\d{2})(?:$|T)")  # 20250515 in meta tags
_ISO_VALUE = re.compile(r"\s*(?P<year>\d{4})-(?P<month>\d{2})-(?P<day>\d{2})(?:$|T)")  # 2025-05-15T10:32:00Z
# "ISTANBUL, May 15 (Reuters) -": a place in capitals at the start of a line, then the day.
_DATELINE = re.compile(
    rf"(?P<place>[A-Z][A-Z.'’ -]*[A-Z](?:,\s+[A-Z][\w.'’ -]*?)?),\s+(?i:{_MONTH})\s+{_DAY}(?:,\s+(?P<year>\d{{4}}))?"
    r"(?:\s+\([^()\n]{1,40}\))?(?=\s*[-–—])"
)
_LABEL = re.compile(r"\b(?:(published|posted)|(updated|modified|edited))\b", re.IGNORECASE)
_PUBLISHED, _DATELINE_KIND, _BARE, _UPDATED = range(4)  # text evidence, best first

_NEWS_WORDS = frozenset(
    "news press reuters afp ap upi bbc cnn nbc abc cbs bloomberg times post guardian telegraph herald journal "
    "tribune chronicle gazette agency agencies wire correspondent editor reporter writer journalist staff "
    "columnist contributor desk analyst producer newsroom".split()
)
_PARTICLES = frozenset("de da di del della van von der den du le la al el bin ibn dos das st".split())
_WEEKDAYS = frozenset("monday tuesday wednesday thursday friday saturday sunday".split())
_BY = re.compile(r"(?:written\s+|words\s+|reporting\s+)?by\s+", re.IGNORECASE)
_LIST_SEP = re.compile(r"\s*,\s*(?:and\s+)?|\s+and\s+|\s*&\s*")  # between names of one byline
_END_SEP = re.compile(r"\s*(?:[|•·;]|\s[-–—])\s*")  # ends a byline: what follows is affiliation or date
_IN_PLACE = re.compile(r"\s+in\s+[A-Z][\w'’-]*(?:\s+[A-Z][\w'’-]*)*$")  # "Jane Doe in Kyiv"
_AFFILIATION = re.compile(r"\s*[,|·]\s*|\s+[-–—]\s+")  # "Jane Doe, BBC News", "Jane Doe - Reuters"


@dataclass(frozen=True)
class Published:
    """When and by whom an article was published, as far as the file says.

    `date` is ISO `yyyy-mm-dd`. A span is `(start, end)` into the text handed to `find_published`
    (for HTML, the reduced text): `text[start:end]` is the date phrase or the byline the value was
    read from. A span is None when the value came from markup or was not found.
    """

    date: str | None = None
    author: str | None = None
    date_span: tuple[int, int] | None = None
    author_span: tuple[int, int] | None = None


def find_published(text: str, html: str | None = None) -> Published:
    """The publication date and author stated in `text` and, for an HTML file, in its markup `html`."""
    markup = _read_markup(html) if html else _Markup()
    head = _head_lines(text)
    stated = _text_dates(text, head)
    # A publication date beats an update time; markup, written for machines, beats rules over the text.
    options = [
        (markup.published, None),
        *[(iso, span) for kind, span, iso in stated if kind != _UPDATED][:1],
        (markup.updated, None),
        *[(iso, span) for kind, span, iso in stated if kind == _UPDATED][:1],
    ]
    date, date_span = next(((d, s) for d, s in options if d), (None, None))
    author, author_span = markup.author, None
    if author is None:
        for start, end in head:
            names = _byline(text, start, end, head)
            if names:
                author = _join([text[s:e] for s, e in names])
                author_span = (names[0][0], names[-1][1])
                break
    return Published(date, author, date_span, author_span)


def _head_lines(text: str) -> list[tuple[int, int]]:
    """Spans of the first `HEAD_LINES` non-blank lines of `text`, trimmed of surrounding whitespace."""
    spans = []
    for match in re.finditer(r"[^\n]+", text):
        line = match.group()
        if line.strip():
            spans.append((match.start() + len(line) - len(line.lstrip()), match.end() - len(line) + len(line.rstrip())))
            if len(spans) == HEAD_LINES:
                break
    return spans


def parse_date(phrase: str) -> str | None:
    """The ISO date in a date value or phrase ("2025-05-15T10:32:00+01:00", "Thu, 15 May 2025"), or None."""
    compact = _COMPACT.match(phrase)
    if compact:
        return _iso(compact["year"], compact["month"], compact["day"])
    iso = _ISO_VALUE.match(phrase)  # the usual machine value, read without trying every pattern
    if iso and (day := _iso(iso["year"], iso["month"], iso["day"])):
        return day
    found = _find_dates(phrase)
    return found[0][2] if found else None


# --- dates in text ------------------------------------------------------------------------------


def _find_dates(text: str, start: int = 0, end: int | None = None) -> list[tuple[int, int, str]]:
    """Every full date (day, month and year) in `text[start:end]`: (start, end, iso), by position."""
    end = len(text) if end is None else end
    found: list[tuple[int, int, str]] = []
    for pattern in _DATES:
        for m in pattern.finditer(text, start, end):
            if "a" in m.groupdict():
                a, b = int(m["a"]), int(m["b"])
                if a != b and (a > 12) == (b > 12):
                    continue  # 05/06/2025 could be either; 31/12/31 neither
                day, month = (a, b) if a > 12 or a == b else (b, a)
                iso = _iso(m["year"], month, day)
            else:
                iso = _iso(m["year"], m["month"], m["day"])
            if iso and not any(s < m.end() and m.start() < e for s, e, _ in found):
                found.append((m.start(), m.end(), iso))
    return sorted(found)


def _text_dates(text: str, head: list[tuple[int, int]]) -> list[tuple[int, tuple[int, int], str]]:
    """Dates stated in the head lines as (kind, span, iso), best kind first, then by position."""
    full = [(kind, (s, e), iso) for start, end in head for kind, s, e, iso in _line_dates(text, start, end)]
    found = [c for c in full if c[0] is not None]
    anchors = [(s, iso) for _, (s, _e), iso in full]
    for start, end in head:
        m = _DATELINE.match(text, start, min(end, start + 120))  # a dateline opens its line
        if not m:
            continue
        if m["year"]:
            iso = _iso(m["year"], m["month"], m["day"])
        elif anchors:
            near = min(anchors, key=lambda a: abs(a[0] - start))[1]
            iso = _nearest_year(near, _MONTHS[m["month"].lower()], int(m["day"]))
        else:
            iso = None  # no year anywhere near: a month and day alone are not a date
        if iso:
            found.append((_DATELINE_KIND, m.span(), iso))
    return sorted(found, key=lambda c: (c[0], c[1]))


def _line_dates(text: str, start: int, end: int) -> list[tuple[int | None, int, int, str]]:
    """The full dates in one line, each with its kind: labelled, bare, or None when in running prose."""
    line = text[start:end]
    out: list[tuple[int | None, int, int, str]] = []
    for s, e, iso in _find_dates(text, start, end):
        kind = None
        label = ([None, *_LABEL.finditer(text, start, s)])[-1]
        if label and _starts_field(text[start : label.start()]) and len(text[label.end() : s].split()) <= 2:
            kind = _PUBLISHED if label.group(1) else _UPDATED  # "Published on 15 May 2025"
        elif len(line.split()) - len(text[s:e].split()) <= 8 and not line.endswith((".", "!", "?")):
            kind = _BARE  # "Thursday 15 May 2025 10.32 BST", "Jane Doe · 15 May 2025"
        out.append((kind, s, e, iso))
    return out


def _starts_field(before: str) -> bool:
    """Whether a label preceded by `before` opens a field of page furniture ("Jane Doe | Published"),
    not a clause of prose ("a report published on 3 April")."""
    before = before.rstrip()
    return not before or before[-1] in "|·•,;:–—-" or before.split()[-1].lower() in ("first", "last", "originally")


def _nearest_year(near_iso: str, month: int, day: int) -> str | None:
    """The date of `month`/`day` closest to `near_iso` (a dateline in late December near a January date)."""
    near = dt.date.fromisoformat(near_iso)
    options = [_iso(near.year + k, month, day) for k in (-1, 0, 1)]
    valid = [dt.date.fromisoformat(o) for o in options if o]
    return min(valid, key=lambda d: abs(d - near)).isoformat() if valid else None


def _iso(year: int | str, month: int | str, day: int | str) -> str | None:
    month = _MONTHS[month.lower().rstrip(".")] if isinstance(month, str) and not month.isdigit() else int(month)
    try:
        date = dt.date(int(year), month, int(day))
    except ValueError:
        return None
    return date.isoformat() if 1900 <= date.year <= 2100 else None


# --- bylines in text ----------------------------------------------------------------------------


def _byline(text: str, start: int, end: int, head: list[tuple[int, int]]) -> list[tuple[int, int]]:
    """Spans of the author names if line `text[start:end]` is a byline, else []."""
    line = text[start:end]
    by = _BY.match(line)
    if by:
        prose = len(line.split()) > 15 or line.endswith((".", "!", "?"))  # "By Friday, talks had stalled."
        return [] if prose else _names(text, start + by.end(), end)
    split = _AFFILIATION.search(line)
    if split and _is_name(line[: split.start()]) and _is_affiliation(line[split.end() :]):
        return [(start, start + split.start())]  # "Jane Doe, BBC News"
    following = [s for s in head if s[0] > start][:1]
    if _is_name(line) and following and _is_affiliation(text[following[0][0] : following[0][1]]):
        return [(start, end)]  # "Jane Doe" above "Political correspondent, BBC News"
    return []


def _names(text: str, start: int, end: int) -> list[tuple[int, int]]:
    """The spans of a list of names starting at `start` ("Jane Doe, John Roe and Ann Poe"), up to
    the first piece that is not a name ("BBC News", a date, a role)."""
    stop = _END_SEP.search(text, start, end)
    end = stop.start() if stop else end
    names: list[tuple[int, int]] = []
    pos = start
    while pos < end:
        sep = _LIST_SEP.search(text, pos, end)
        piece_end = sep.start() if sep else end
        place = _IN_PLACE.search(text, pos, piece_end)
        name_end = place.start() if place else piece_end
        if not _is_name(text[pos:name_end]):
            # "Jane Doe May 15, 2025": the longest run of leading words that is a name ends the list.
            words = list(re.finditer(r"\S+", text[pos:name_end]))
            ends = [pos + w.end() for w in words[1:] if _is_name(text[pos : pos + w.end()])]
            if ends:
                names.append((pos, ends[-1]))
            break
        names.append((pos, name_end))
        pos = sep.end() if sep else end
    return names


def _is_name(piece: str) -> bool:
    """Whether `piece` reads as a person's name: 2-5 capitalised words, particles allowed inside."""
    tokens = piece.split()
    if not 2 <= len(tokens) <= 5 or not tokens[0][0].isupper() or not tokens[-1][0].isupper():
        return False
    for token in tokens:
        bare = token.lower().rstrip(".")
        if bare in _NEWS_WORDS or bare in _WEEKDAYS or bare in _MONTHS:
            return False
        if bare not in _PARTICLES and not (token[0].isupper() and all(c.isalpha() or c in ".'’-" for c in token)):
            return False
    return True


def _is_affiliation(piece: str) -> bool:
    """Whether `piece` is a short outlet or role ("BBC News", "Political correspondent")."""
    tokens = re.findall(r"\w+", piece.lower())
    return 0 < len(tokens) <= 8 and any(t in _NEWS_WORDS for t in tokens)


def _join(names: list[str]) -> str:
    return names[0] if len(names) == 1 else ", ".join(names[:-1]) + " and " + names[-1]


# --- markup -------------------------------------------------------------------------------------

_PUBLISHED_META = (
    "article:published_time", "og:published_time", "datepublished", "dc.date.issued", "dcterms.issued",
    "date", "pubdate", "publish-date", "publish_date", "publication_date",
)  # fmt: skip
_UPDATED_META = ("article:modified_time", "og:updated_time", "datemodified", "dcterms.modified")
_AUTHOR_META = ("byl", "author", "article:author", "dc.creator")


@dataclass(frozen=True)
class _Markup:
    published: str | None = None
    updated: str | None = None
    author: str | None = None


def _read_markup(html: str) -> _Markup:
    page = read_page_meta(html)
    article = next((o for o in page.json_ld if "datePublished" in o), {})
    published = [article.get("datePublished")] + [page.meta.get(k) for k in _PUBLISHED_META]
    published += [t.datetime for t in page.times if t.pubdate] + [t.datetime for t in page.times if t.in_article][:1]
    updated = [article.get("dateModified")] + [page.meta.get(k) for k in _UPDATED_META]
    authors = [_ld_author(o.get("author")) for o in [article, *page.json_ld] if o.get("author")]
    authors += [_clean_author(page.meta.get(k)) for k in _AUTHOR_META]
    authors += [_clean_author(a) for a in page.author_texts]
    return _Markup(
        published=next((d for d in map(_value_date, published) if d), None),
        updated=next((d for d in map(_value_date, updated) if d), None),
        author=next((a for a in authors if a), None),
    )


def _value_date(value: object) -> str | None:
    return parse_date(value) if isinstance(value, str) else None


def _ld_author(value: object) -> str | None:
    """A JSON-LD `author`: a name, a Person (not an Organization) with a name, or a list of those."""
    items = value if isinstance(value, list) else [value]
    names = []
    for item in items:
        if isinstance(item, dict):
            kind = item.get("@type")
            if "Organization" in (kind if isinstance(kind, list) else [kind]):
                continue
            item = item.get("name")
        name = _clean_author(item) if isinstance(item, str) else None
        if name:
            names.append(name)
    return _join(names) if names else None


def _clean_author(value: str | None) -> str | None:
    """A byline from markup without "By " and affiliation; None for a URL or an outlet's name."""
    if not value:
        return None
    value = " ".join(value.split())
    by = _BY.match(value)
    value = value[by.end() :] if by else value
    if not value or "/" in value or "@" in value:
        return None  # article:author is often a profile URL
    names = _names(value, 0, len(value))
    if names:
        return _join([value[s:e] for s, e in names])
    return None if _is_affiliation(value) or len(value.split()) > 5 else value
