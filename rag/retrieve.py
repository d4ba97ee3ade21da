"""Question → ranked `Passage`s: dense (FAISS) and BM25 candidates fused by reciprocal rank fusion.

Each retriever proposes `settings.candidates` chunks; a chunk's fused score is the sum over
retrievers of 1 / (rrf_k + rank). Chunks of one article that overlap (they share sentences by
construction) merge into one passage at the better rank, so the k passages are k distinct
stretches of text. It does not rerank with a cross-encoder or decide whether to answer.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from rag.embedding import Embedder
from rag.records import Chunk, Passage
from rag.settings import Settings
from rag.store import Index


@dataclass(frozen=True)
class Retrieval:
    passages: tuple[Passage, ...]
    query_vector: np.ndarray  # the question's unit vector, reused by the answerers


def retrieve(question: str, index: Index, embedder: Embedder, settings: Settings) -> Retrieval:
    query_vector = embedder.encode([question])[0]
    n = len(index.chunks)
    depth = min(settings.candidates, n)
    _, dense_rows = index.vectors.search(query_vector[None, :], depth)
    dense = [int(r) for r in dense_rows[0] if r >= 0]
    bm25_scores = index.bm25.scores(question)
    lexical = _top_rows(bm25_scores, depth)
    fused = reciprocal_rank_fusion([dense, lexical], settings.rrf_k)
    ranked = sorted(fused, key=lambda row: (-fused[row], row))
    passages = merge_overlapping([(index.chunks[r], fused[r]) for r in ranked], settings.k)
    return Retrieval(passages=tuple(passages), query_vector=query_vector)


def _top_rows(scores: np.ndarray, depth: int) -> list[int]:
    """Rows of the `depth` highest positive scores, best first (ties by row)."""
    positive = np.flatnonzero(scores > 0)
    if len(positive) > depth:
        positive = positive[np.argpartition(-scores[positive], depth - 1)[:depth]]
    return sorted(positive.tolist(), key=lambda r: (-scores[r], r))


def reciprocal_rank_fusion(rankings: list[list[int]], k: int = 60) -> dict[int, float]:
    """Sum over rankings of 1 / (k + rank), rank counting from 1."""
    fused: dict[int, float] = {}
    for ranking in rankings:
        for rank, item in enumerate(ranking, start=1):
            fused[item] = fused.get(item, 0.0) + 1.0 / (k + rank)
    return fused


def merge_overlapping(ranked: list[tuple[Chunk, float]], k: int) -> list[Passage]:
    """The first `k` distinct passages from chunks in rank order, overlapping chunks merged.

    A chunk that overlaps a chosen passage of the same article widens that passage instead of
    taking a new slot; the passage keeps its better score.
    """
    groups: list[list[Chunk]] = []
    scores: list[float] = []
    for chunk, score in ranked:
        for group in groups:
            if group[0].doc_id == chunk.doc_id and any(c.start < chunk.end and chunk.start < c.end for c in group):
                group.append(chunk)
                break
        else:
            if len(groups) == k:
                continue
            groups.append([chunk])
            scores.append(score)
    return [_passage(n, group, score) for n, (group, score) in enumerate(zip(groups, scores), start=1)]


def _passage(n: int, group: list[Chunk], score: float) -> Passage:
    """One passage spanning the union of `group`, whose chunks overlap and share an article."""
    pieces = sorted(group, key=lambda c: c.start)
    text, end = pieces[0].text, pieces[0].end
    for chunk in pieces[1:]:
        # The group is connected by overlaps, so in start order no chunk begins past `end`.
        if chunk.end > end:
            text += chunk.text[end - chunk.start :]
            end = chunk.end
    first = pieces[0]
    return Passage(
        n=n,
        doc_id=first.doc_id,
        source=first.source,
        title=first.title,
        start=first.start,
        end=end,
        text=text,
        score=round(score, 6),
    )
