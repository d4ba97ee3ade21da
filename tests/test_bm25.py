"""BM25 keyed by chunk id: scores against a direct computation, and changes equal a fresh build."""

from __future__ import annotations

import math
from collections import Counter

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from rag.bm25 import K1, B, Bm25
from rag.lexical import terms

TEXTS = {
    11: "Russia's delegation was led by Vladimir Medinsky.",
    12: "Ukraine's delegation was headed by Rustem Umerov, the defence minister.",
    13: "The talks took place at the Dolmabahçe Palace on the Bosphorus.",
    14: "Zelenskyy travelled to Ankara to meet Erdoğan.",
}


def build(texts: dict[int, str]) -> Bm25:
    index = Bm25()
    index.upsert(list(texts), list(texts.values()))
    return index


def direct_score(query: str, texts: dict[int, str], doc: int) -> float:
    """BM25 (Lucene idf, no (k1+1) factor) written out term by term."""
    counts = {i: Counter(terms(t)) for i, t in texts.items()}
    average = sum(sum(c.values()) for c in counts.values()) / len(counts)
    total = 0.0
    for term in dict.fromkeys(terms(query)):
        df = sum(term in c for c in counts.values())
        tf = counts[doc][term]
        if df == 0 or tf == 0:
            continue
        idf = math.log(1 + (len(texts) - df + 0.5) / (df + 0.5))
        length = sum(counts[doc].values())
        total += idf * tf / (tf + K1 * (1 - B + B * length / average))
    return total


@pytest.mark.parametrize(
    ("query", "best"),
    [
        ("Who led Russia's delegation?", 11),
        ("who heads ukraine's team", 12),
        ("where is the dolmabahce palace", 13),
        ("erdogan", 14),
    ],
)
def test_search_ranks_the_chunk_that_shares_the_words_first(query: str, best: int) -> None:
    index = build(TEXTS)
    hits = index.search(query, depth=4)
    assert hits[0][0] == best
    for chunk_id, score in hits:
        assert score == pytest.approx(direct_score(query, TEXTS, chunk_id), rel=1e-5)


def test_a_query_with_no_known_term_finds_nothing() -> None:
    assert build(TEXTS).search("photosynthesis chlorophyll", depth=3) == []


def test_save_and_load_give_the_same_scores_memory_mapped(tmp_path) -> None:
    index = build(TEXTS)
    index.save(tmp_path / "bm25")
    loaded = Bm25.load(tmp_path / "bm25")
    assert isinstance(loaded.ids, np.memmap)
    assert loaded.search("delegation minister", 4) == index.search("delegation minister", 4)
    assert loaded.stats.idf(terms("delegation")[0]) == pytest.approx(index.stats.idf(terms("delegation")[0]))


def test_load_refuses_arrays_that_disagree(tmp_path) -> None:
    build(TEXTS).save(tmp_path / "bm25")
    np.save(tmp_path / "bm25" / "ids.npy", np.array([1, 2], dtype=np.int64))
    with pytest.raises(ValueError, match="do not agree"):
        Bm25.load(tmp_path / "bm25")


def test_term_stats_spell_a_missing_term_the_corpus_way() -> None:
    stats = build(TEXTS).stats
    assert stats.known(terms("Medinsky")[0]) and stats.df(terms("delegation")[0]) == 2
    assert stats.spelled_as(terms("zelensky")[0]) == terms("Zelenskyy")[0]
    assert stats.idf("unseenterm") > stats.idf(terms("delegation")[0])


WORDS = ["talks", "delegation", "palace", "minister", "ankara", "russia", "ukraine", "peace", "bosphorus", "envoy"]


@settings(max_examples=60, deadline=None)
@given(
    st.lists(
        st.tuples(
            st.sampled_from(["upsert", "delete"]), st.integers(0, 6), st.lists(st.sampled_from(WORDS), max_size=6)
        ),
        max_size=12,
    ),
    st.lists(st.sampled_from(WORDS), min_size=1, max_size=3),
)
def test_any_sequence_of_changes_scores_like_a_fresh_build(changes, query_words) -> None:
    index = Bm25()
    held: dict[int, str] = {}
    for action, chunk_id, words in changes:
        if action == "upsert":
            index.upsert([chunk_id], [" ".join(words)])
            held[chunk_id] = " ".join(words)
        else:
            index.delete([chunk_id])
            held.pop(chunk_id, None)
    fresh = build(dict(sorted(held.items())))
    query = " ".join(query_words)
    assert dict(index.search(query, 10)) == pytest.approx(dict(fresh.search(query, 10)), rel=1e-5)
    assert sorted(index.ids.tolist()) == sorted(held)
