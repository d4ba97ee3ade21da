"""`python -m eval.rerank_depth`: recall by depth, the depth rule, and the real search on two tiny articles."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from eval.rerank_depth import first_answering, main, recall_by_depth, smallest_depth


@pytest.mark.parametrize(
    ("positions", "depths", "expected"),
    [
        ([1, 2, None, 5], [1, 2, 5], {1: 0.25, 2: 0.5, 5: 0.75}),
        ([None, None], [1, 3], {1: 0.0, 3: 0.0}),
        ([3, 3, 3], [2, 3, 4], {2: 0.0, 3: 1.0, 4: 1.0}),
    ],
)
def test_recall_by_depth_counts_answers_within_each_depth(positions, depths, expected) -> None:
    assert recall_by_depth(positions, depths) == expected


@pytest.mark.parametrize(
    ("recalls", "recall", "expected"),
    [
        ({1: 0.86, 4: 0.982, 5: 0.9901, 8: 0.9917}, 0.99, 5),
        ({1: 0.86, 4: 0.982, 5: 0.9901, 8: 0.9917}, 0.995, 8),  # none reaches it: the best, smallest of ties
        ({1: 0.5, 2: 0.9, 3: 0.9}, 0.95, 2),
        ({1: 1.0, 2: 1.0}, 0.99, 1),
    ],
)
def test_the_depth_is_the_smallest_that_keeps_the_recall(recalls, recall, expected) -> None:
    assert smallest_depth(recalls, recall) == expected


def test_the_first_answering_hit_is_found_by_the_real_search(tmp_path: Path) -> None:
    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "a.txt").write_text("Beignets\n\nCafé du Monde is known for beignets and coffee.\n", encoding="utf-8")
    (docs / "b.txt").write_text("Ferries\n\nThe ferry crosses the river every half hour.\n", encoding="utf-8")
    asked = [("How often does the ferry cross?", ["every half hour"]), ("Who wrote Hamlet?", ["Shakespeare"])]
    assert first_answering(docs, tmp_path / "index", asked, 2) == [1, None]


def test_a_bad_split_is_one_line_error(tmp_path: Path, capsys) -> None:
    squad = tmp_path / "squad.json"
    squad.write_text(json.dumps({"version": "1.1", "data": []}), encoding="utf-8")
    split = tmp_path / "split.json"
    split.write_text(json.dumps({"train": ["A"]}), encoding="utf-8")
    assert main(["--squad", str(squad), "--split", str(split)]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("error: ") and "held_out" in err and "\n" not in err
