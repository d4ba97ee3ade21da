"""The records that travel through the pipeline: Article, Chunk, Hit, Evidence, Passage, Claim,
Citation, Answer.

All are frozen. Ids derive from content, so re-reading the same text yields the same ids. Every
`start`/`end` is a character offset into `Article.text`, the decoded text of the source file, and
`article.text[start:end]` is the record's text. These are plain data: no I/O, no behaviour
beyond small derived values.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field


def content_id(*parts: object) -> str:
    """A short, stable id for the given parts (16 hex digits of SHA-256)."""
    digest = hashlib.sha256("\x1f".join(str(p) for p in parts).encode("utf-8"))
    return digest.hexdigest()[:16]


@dataclass(frozen=True)
class Article:
    """One source file, decoded, or one item of a feed or archive export.

    `text` is the file's decoded text (for HTML, PDF and Word, the text extracted from it; for an
    item, its headline and text). `body` lists the spans of `text` that are article content: the
    headline and page furniture are outside them.
    """

    doc_id: str
    source: str  # path relative to the docs folder, with forward slashes; an item's is "path#key"
    title: str
    text: str
    body: tuple[tuple[int, int], ...]
    file_hash: str  # SHA-256 of the file's bytes (an item's: of its own content); decides whether it changed
    published: str | None = None  # ISO date (yyyy-mm-dd) the file states, if it states one
    author: str | None = None
    url: str | None = None  # the address the file or item states for itself (canonical link, feed link)


@dataclass(frozen=True)
class Chunk:
    """A window of whole sentences from one body span of an article."""

    chunk_id: str
    doc_id: str
    source: str
    title: str
    start: int
    end: int
    text: str
    published: str | None = None  # the article's date, ISO yyyy-mm-dd
    paragraphs: tuple[int, int] = (1, 1)  # first and last paragraph of the article body it covers, from 1


@dataclass(frozen=True)
class Evidence:
    """A sentence of an article that the reader read for one question, and what it made of it."""

    start: int  # the sentence, as offsets into the article
    end: int
    text: str
    probability: float  # that the sentence answers the question
    answer_start: int  # the short answer inside it, as offsets into the article
    answer_end: int
    answer_probability: float  # the reader's confidence in that span


@dataclass(frozen=True)
class Hit:
    """A candidate chunk for one question, before passages are labelled.

    `score` orders the hits: the fused retrieval score, or the reranker's score once one has run.
    """

    chunk: Chunk
    score: float
    fused_score: float  # the store's reciprocal rank fusion of its ranking by meaning and by words
    evidence: tuple[Evidence, ...] = ()  # the chunk's sentences a reranker read, best first

    @property
    def chunk_id(self) -> str:
        return self.chunk.chunk_id


@dataclass(frozen=True)
class Passage:
    """A retrieved piece of an article, labelled [n] for citation (n counts from 1)."""

    n: int
    doc_id: str
    source: str
    title: str
    start: int
    end: int
    text: str
    score: float  # the score of its best hit: higher is better, comparable within one question only
    evidence: tuple[Evidence, ...] = ()  # sentences of the passage a reranker read, best first
    published: str | None = None  # the article's date, ISO yyyy-mm-dd
    author: str | None = None  # the article's byline, when it states one
    paragraphs: tuple[int, int] = (1, 1)  # first and last body paragraph it covers, from 1
    also_in: tuple[str, ...] = ()  # other files holding the same story (near-duplicate copies)
    url: str | None = None  # the story's own address (canonical link, feed item link, export url); never fetched


@dataclass(frozen=True)
class Claim:
    """One sentence of an answer: its text without markers, the passage labels it cites, and
    whether the cited passages were found to support it (None when not checked)."""

    text: str
    labels: tuple[int, ...] = ()
    supported: bool | None = None


@dataclass(frozen=True)
class Citation:
    """A [n] marker of one claim and the exact sentence of passage n that backs it."""

    n: int
    doc_id: str
    source: str
    title: str
    start: int
    end: int
    quote: str
    claim: int = 0  # index of the claim (in Answer.claims) this citation backs
    # Whether the quoted sentence supports the claim; None when not checked.
    supported: bool | None = None
    support: float | None = None  # the support score the check computed
    score: float | None = None  # the reader's probability that the quote answers the question


@dataclass(frozen=True)
class Answer:
    """An answer made of claims; `text` is derived from them, markers in canonical form."""

    question: str
    claims: tuple[Claim, ...]
    abstained: bool
    citations: tuple[Citation, ...]
    passages: tuple[Passage, ...]
    answerer: str  # "reader" or "llama.cpp:<model file name>"
    short_answer: str | None = None  # the reader's short answer, when it gave one
    timings_ms: dict[str, float] = field(default_factory=dict, compare=False)

    @property
    def text(self) -> str:
        return format_claims(self.claims)


def format_claims(claims: tuple[Claim, ...] | list[Claim]) -> str:
    """Claims as answer text in canonical form: each claim followed by " [n, m]" when it cites."""
    return " ".join(f"{c.text} [{', '.join(map(str, c.labels))}]" if c.labels else c.text for c in claims)
