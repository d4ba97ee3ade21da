"""The shipped reader: its files and record, its readings against the full-precision reference, and
what the reader answerer makes of them."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from eval.reader_measure import SHORT_EXPONENTS
from rag.answer import ReaderAnswerer, short_answer_confidence
from rag.pipeline import Pipeline
from rag.prompts import NOT_FOUND
from rag.reader import MODEL_DIR, MODEL_FILE, Reader, bundled_tokenizer, record
from rag.reader_input import Pair
from rag.settings import Settings

#: How far the shipped file's probabilities may stray from the full-precision (fp32) model's on the
#: probe pairs: the shipped file keeps int8 weights (one scale per output channel and per embedding
#: row) and computes in float32, which moves the probes by 0.003 at most.
FP32_TOLERANCE = 0.02
#: How far the shipped file may stray from its own recorded readings, on any processor and in any
#: batch: float32 products differ across instruction sets and batch shapes only by rounding (1e-5).
SHIPPED_TOLERANCE = 1e-3


def test_the_weights_ship_with_their_record_reference_and_licence() -> None:
    weights = MODEL_DIR / MODEL_FILE
    assert weights.is_file() and weights.stat().st_size <= 30 * 1024 * 1024
    shipped = record()
    assert len(shipped["data"]["sha256"]) == 64 and shipped["data"]["licence"].startswith("CC BY-SA 4.0")
    held, fitted = set(shipped["data"]["held_out_articles"]), set(shipped["data"]["fitting_articles"])
    assert held and fitted and not held & fitted and not held & set(shipped["data"]["validation_articles"])
    assert shipped["training"]["steps"] > 0 and shipped["wall_seconds"] > 0
    assert {"validation", "held_out"} <= set(shipped["figures"])
    licence = (MODEL_DIR / "README.md").read_text(encoding="utf-8")
    assert "Apache License 2.0" in licence and "CC BY-SA 4.0" in licence


def reference() -> list[dict]:
    return json.loads((MODEL_DIR / "reference.json").read_text(encoding="utf-8"))


def probe_pairs() -> list[Pair]:
    return [Pair(r["question"], r["sentence"], r["title"], r["previous"]) for r in reference()]


#: Pairs of other shapes to read beside a probe: longer (so the probe is padded), shorter, alike.
FILLER = [
    Pair("Who was the first person to walk on the Moon?", "Neil Armstrong stepped onto the lunar surface " * 6),
    Pair("What?", "Yes."),
    Pair("Who led Russia's delegation?", "The delegation arrived late.", "Talks", "It rained."),
]


@pytest.mark.parametrize("row", reference(), ids=lambda r: r["question"][:30])
def test_the_probes_read_as_recorded_alone_and_in_a_batch_and_near_the_fp32_model(row: dict) -> None:
    pair = Pair(row["question"], row["sentence"], row["title"], row["previous"])
    [alone] = Reader().read([pair])
    *_, in_batch = Reader().read([*FILLER, *probe_pairs(), pair])
    for reading in (alone, in_batch):
        assert reading.probability == pytest.approx(row["shipped_probability"], abs=SHIPPED_TOLERANCE)
        assert reading.short_answer(pair.sentence) == row["shipped_short_answer"]
        assert reading.probability == pytest.approx(row["probability"], abs=FP32_TOLERANCE)
    if row["short_answer_probability"] >= 0.5:
        assert alone.short_answer(pair.sentence) == row["short_answer"]


def test_the_shipped_graph_computes_in_float32() -> None:
    """The session agrees with the same graph whose int8 weights numpy turned into float32, to
    float rounding; an integer kernel (dynamic quantization, MatMulNBits) would miss by 1e-3 or
    more, and differently on other processors."""
    import onnxruntime

    from eval.reader_graph import float32_model
    from rag.onnx_encoder import float32_session
    from rag.reader_input import encode, load_tokenizer

    path = MODEL_DIR / MODEL_FILE
    options = onnxruntime.SessionOptions()
    options.graph_optimization_level = onnxruntime.GraphOptimizationLevel.ORT_DISABLE_ALL
    plain = onnxruntime.InferenceSession(
        float32_model(path).SerializeToString(), options, providers=["CPUExecutionProvider"]
    )
    batch = encode(load_tokenizer(str(Reader().tokenizer_path or bundled_tokenizer())), [*probe_pairs(), *FILLER])
    feed = {
        "input_ids": batch.input_ids,
        "attention_mask": batch.attention_mask,
        "token_type_ids": batch.token_type_ids,
    }
    for expected, got in zip(plain.run(None, feed), float32_session(str(path)).run(None, feed), strict=True):
        assert np.abs(expected - got).max() < 1e-4


@settings(max_examples=12, deadline=None)
@given(st.lists(st.integers(0, len(FILLER) + 5), min_size=1, max_size=12), st.randoms(use_true_random=False))
def test_a_pairs_reading_does_not_depend_on_its_batch(picks: list[int], rng) -> None:
    pool = [*probe_pairs(), *FILLER]
    pairs = [pool[i % len(pool)] for i in picks]
    rng.shuffle(pairs)
    together = Reader().read(pairs)
    for pair, reading in zip(pairs, together, strict=True):
        [alone] = Reader().read([pair])
        assert reading.probability == pytest.approx(alone.probability, abs=1e-5)
        assert (reading.answer_start, reading.answer_end) == (alone.answer_start, alone.answer_end)


def test_the_answer_is_the_short_answer_quoting_its_whole_sentence(seed_pipeline: Pipeline) -> None:
    s = seed_pipeline.settings
    answerer = ReaderAnswerer(Reader(), s.abstain_threshold, s.short_answer_threshold, s.short_answer_exponent)
    answer = seed_pipeline.ask("Who led Russia's delegation?", answerer)
    assert answer.short_answer == "Vladimir Medinsky" and answer.text == "Vladimir Medinsky [1]"
    [citation] = answer.citations
    assert citation.n == 1 and "led by Vladimir Medinsky" in citation.quote and citation.score >= s.abstain_threshold
    assert answer.passages[0].n == 1 and citation.quote in answer.passages[0].text


def test_below_the_threshold_nothing_is_cited(seed_pipeline: Pipeline) -> None:
    answerer = ReaderAnswerer(Reader(), threshold=1.01, span_threshold=0.0)  # no sentence can reach it
    answer = seed_pipeline.ask("Who led Russia's delegation?", answerer)
    assert answer.abstained and answer.text == NOT_FOUND and answer.citations == ()


def test_the_default_thresholds_are_the_ones_the_training_record_chose() -> None:
    shipped, defaults = record(), Settings()
    assert defaults.abstain_threshold == shipped["abstain_threshold"]
    assert defaults.short_answer_threshold == shipped["short_answer_threshold"]
    assert defaults.short_answer_exponent == shipped["short_answer_exponent"]


@pytest.mark.parametrize(
    ("probability", "answer_probability", "exponent", "expected"),
    [
        (0.9, 0.5, 0.0, 0.5),  # the span's probability alone
        (0.9, 0.5, 1.0, 0.45),
        (0.5, 0.8, 2.0, 0.2),
        (1.0, 0.3, 16.0, 0.3),  # a certain sentence costs the span nothing
        (0.0, 0.9, 0.0, 0.9),
        (0.0, 0.9, 1.0, 0.0),
    ],
)
def test_a_short_answers_sureness_weights_its_span_by_its_sentence(
    probability: float, answer_probability: float, exponent: float, expected: float
) -> None:
    assert short_answer_confidence(probability, answer_probability, exponent) == pytest.approx(expected)


@given(
    st.floats(0.0, 1.0),
    st.floats(0.0, 1.0),
    st.sampled_from(SHORT_EXPONENTS),
    st.sampled_from(SHORT_EXPONENTS),
)
def test_weighting_the_sentence_more_never_makes_a_short_answer_surer(p: float, a: float, e1: float, e2: float) -> None:
    low, high = sorted((e1, e2))
    assert short_answer_confidence(p, a, high) <= short_answer_confidence(p, a, low) + 1e-12 <= a + 1e-12


def test_an_unsure_sentence_keeps_its_short_answer_back(seed_pipeline: Pipeline) -> None:
    question = "Who led Russia's delegation?"
    shown = seed_pipeline.ask(question, ReaderAnswerer(Reader(), 0.0, 0.0, 0.0))
    [citation] = shown.citations
    assert shown.short_answer == "Vladimir Medinsky" and citation.score < 1.0
    # The same span, its sentence's probability raised so far that the product falls under 0.01.
    exponent = math.log(0.001) / math.log(citation.score)
    held = seed_pipeline.ask(question, ReaderAnswerer(Reader(), 0.0, 0.01, exponent))
    assert held.short_answer is None and held.citations[0].quote == citation.quote
