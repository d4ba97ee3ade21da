"""The benchmark's pure helpers (no timing assertions: the figures themselves are not tested)."""

from __future__ import annotations

import numpy as np
import pytest

from eval.bench import format_table, latency_summary, parse_sizes, peak_rss_mb, rate, tiled, unit_vectors
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


def test_peak_rss_is_positive() -> None:
    assert peak_rss_mb() > 10


def test_format_table_shows_every_figure_with_its_target() -> None:
    latency = {"p50": 12.0, "p95": 30.5, "mean": 15.0}
    results = {
        "build": {"raw_chunks_per_s": 80.0, "pipeline_chunks_per_s": 76.0, "ratio": 0.95},
        "reindex": {"seconds": 0.2},
        "retrieval": [
            {"chunks": 3000, "synthetic": False, "total_ms": latency},
            {"chunks": 1_000_000, "synthetic": True, "total_ms": latency},
        ],
        "cold_ask": {"median_seconds": 4.5, "peak_rss_mb": 600.0},
        "peak_rss_mb": {"after_corpus": 900.0, "end": 2500.0},
    }
    table = format_table(results)
    assert "0.950  >= 0.9" in table and "0.200  < 1" in table
    assert "retrieve @ 1,000,000 chunks (synthetic) p50/p95 ms  12.0 / 30.5" in table
    assert "retrieve @ 3,000 chunks p50/p95 ms" in table and "4.50" in table and "2500" in table
