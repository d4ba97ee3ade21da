"""The eval's pure parts: answer matching, metrics, thresholds, the Q&A format and sampling."""

from __future__ import annotations

import json

import pytest
from hypothesis import given
from hypothesis import strategies as st

from eval.metrics import (
    Outcome,
    below_thresholds,
    contains_answer,
    exact_match,
    hit_rank,
    normalize,
    percentile,
    summarize,
    token_f1,
)
from eval.pairs import QAPair, parse_pair, sample
from rag.errors import RagError


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Dolmabahçe Palace", "dolmabahce palace"),
        ("  Recep  Tayyip\nErdoğan. ", "recep tayyip erdogan"),
        ("30-day ceasefire", "30 day ceasefire"),
        ("Nothing’s going to happen", "nothing s going to happen"),
        ("“root causes” – a phrase", "root causes a phrase"),
        ("ÉCOLE £5", "ecole 5"),
        ("ﬁne", "fine"),  # NFKD splits the ligature
        ("...", ""),
    ],
)
def test_normalize(text: str, expected: str) -> None:
    assert normalize(text) == expected


@pytest.mark.parametrize(
    ("text", "answers", "expected"),
    [
        ("The talks are at the Dolmabahce palace.", ["Dolmabahçe Palace"], True),
        ("led by Vladimir Medinsky, an ultra-conservative", ["Rustem Umerov", "Medinsky"], True),
        ("an immediate 30-day ceasefire", ["30 day"], True),
        ("he said 300 people", ["30"], False),  # word boundaries: no match inside a number
        ("Medinsky's team", ["Medinsky"], True),
        ("Moscow", ["Istanbul"], False),
        ("anything", [], False),
        ("anything", ["--"], False),  # an answer of only punctuation never matches
    ],
)
def test_contains_answer(text: str, answers: list[str], expected: bool) -> None:
    assert contains_answer(text, answers) is expected


