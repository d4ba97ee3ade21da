"""Sentence boundaries and word tokens, as character spans into the text they came from.

A rule-based splitter for news prose: it ends a sentence at `.`, `!`, `?` or `…` (with any closing
quotes or brackets) followed by whitespace and an upper-case letter, digit or opening quote, and at
blank lines. It knows common abbreviations and initials ("Mr.", "U.S.", "J. K."). It does not
understand tables, lists without punctuation, or languages that do not mark sentences this way.
"""

from __future__ import annotations

import re
import unicodedata

_ABBREVIATIONS = frozenset(
    "mr mrs ms dr prof sr jr st mt gen col lt sgt capt gov sen rep rev hon pres vs etc inc ltd "
    "co corp no nos fig jan feb mar apr jun jul aug sep sept oct nov dec approx dept est univ "
    "e.g i.e u.s u.k u.n a.m p.m".split()
)

# A candidate end: terminal punctuation, optional closing quotes/brackets, then whitespace.
_END = re.compile(r"""[.!?…]+['"’”)\]]*(?=\s)""")
_NEXT_STARTS = re.compile(r"""\s+['"‘“(\[]?[A-Z0-9À-ÖØ-Þ]""")
_BLANK_LINE = re.compile(r"\n\s*\n")
_WORD = re.compile(r"\w+(?:['’]\w+)*", re.UNICODE)
# A question mark among a sentence's final punctuation, before any closing quotes or brackets.
_ASKS = re.compile(r"""\?[?!.…]*['"’”»)\]]*\s*$""")


def split_sentences(text: str, start: int = 0, end: int | None = None) -> list[tuple[int, int]]:
    """Spans of the sentences in `text[start:end]`, trimmed of surrounding whitespace."""
    end = len(text) if end is None else end
    spans: list[tuple[int, int]] = []
    for para_start, para_end in _paragraphs(text, start, end):
        cursor = para_start
        for match in _END.finditer(text, para_start, para_end):
            if not _NEXT_STARTS.match(text, match.end(), para_end):
                continue
            if match.group()[0] == "." and _is_abbreviation(text, para_start, match.start()):
                continue
            append_trimmed(spans, text, cursor, match.end())
            cursor = match.end()
        append_trimmed(spans, text, cursor, para_end)
    return spans


def is_interrogative(sentence: str) -> bool:
    """Whether `sentence` asks rather than tells: it ends with "?" ("Who led it?", "“Why?”")."""
    return _ASKS.search(sentence) is not None


def words(text: str) -> list[str]:
    """Lower-cased word tokens without accents and with curly apostrophes made straight
    ("Erdoğan" → "erdogan", "Russia’s" → "russia's"), so a question typed on a plain keyboard
    matches the article's spelling."""
    return [w.lower().replace("’", "'") for w in _WORD.findall(fold_accents(text))]


def fold_accents(text: str) -> str:
    """`text` with combining accents removed ("Dolmabahçe" → "Dolmabahce"); not offset-preserving."""
    if text.isascii():
        return text
    return "".join(ch for ch in unicodedata.normalize("NFKD", text) if not unicodedata.combining(ch))


def count_words(text: str, start: int = 0, end: int | None = None) -> int:
    return sum(1 for _ in _WORD.finditer(text, start, len(text) if end is None else end))


def word_spans(text: str, start: int = 0, end: int | None = None) -> list[tuple[int, int]]:
    """Spans of the words `count_words` counts in `text[start:end]`."""
    return [m.span() for m in _WORD.finditer(text, start, len(text) if end is None else end)]


def _paragraphs(text: str, start: int, end: int) -> list[tuple[int, int]]:
    spans = []
    cursor = start
    for match in _BLANK_LINE.finditer(text, start, end):
        spans.append((cursor, match.start()))
        cursor = match.end()
    spans.append((cursor, end))
    return spans


def _is_abbreviation(text: str, floor: int, dot: int) -> bool:
    """Whether the `.` at `dot` ends an abbreviation or an initial rather than a sentence."""
    i = dot
    while i > floor and not text[i - 1].isspace():
        i -= 1
    token = text[i:dot].lstrip("\"'“‘([").lower()
    if len(token) == 1 and token.isalpha():
        return True  # an initial: "J. K. Rowling"
    return token in _ABBREVIATIONS


def append_trimmed(spans: list[tuple[int, int]], text: str, start: int, end: int) -> None:
    """Appends `text[start:end]` without its surrounding whitespace to `spans`, unless nothing is left."""
    while start < end and text[start].isspace():
        start += 1
    while end > start and text[end - 1].isspace():
        end -= 1
    if start < end:
        spans.append((start, end))
