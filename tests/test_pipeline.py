"""The chain in `Pipeline.stream`: a new ranking stage is one callable, the labels follow its order,
and a question on an up-to-date index never imports torch."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from rag.pipeline import Pipeline
from rag.records import Hit
from rag.retrieve import label, search

REPO = Path(__file__).resolve().parent.parent
QUESTION = "Who led Russia's delegation?"


def reverse(question: str, hits: list[Hit]) -> list[Hit]:
    """A trivial reranking stage: the fused order, backwards."""
    return hits[::-1]


def test_a_reranker_is_one_callable_and_the_labels_follow_its_order(seed_pipeline: Pipeline) -> None:
    settings = seed_pipeline.settings
    store = seed_pipeline.store
    hits = search(QUESTION, store, seed_pipeline.embedder, settings)
    backwards = Pipeline(settings, reranker=reverse).passages(QUESTION, k=3)
    assert backwards == label(hits[::-1], 3, store.also_in)
    assert backwards != Pipeline(settings, reranker=None).passages(QUESTION, k=3)
    assert [p.n for p in backwards] == [1, 2, 3]


# A question asked the way `python -m rag.ask` asks it, reporting which heavy modules it imported.
PROBE = """
import json, sys
from rag.ask import main
code = main(sys.argv[1:])
print(json.dumps({"code": code, "torch": "torch" in sys.modules,
                  "sentence_transformers": "sentence_transformers" in sys.modules,
                  "transformers": "transformers" in sys.modules}))
"""


def test_a_question_on_an_up_to_date_index_does_not_import_torch(seed_pipeline: Pipeline) -> None:
    s = seed_pipeline.settings
    args = ["--docs", str(s.docs_dir), "--index-dir", str(s.index_dir), "--json", QUESTION]
    result = subprocess.run([sys.executable, "-c", PROBE, *args], capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr
    lines = result.stdout.strip().splitlines()
    answer, probe = json.loads(lines[0]), json.loads(lines[-1])
    assert answer["question"] == QUESTION and probe["code"] == 0
    assert probe == {"code": 0, "torch": False, "sentence_transformers": False, "transformers": False}
