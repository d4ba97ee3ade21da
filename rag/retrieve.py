"""Question → `Hit`s (dense and BM25 candidates, fused), and `label(hits, k)` → `Passage`s [1]..[k].

`search` embeds the question and asks the store for `settings.candidates` chunks by meaning and as
many by words, fused by reciprocal rank fusion: a chunk's fused score is the sum over the rankings it
is in of 1 / (rrf_k + rank). The store fuses (FAISS in this process, Milvus in the server). `label` is the one place where the closed set
of citation labels is made: in hit order, chunks of one article that overlap (they share sentences
by construction) merge into one passage at the better hit's place, and the first k distinct
passages get the labels 1..k. Neither reranks nor decides whether to answer.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from rag.embedding import Embedder
from rag.records import Chunk, Evidence, Hit, Passage
from rag.settings import Settings
from rag.store import Dates, Store


def search(
    question: str, store: Store, embedder: Embedder, settings: Settings, dates: Dates | None = None
) -> list[Hit]:
    """The fused candidates for `question`, best first (ties by chunk id); only chunks of articles
    dated within `dates` when it is given (see `rag.store.Store.search`)."""
    vector = embedder.encode_query(question)
    found = store.search(vector, question, settings.candidates, settings.rrf_k, dates)
    return [Hit(chunk=chunk, score=score, fused_score=score) for chunk, score in found]


def label(
    hits: Sequence[Hit],
    k: int,
    also_in: Callable[[str], tuple[str, ...]] = lambda source: (),
    author: Callable[[str], str | None] = lambda source: None,
    url: Callable[[str], str | None] = lambda source: None,
) -> tuple[Passage, ...]:
    """The first `k` distinct passages from `hits` in order, overlapping chunks merged, labelled 1..k;
    `also_in(source)` names the other files holding the same story, `author(source)` the byline,
    `url(source)` the story's own address.

    A chunk that overlaps a chosen passage of the same article widens that passage instead of
    taking a new label (one that bridges two chosen passages joins them at the first one's place);
    the passage keeps its first hit's score. Evidence of merged hits is pooled.
    """
    groups: list[list[Hit]] = []
    for hit in hits:
        chunk = hit.chunk
        touched = [g for g in groups if g[0].chunk.doc_id == chunk.doc_id and any(_overlap(h.chunk, chunk) for h in g)]
        if touched:
            first = touched[0]
            first.append(hit)
            for other in touched[1:]:
                first.extend(other)
            groups = [g for g in groups if not any(g is other for other in touched[1:])]
        elif len(groups) < k:
            groups.append([hit])
    return tuple(_passage(n, group, also_in, author, url) for n, group in enumerate(groups, start=1))


def _overlap(a: Chunk, b: Chunk) -> bool:
    return a.start < b.end and b.start < a.end


def _passage(
    n: int,
    group: list[Hit],
    also_in: Callable[[str], tuple[str, ...]],
    author: Callable[[str], str | None],
    url: Callable[[str], str | None],
) -> Passage:
    """One passage spanning the union of the group's chunks, which overlap and share an article."""
    pieces = sorted((h.chunk for h in group), key=lambda c: c.start)
    text, end = pieces[0].text, pieces[0].end
    for chunk in pieces[1:]:
        # The group is connected by overlaps, so in start order no chunk begins past `end`.
        if chunk.end > end:
            text += chunk.text[end - chunk.start :]
            end = chunk.end
    first = pieces[0]
    evidence: dict[tuple[int, int], Evidence] = {}
    for hit in group:
        for e in hit.evidence:
            evidence.setdefault((e.start, e.end), e)
    return Passage(
        n=n,
        doc_id=first.doc_id,
        source=first.source,
        title=first.title,
        start=first.start,
        end=end,
        text=text,
        score=round(group[0].score, 6),
        evidence=tuple(sorted(evidence.values(), key=lambda e: -e.probability)),
        published=first.published,
        author=author(first.source),
        paragraphs=(pieces[0].paragraphs[0], max(c.paragraphs[1] for c in pieces)),
        also_in=also_in(first.source),
        url=url(first.source),
    )
