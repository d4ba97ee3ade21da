"""The shipped reader: its files and record, its readings against the full-precision reference, and
what the reader answerer makes of them."""

from __future__ import annotations

import json

import pytest

from rag.answer import ReaderAnswerer
from rag.pipeline import Pipeline
from rag.prompts import NOT_FOUND
from rag.reader import MODEL_DIR, MODEL_FILE, Reader, record
from rag.reader_input import Pair
from rag.settings import Settings

#: How far the shipped int8 file's probabilities may stray from the fp32 model's on the probe pairs.
#: Dynamic quantization moves them: at most 0.085 on these probes, at most 0.18 (mean 0.019) over
#: 48 seed pairs; the record's `int8_against_fp32` gives what that costs in answers.
FP32_TOLERANCE = 0.1
#: How far the shipped file may stray from its own recorded readings: only rounding (a pair is read
#: alone, so nothing else in a call moves its score).
INT8_TOLERANCE = 1e-3


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


@pytest.mark.parametrize("row", reference(), ids=lambda r: r["question"][:30])
def test_int8_reads_the_probes_as_recorded_and_near_the_fp32_model(row: dict) -> None:
    pair = Pair(row["question"], row["sentence"], row["title"], row["previous"])
    [reading] = Reader().read([pair])
    assert reading.probability == pytest.approx(row["int8_probability"], abs=INT8_TOLERANCE)
    assert reading.short_answer(pair.sentence) == row["int8_short_answer"]
    assert reading.probability == pytest.approx(row["probability"], abs=FP32_TOLERANCE)
    if row["short_answer_probability"] >= 0.5:
        assert reading.short_answer(pair.sentence) == row["short_answer"]


def test_readings_keep_the_order_of_the_pairs_whatever_their_lengths() -> None:
    pairs = [Pair(r["question"], r["sentence"], r["title"], r["previous"]) for r in reference()]
    together = Reader().read(pairs)
    alone = [Reader().read([p])[0] for p in pairs]
    assert [round(r.probability, 4) for r in together] == [round(r.probability, 4) for r in alone]


def test_the_answer_is_the_short_answer_quoting_its_whole_sentence(seed_pipeline: Pipeline) -> None:
    s = seed_pipeline.settings
    answerer = ReaderAnswerer(Reader(), s.abstain_threshold, s.short_answer_threshold)
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
