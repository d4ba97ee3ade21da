"""The reader's input layout and the pure parts of reading a span back out."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from rag.embedding import bundled_model_dir
from rag.reader import widen_to_words
from rag.reader_input import (
    MAX_CONTEXT_TOKENS,
    MAX_QUESTION_TOKENS,
    MAX_SENTENCE_TOKENS,
    Pair,
    best_span,
    encode,
    load_tokenizer,
    token_span,
)


@pytest.fixture(scope="module")
def tokenizer():
    return load_tokenizer(str(bundled_model_dir() / "tokenizer.json"))


def test_layout_is_question_then_sentence_then_context(tokenizer) -> None:
    pair = Pair(
        "Who led Russia's delegation?", "It was led by Vladimir Medinsky.", "Peace talks", "Russia sent a team."
    )
    batch = encode(tokenizer, [pair])
    ids = batch.input_ids[0].tolist()
    cls, sep = tokenizer.token_to_id("[CLS]"), tokenizer.token_to_id("[SEP]")
    assert ids[0] == cls and ids.count(sep) == 3
    first, count = int(batch.sentence_start[0]), int(batch.sentence_length[0])
    assert ids[first - 1] == sep and ids[first + count] == sep
    assert tokenizer.decode(ids[first : first + count]) == "it was led by vladimir medinsky."
    types = batch.token_type_ids[0]
    assert (types[:first] == 0).all() and (types[first : len(ids)] == 1).all()


def test_batches_pad_to_the_longest_pair(tokenizer) -> None:
    batch = encode(tokenizer, [Pair("Who?", "Ada."), Pair("Who led the long delegation?", "Ada led it, then Bob.")])
    assert batch.input_ids.shape[0] == 2
    assert batch.attention_mask[0].sum() < batch.attention_mask[1].sum() == batch.input_ids.shape[1]
    assert (batch.input_ids[batch.attention_mask == 0] == 0).all()


def test_long_parts_are_cut_to_their_limits_keeping_the_words_nearest_the_sentence(tokenizer) -> None:
    long_question = "why " * 100
    previous = "start " + "filler " * 100 + "finale"
    batch = encode(tokenizer, [Pair(long_question, "word " * 200, "Title", previous)])
    ids = batch.input_ids[0].tolist()
    assert int(batch.sentence_start[0]) == MAX_QUESTION_TOKENS + 2
    assert int(batch.sentence_length[0]) == MAX_SENTENCE_TOKENS
    assert len(ids) == 4 + MAX_QUESTION_TOKENS + MAX_SENTENCE_TOKENS + MAX_CONTEXT_TOKENS  # CLS and three SEPs
    context = tokenizer.decode(ids[-MAX_CONTEXT_TOKENS - 1 : -1])
    assert context.startswith("title :") and context.endswith("finale") and "start" not in context


@settings(max_examples=50, deadline=None)
@given(st.text(alphabet=st.characters(codec="utf-8", exclude_categories=("Cs", "Cc")), min_size=1, max_size=120))
def test_sentence_offsets_point_into_the_sentence(sentence: str) -> None:
    tokenizer = load_tokenizer(str(bundled_model_dir() / "tokenizer.json"))
    batch = encode(tokenizer, [Pair("What?", sentence)])
    for start, end in batch.offsets[0]:
        assert 0 <= start <= end <= len(sentence)
    assert len(batch.offsets[0]) == int(batch.sentence_length[0])


@pytest.mark.parametrize(
    ("offsets", "span", "expected"),
    [
        ([(0, 2), (3, 6), (7, 15)], (3, 6), (1, 1)),
        ([(0, 2), (3, 6), (7, 15)], (3, 15), (1, 2)),
        ([(0, 2), (3, 6), (7, 11), (11, 15)], (7, 15), (2, 3)),  # a word of two word pieces
        ([(0, 2), (3, 6)], (7, 12), None),  # past the kept tokens
        ([], (0, 1), None),
    ],
)
def test_token_span(offsets, span, expected) -> None:
    assert token_span(offsets, *span) == expected


def test_best_span_picks_the_likeliest_ordered_pair_within_the_length_limit() -> None:
    start = np.array([0.0, 5.0, 0.0, 0.0, 4.0])
    end = np.array([0.0, 0.0, 0.0, 6.0, 0.0])
    first, last, p = best_span(start, end)
    assert (first, last) == (1, 3) and 0 < p < 1
    # An end before every likely start is never chosen: the span must run forward.
    first, last, _ = best_span(np.array([0.0, 0.0, 9.0]), np.array([9.0, 0.0, 0.0]))
    assert first <= last
    # Too long a span is not allowed.
    first, last, _ = best_span(np.array([9.0] + [0.0] * 30), np.array([0.0] * 30 + [9.0]), max_tokens=10)
    assert last - first < 10


@pytest.mark.parametrize(
    ("text", "span", "expected"),
    [
        ("led by Vladimir Medinsky, an ultra", (7, 17), "Vladimir Medinsky"),  # grown to whole words
        ("led by Vladimir Medinsky, an ultra", (7, 25), "Vladimir Medinsky"),  # trailing comma trimmed
        ("in 1856.", (3, 8), "1856"),
        ("on the Bosphorus", (6, 16), "Bosphorus"),
    ],
)
def test_widen_to_words(text: str, span: tuple[int, int], expected: str) -> None:
    start, end = widen_to_words(text, *span)
    assert text[start:end] == expected
