"""The benchmark's pure helpers (no timing assertions: the figures themselves are not tested)."""

from __future__ import annotations

import numpy as np
import pytest

from eval.bench import format_table
from eval.bench_runs import latency_summary, longest_gap, parse_sizes, rate, tiled, tiled_bm25, unit_vectors
from rag.errors import RagError


@pytest.mark.parametrize(("count", "seconds", "expected"), [(100, 4.0, 25.0), (10, 3.0, 3.3), (5, 0.0, 0.0)])
def test_rate(count: int, seconds: float, expected: float) -> None:
    assert rate(count, seconds) == expected


def test_latency_summary() -> None:
    assert latency_summary([4.0, 1.0, 3.0, 2.0]) == {"p50": 2.5, "p95": 3.85, "mean": 2.5}
    assert latency_summary([]) == {"p50": None, "p95": None, "mean": None}


def test_tiled_repeats_the_same_objects_in_order() -> None:
    items = [["a"], ["b"], ["c"]]
    out = tiled(items, 7)
    assert out == [["a"], ["b"], ["c"], ["a"], ["b"], ["c"], ["a"]] and out[3] is items[0]
    assert tiled(items, 2) == [["a"], ["b"]]
    with pytest.raises(ValueError):
        tiled([], 3)


def test_unit_vectors_have_length_one_and_depend_on_the_seed() -> None:
    a, b, c = unit_vectors(50, 8, 0), unit_vectors(50, 8, 0), unit_vectors(50, 8, 1)
    assert a.dtype == np.float32 and a.shape == (50, 8)
    assert np.allclose(np.linalg.norm(a, axis=1), 1.0, atol=1e-5)
    assert np.array_equal(a, b) and not np.array_equal(a, c)


@pytest.mark.parametrize(
    ("text", "expected"),
    [("100000,1000000", [100_000, 1_000_000]), ("100k, 1M", [100_000, 1_000_000]), ("", []), ("5", [5])],
)
def test_parse_sizes(text: str, expected: list[int]) -> None:
    assert parse_sizes(text) == expected


@pytest.mark.parametrize("text", ["lots", "1g", "0", "-5", "k"])
def test_parse_sizes_rejects_nonsense(text: str) -> None:
    with pytest.raises(RagError, match="--sizes"):
        parse_sizes(text)


@pytest.mark.parametrize(
    ("stamps", "end", "expected"),
    [([1.0, 4.0, 6.0], 10.0, 4.0), ([], 7.5, 7.5), ([9.0], 9.5, 9.0), ([2.0, 2.0], 3.0, 2.0)],
)
def test_longest_gap_counts_the_start_and_the_end(stamps, end, expected) -> None:
    assert longest_gap(stamps, 0.0, end) == expected


def test_tiled_bm25_scores_each_copy_as_its_original() -> None:
    from rag.bm25 import Bm25

    base = Bm25()
    base.upsert([5, 6, 7], ["delegation led by Medinsky", "Umerov heads the team", "palace on the Bosphorus"])
    big = tiled_bm25(base, 8)
    assert big.ids.tolist() == list(range(8))
    scores = big.scores("Medinsky palace")
    assert np.allclose(scores[[0, 3, 6]], scores[0]) and np.allclose(scores[[2, 5]], scores[2])
    assert scores[1] == scores[4] == scores[7] == 0


def test_format_table_shows_every_figure_with_its_target() -> None:
    latency = {"p50": 12.0, "p95": 30.5, "mean": 15.0}
    results = {
        "startup": {
            "python_pass": {"median_seconds": 0.02},
            "import_torch": {"median_seconds": 5.9},
            "cold_ask": {"median_seconds": 1.21, "peak_rss_mb": 350.0},
        },
        "warm": {"seed": {"total_ms": latency, "reader_ms": latency}},
        "retrieval": [{"chunks": 1_000_000, "synthetic": True, "total_ms": latency}],
        "peak_rss_mb": 2500.0,
    }
    table = format_table(results)
    assert "cold rag.ask wall (s, median)" in table and "1.21  <= 1.5" in table
    assert "warm question p95 ms (seed)" in table and "30  <= 1200" in table
    assert "retrieve @ 1,000,000 chunks (synthetic) p50 ms" in table and "2500" in table
