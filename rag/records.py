"""The records that travel through the pipeline: Article, Chunk, Passage, Citation, Answer.

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
    """One source file, decoded.

    `text` is the file's decoded text (for HTML, the text the markup reduces to). `body` lists the
    spans of `text` that are article content: the headline and page furniture are outside them.
    """

    doc_id: str
    source: str  # path relative to the docs folder, with forward slashes
    title: str
    text: str
    body: tuple[tuple[int, int], ...]
    file_hash: str  # SHA-256 of the file's bytes; decides whether the file changed


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
    score: float  # fused retrieval score: higher is better, comparable within one question only


@dataclass(frozen=True)
class Citation:
    """A [n] marker in an answer and the exact sentence of passage n that backs it."""

    n: int
    doc_id: str
    source: str
    title: str
    start: int
    end: int
    quote: str
    # Whether the quoted sentence supports the answer sentence; None when not checked.
    supported: bool | None = None
    support: float | None = None  # the support score the check computed


@dataclass(frozen=True)
class Answer:
    question: str
    text: str
    abstained: bool
    citations: tuple[Citation, ...]
    passages: tuple[Passage, ...]
    answerer: str  # "extractive" or "llama.cpp:<model file name>"
    timings_ms: dict[str, float] = field(default_factory=dict, compare=False)