@given(st.text(), st.text())
def test_an_answer_cut_from_the_text_matches_it(before: str, answer: str) -> None:
    # Any whole normalised word run of a text is found in it.
    words = normalize(before + " " + answer).split()
    if words:
        assert contains_answer(before + " " + answer, [" ".join(words[len(words) // 2 :])])


@pytest.mark.parametrize(
    ("passages", "expected"),
    [(["no", "Umerov here", "Umerov"], 2), (["Umerov"], 1), (["a", "b"], None), ([], None)],
)
def test_hit_rank(passages: list[str], expected: int | None) -> None:
    assert hit_rank(passages, ["Rustem Umerov", "Umerov"]) == expected


@pytest.mark.parametrize(
    ("values", "q", "expected"),
    [([], 50, None), ([7.0], 95, 7.0), ([1, 2, 3, 4], 50, 2.5), ([1, 2, 3, 4, 5], 95, 4.8), ([3, 1, 2], 0, 1)],
)
def test_percentile(values: list[float], q: float, expected: float | None) -> None:
    assert percentile(values, q) == (None if expected is None else pytest.approx(expected))


def outcome(
    answers=("x",), abstained=False, rank=None, answer=False, citation=False, ms=10.0, em=0.0, f1=0.0
) -> Outcome:
    return Outcome(tuple(answers), abstained, rank, answer, citation, ms, em, f1)


def test_summarize_counts_each_metric_over_its_own_questions() -> None:
    outcomes = [
        outcome(rank=1, answer=True, citation=True, ms=10, em=1.0, f1=1.0),  # right, the short answer exact
        outcome(rank=2, answer=True, citation=False, ms=20, f1=0.5),  # right, cited the wrong sentence
        outcome(rank=None, answer=False, ms=30),  # wrong answer, retrieval miss
        outcome(rank=4, abstained=True, ms=40, em=1.0, f1=1.0),  # wrongly abstained: its short answer counts 0
        outcome(answers=(), abstained=True, ms=50),  # rightly abstained
        outcome(answers=(), abstained=False, ms=60),  # should have abstained
    ]
    metrics = summarize(outcomes)
    assert metrics == {
        "n": 6,
        "n_answerable": 4,
        "n_unanswerable": 2,
        "hit_at_1": 0.25,
        "hit_at_k": 0.75,
        "mrr": round((1 + 1 / 2 + 1 / 4) / 4, 4),
        "answer_accuracy": 0.5,
        "citation_accuracy": round(1 / 3, 4),
        "short_answer_em": 0.25,
        "short_answer_f1": round(1.5 / 4, 4),
        "abstain_recall": 0.5,
        "abstain_precision": 0.5,
        "latency_ms": {"p50": 35.0, "p95": 57.5},
    }
    assert [o.passed for o in outcomes] == [True, True, False, False, True, False]


def test_summarize_leaves_empty_rates_unmeasured() -> None:
    metrics = summarize([outcome(answers=(), abstained=False)])
    assert metrics["hit_at_k"] is None and metrics["answer_accuracy"] is None and metrics["mrr"] is None
    assert metrics["abstain_recall"] == 0.0 and metrics["abstain_precision"] is None


@pytest.mark.parametrize(
    ("metrics", "thresholds", "expected"),
    [
        ({"a": 0.9, "b": 0.5}, {"a": 0.85, "b": 0.5}, []),
        ({"a": 0.8, "b": 0.4}, {"a": 0.85, "b": 0.5}, ["a 0.8000 < 0.85", "b 0.4000 < 0.50"]),
        ({"a": None}, {"a": 0.1}, ["a not measured (no questions of that kind) < 0.10"]),
    ],
)
def test_below_thresholds(metrics: dict, thresholds: dict, expected: list[str]) -> None:
    assert below_thresholds(metrics, thresholds) == expected


@pytest.mark.parametrize(
    ("line", "message"),
    [
        ("{", "not valid JSON"),
        ("[1]", "expected a JSON object"),
        ('{"question": "q", "answers": []}', "'id' must be"),
        ('{"id": "a", "question": " ", "answers": []}', "'question' must be"),
        ('{"id": "a", "question": "q", "answers": "x"}', "'answers' must be"),
        ('{"id": "a", "question": "q", "answers": [""]}', "'answers' must be"),
        ('{"id": "a", "question": "q", "answers": [], "doc": 3}', "'doc' must be"),
        (json.dumps({"id": "a", "question": "q" * 2001, "answers": []}), "longer than 2000"),
    ],
)
def test_bad_lines_name_the_problem(line: str, message: str) -> None:
    with pytest.raises(RagError, match=message) as caught:
        parse_pair(line, "qa.jsonl line 3")
    assert str(caught.value).startswith("qa.jsonl line 3: ") and "\n" not in str(caught.value)


def test_a_good_line_parses_and_ignores_extra_keys() -> None:
    pair = parse_pair('{"id": "a", "question": " Who? ", "answers": ["X"], "doc": "d.txt", "x": 1}', "w")
    assert pair == QAPair(id="a", question="Who?", answers=("X",), doc="d.txt")


def test_sample_is_reproducible_ordered_and_without_repeats() -> None:
    pairs = [QAPair(str(i), f"q{i}", ()) for i in range(100)]
    first, again, other = sample(pairs, 10, 0), sample(pairs, 10, 0), sample(pairs, 10, 1)
    assert first == again and first != other
    ids = [int(p.id) for p in first]
    assert ids == sorted(set(ids)) and len(ids) == 10
    assert sample(pairs, None, 0) == pairs and sample(pairs, 500, 0) == pairs
    with pytest.raises(RagError, match="--limit"):
        sample(pairs, 0, 0)


@pytest.mark.parametrize(
    ("prediction", "answers", "em", "f1"),
    [
        ("Vladimir Medinsky", ["Vladimir Medinsky"], 1.0, 1.0),
        ("the Dolmabahçe Palace", ["Dolmabahce Palace"], 1.0, 1.0),  # articles and accents do not count
        ("Medinsky", ["Vladimir Medinsky"], 0.0, 2 / 3),
        ("Vladimir Medinsky, an ultra-conservative", ["Vladimir Medinsky"], 0.0, 2 * (2 / 4) * 1 / (2 / 4 + 1)),
        ("Umerov", ["Vladimir Medinsky", "Medinsky"], 0.0, 0.0),
        ("1856", ["10 July 1856", "1856"], 1.0, 1.0),  # the best of the accepted answers
        ("", ["Medinsky"], 0.0, 0.0),
    ],
)
def test_short_answer_exact_match_and_f1(prediction: str, answers: list[str], em: float, f1: float) -> None:
    assert exact_match(prediction, answers) == em
    assert token_f1(prediction, answers) == pytest.approx(f1)
