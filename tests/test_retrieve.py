"""Fusion, merging and the cut to k: table tests, and a property that every passage is its article's slice."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from rag.articles import read_article
from rag.chunking import chunk_article
from rag.records import Chunk, Evidence, Hit
from rag.retrieve import label
from rag.store.faiss_bm25 import reciprocal_rank_fusion

TEXT = "Headline\n\nOne two. Three four. Five six. Seven eight. Nine ten.\n"


def chunk(doc: str, start: int, end: int, text: str = TEXT) -> Chunk:
    return Chunk(f"{doc}-{start}-{end}", doc, f"{doc}.txt", doc.title(), start, end, text[start:end])


def hit(c: Chunk, score: float = 1.0, evidence: tuple[Evidence, ...] = ()) -> Hit:
    return Hit(c, score, score, evidence)


@pytest.mark.parametrize(
    ("rankings", "k", "expected"),
    [
        ([["a", "b"], ["b", "a"]], 60, {"a": 1 / 61 + 1 / 62, "b": 1 / 62 + 1 / 61}),
        ([["a", "b"], ["c"]], 60, {"a": 1 / 61, "b": 1 / 62, "c": 1 / 61}),
        ([["a"], []], 10, {"a": 1 / 11}),
        ([[], []], 60, {}),
        ([["a", "b", "c"], ["c", "b", "a"]], 1, {"a": 1 / 2 + 1 / 4, "b": 2 / 3, "c": 1 / 4 + 1 / 2}),
    ],
)
def test_reciprocal_rank_fusion(rankings, k, expected) -> None:
    assert reciprocal_rank_fusion(rankings, k) == pytest.approx(expected)


# Sentence spans of TEXT: "One two." 10-18, "Three four." 19-30, "Five six." 31-40, "Seven eight." 41-53, "Nine ten." 54-63
A1, A2, A3 = chunk("a", 10, 30), chunk("a", 19, 40), chunk("a", 41, 63)
B1 = chunk("b", 10, 30)


@pytest.mark.parametrize(
    ("hits", "k", "expected"),
    [
        # Overlapping chunks of one article merge into one passage at the first one's place.
        ([A1, A2], 5, [("a", 10, 40)]),
        # Touching is not overlapping: A2 ends at 40, A3 starts at 41.
        ([A2, A3], 5, [("a", 19, 40), ("a", 41, 63)]),
        # The same offsets in another article do not merge.
        ([A1, B1], 5, [("a", 10, 30), ("b", 10, 30)]),
        # The cut: only k passages, but a later hit still widens a chosen one.
        ([A1, B1, A3, A2], 2, [("a", 10, 40), ("b", 10, 30)]),
        ([A3, A1, A2], 1, [("a", 41, 63)]),
        ([], 3, []),
    ],
)
def test_label_merges_overlaps_and_cuts_to_k(hits, k, expected) -> None:
    passages = label([hit(c) for c in hits], k)
    assert [(p.doc_id, p.start, p.end) for p in passages] == expected
    assert [p.n for p in passages] == list(range(1, len(expected) + 1))
    for p in passages:
        assert p.text == TEXT[p.start : p.end]


def test_labels_follow_hit_order_and_keep_the_first_score() -> None:
    passages = label([hit(B1, 0.9), hit(A1, 0.5), hit(A2, 0.7)], 5)
    assert [(p.n, p.doc_id, p.score) for p in passages] == [(1, "b", 0.9), (2, "a", 0.5)]


def test_merged_passages_pool_their_hits_evidence_best_first() -> None:
    e1 = Evidence(10, 18, "One two.", 0.2, 10, 13, 0.5)
    e2 = Evidence(31, 40, "Five six.", 0.9, 36, 39, 0.8)
    (passage,) = label([hit(A1, evidence=(e1,)), hit(A2, evidence=(e2, e1))], 3)
    assert passage.evidence == (e2, e1)


def test_a_passage_takes_its_articles_byline_from_the_lookup() -> None:
    passages = label([hit(A1), hit(B1)], 5, author={"a.txt": "Jane Doe"}.get)
    assert [(p.source, p.author) for p in passages] == [("a.txt", "Jane Doe"), ("b.txt", None)]


_word = st.text(alphabet="abcdefghij", min_size=1, max_size=6)
_sentence = st.lists(_word, min_size=1, max_size=12).map(lambda ws: " ".join([ws[0].capitalize(), *ws[1:]]) + ".")
_paragraph = st.lists(_sentence, min_size=1, max_size=8).map(" ".join)


@settings(max_examples=100, deadline=None)
@given(
    articles=st.lists(st.lists(_paragraph, min_size=1, max_size=5), min_size=1, max_size=3),
    k=st.integers(1, 6),
    order=st.randoms(use_true_random=False),
)
def test_every_passage_is_the_slice_of_its_article(articles, k, order) -> None:
    texts = {}
    chunks = []
    for i, paragraphs in enumerate(articles):
        article = read_article(f"a{i}.txt", ("Title\n\n" + "\n\n".join(paragraphs) + "\n").encode())
        texts[article.doc_id] = article.text
        chunks += chunk_article(article, max_words=20, overlap_words=5)
    order.shuffle(chunks)
    passages = label([hit(c) for c in chunks], k)
    assert len(passages) == min(k, len(passages)) and [p.n for p in passages] == list(range(1, len(passages) + 1))
    for p in passages:
        assert texts[p.doc_id][p.start : p.end] == p.text
    # No two passages of one article overlap.
    for a in passages:
        for b in passages:
            if a is not b and a.doc_id == b.doc_id:
                assert a.end <= b.start or b.end <= a.start
