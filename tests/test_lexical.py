"""Word matching: the terms BM25 indexes and the overlaps the citation check and prompts weigh."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from rag.lexical import coverage, restates, similar, terms
from rag.sentences import fold_accents, is_interrogative, words


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Erdoğan", ["erdogan"]),
        ("Dolmabahçe Palace", ["dolmabahce", "palace"]),
        ("Russia’s delegation", ["russia's", "delegation"]),
        ("plain ascii", ["plain", "ascii"]),
    ],
)
def test_words_fold_case_accents_and_apostrophes(text: str, expected: list[str]) -> None:
    assert words(text) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Russia's delegation", ["russia", "deleg"]),
        ("Russia’s delegation", ["russia", "deleg"]),
        ("who's heading ukraine's team", ["head", "ukrain", "team"]),
        ("there's no ceasefire", ["ceasefir"]),
        ("Erdoğan and erdogan", ["erdogan", "erdogan"]),
    ],
)
def test_terms_drop_stopwords_and_what_follows_an_apostrophe(text: str, expected: list[str]) -> None:
    assert terms(text) == expected


@pytest.mark.parametrize(
    ("a", "b", "expected"),
    [
        ("russia", "russian", True),  # a name and its adjective
        ("zelenski", "zelenskyy", True),  # "Zelensky" typed for "Zelenskyy"
        ("ukrain", "ukrainian", True),
        ("minist", "ministri", True),
        ("minist", "mission", False),
        ("talk", "talks", False),  # under five letters: only equal terms match
        ("talk", "talk", True),
        ("putin", "putting", False),
        ("medinski", "medinsky", True),
    ],
)
def test_similar_terms(a: str, b: str, expected: bool) -> None:
    assert similar(a, b) is expected


@given(st.text(alphabet="abcdefghz", min_size=0, max_size=10), st.text(alphabet="abcdefghz", min_size=0, max_size=10))
def test_similar_is_symmetric_and_reflexive(a: str, b: str) -> None:
    assert similar(a, b) == similar(b, a)
    assert similar(a, a)


@given(
    st.dictionaries(st.sampled_from("abcdefgh"), st.floats(min_value=0, max_value=10), max_size=6),
    st.lists(st.sampled_from("abcdefghij"), max_size=8),
)
def test_coverage_is_a_share(weights: dict[str, float], text_terms: list[str]) -> None:
    assert 0.0 <= coverage(weights, text_terms) <= 1.0 + 1e-9


def test_fold_accents_leaves_ascii_alone() -> None:
    assert fold_accents("Kyiv") == "Kyiv"
    assert fold_accents("Recep Tayyip Erdoğan") == "Recep Tayyip Erdogan"


@pytest.mark.parametrize(
    ("sentence", "asks"),
    [
        ("Who led Russia's delegation?", True),
        ("“Will Putin come?”", True),
        ("Is it over?!", True),
        ("(Why now?)", True),
        ("“Why?” he asked.", False),
        ("Medinsky led Russia's delegation.", False),
        ("The question mark (?) is a symbol.", False),
        ("", False),
    ],
)
def test_is_interrogative(sentence: str, asks: bool) -> None:
    assert is_interrogative(sentence) is asks


@pytest.mark.parametrize(
    ("sentence", "question", "echo"),
    [
        ("Who led Russia's delegation?", "Who led Russia's delegation?", True),
        ("Russia’s delegation was led.", "who led russia's delegation", True),
        ("The Russian delegation.", "Who led Russia's delegation?", True),  # "russian" is "russia"
        ("That is the delegation.", "Who led Russia's delegation?", True),
        ("Medinsky led Russia's delegation.", "Who led Russia's delegation?", False),
        ("The talks begin on Friday.", "When do the talks begin?", False),
    ],
)
def test_restates(sentence: str, question: str, echo: bool) -> None:
    assert restates(sentence, question) is echo
