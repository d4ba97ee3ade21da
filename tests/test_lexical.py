"""Word matching and answer types: the pure functions the extractive answerer scores with."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from rag.extractive import AGE, CLOCK, COUNT, DATE, DURATION, PERSON, PLACE, answer_type, has_answer_type
from rag.lexical import coverage, name_terms, restates, similar, terms
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


def test_name_terms_are_words_capitalised_inside_sentences() -> None:
    sentences = [
        "Talks began in Istanbul on Friday.",
        "Medinsky led the team to Istanbul.",
        "The team waited.",
    ]
    names = name_terms(sentences)
    assert {"istanbul", "friday"} <= names
    assert "team" not in names and "talk" not in names


@pytest.mark.parametrize(
    ("question", "expected"),
    [
        ("Who led Russia's delegation?", PERSON),
        ("who's heading up ukraine's team?", PERSON),
        ("Where will the talks take place?", PLACE),
        ("Where was Trump when he told reporters that?", PLACE),  # the first question word decides
        ("When do the talks begin?", DATE),
        ("What day do the talks kick off?", DATE),
        ("How old is Vladimir Medinsky?", AGE),
        ("What time on Friday do the talks start?", CLOCK),
        ("How long are the talks supposed to last?", DURATION),
        ("How many journalists waited in Istanbul?", COUNT),
        ("Which palace hosts the negotiations?", PLACE),
        ("Why did Zelenskyy send a delegation?", None),
        ("During what time period did inequality fall?", None),
        ("When the vote gave a majority, what was it the first of?", None),
        ("What did Trump say about the talks?", None),
    ],
)
def test_answer_type(question: str, expected: str | None) -> None:
    assert answer_type(question) == expected


@pytest.mark.parametrize(
    ("sentence", "wanted", "expected"),
    [
        ("The talks are set to begin on Friday.", DATE, True),
        ("The talks took place in 2022.", DATE, True),
        ("The talks will happen later.", DATE, False),
        ("Trade grew in the 1970s.", DATE, True),
        ("It was built in the 9th century.", DATE, True),
        ("Medinsky, 54, led the team.", AGE, True),
        ("Medinsky led hundreds of officials.", AGE, False),
        ("The talks start at 10am.", CLOCK, True),
        ("On Wednesday evening the Kremlin announced it.", CLOCK, True),
        ("The talks start on Friday.", CLOCK, False),
        ("Kyiv wants an immediate 30-day ceasefire.", DURATION, True),
        ("Journalists camped out for hours.", DURATION, True),
        ("The talks will be short.", DURATION, False),
        ("Hundreds of journalists waited.", COUNT, True),
        ("The talks failed.", COUNT, False),
        ("The route is 2000 km long.", COUNT, True),
        ("The laws reduce to one law.", COUNT, True),
        ("No one can claim Ukraine is responsible.", COUNT, False),
        ("The section is 86 km long.", DURATION, True),  # "how long" asks for lengths too
        ("Putin met Trump.", PERSON, True),
        ("the talks went on.", PERSON, False),
        ("Anything at all.", None, False),
    ],
)
def test_has_answer_type(sentence: str, wanted: str | None, expected: bool) -> None:
    assert has_answer_type(sentence, wanted, set()) is expected


def test_has_answer_type_ignores_what_the_question_already_names() -> None:
    assert not has_answer_type("The talks begin on Friday.", DATE, {"friday"})


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
