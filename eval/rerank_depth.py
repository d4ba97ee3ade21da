"""`python -m eval.rerank_depth --squad squad-dev-v1.1.json --split reader-split.json`: how many of
the fused hits the reader needs to read, measured on the reader's validation slice.

The reranker (`rag.rerank`) reads every sentence of the first `rerank_depth` hits, and reading is
most of a question's time (about 12 ms a sentence on 2 cores). A hit it does not read can still be
shown, but never first, so depth only pays while the answer's passage is still being found. This
indexes the split's `train` articles, asks the validation questions named in the shipped training
record (`rag/reader_model/training.json`) with no reranker, and prints, for each depth, the share
whose answer is in one of the first `depth` hits, and the smallest depth keeping `RECALL` of them.
With `--held-out`, the same shares for the held-out questions (against all 48 dev articles) are
printed beside them, measured only. It does not read sentences, train or change a setting.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from pathlib import Path

from eval.metrics import contains_answer
from eval.reader_measure import write_docs
from eval.squad import load_part, load_squad
from rag.errors import RagError
from rag.reader import record
from rag.rerank import RERANK_DEPTH

#: The share of validation questions whose answer's passage the reader should get to read.
RECALL = 0.99
DEPTHS = range(1, 13)


def first_answering(docs: Path, index: Path, questions: list[tuple[str, list[str]]], deepest: int) -> list[int | None]:
    """For each question, the 1-based position of the first fused hit holding a gold answer (the
    reranker off), or None when none of the first `deepest` does."""
    from rag.pipeline import Pipeline
    from rag.settings import Settings

    pipeline = Pipeline(Settings.from_env(env={}, docs_dir=docs, index_dir=index), reranker=None)
    pipeline.refresh()
    found = []
    for question, answers in questions:
        passages = pipeline.passages(question, k=deepest)
        found.append(next((i + 1 for i, p in enumerate(passages) if contains_answer(p.text, answers)), None))
    return found


def recall_by_depth(positions: list[int | None], depths) -> dict[int, float]:
    """The share of questions whose first answering hit is within each depth."""
    return {d: round(sum(p is not None and p <= d for p in positions) / len(positions), 4) for d in depths}


def smallest_depth(recalls: dict[int, float], recall: float = RECALL) -> int:
    """The smallest depth reaching `recall`, else the depth with the highest (the smallest of ties)."""
    reaching = [d for d, r in sorted(recalls.items()) if r >= recall]
    return reaching[0] if reaching else max(sorted(recalls), key=lambda d: recalls[d])


def _questions(squad: list[dict], titles: set[str]) -> list[tuple[str, list[str]]]:
    return [
        (qa["question"], [a["text"] for a in qa["answers"]])
        for article in squad
        if article["title"] in titles
        for paragraph in article["paragraphs"]
        for qa in paragraph["qas"]
    ]


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m eval.rerank_depth", description=__doc__.split("\n\n")[0])
    p.add_argument("--squad", type=Path, required=True, help="SQuAD v1.1 dev JSON")
    p.add_argument("--split", type=Path, required=True, help="the split file (train / held_out titles)")
    p.add_argument("--held-out", action="store_true", help="also print the held-out questions' shares")
    args = p.parse_args(argv)
    try:
        squad = load_squad(args.squad)
        train, held = load_part(args.split, "train"), load_part(args.split, "held_out")
        validation = set(record()["data"]["validation_articles"])
        with tempfile.TemporaryDirectory() as tmp:
            work = Path(tmp)
            rows = {}
            parts = [("validation", train, validation)] + ([("held_out", train | held, held)] if args.held_out else [])
            for name, indexed, asked in parts:
                write_docs(work / name, squad, [i for i, a in enumerate(squad) if a["title"] in indexed])
                questions = _questions(squad, asked)
                found = first_answering(work / name, work / f"{name}-index", questions, max(DEPTHS))
                rows[name] = {"questions": len(questions), "recall": recall_by_depth(found, DEPTHS)}
                print(f"{name}: {json.dumps(rows[name])}", file=sys.stderr, flush=True)
    except RagError as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    print("depth | " + " | ".join(f"{name} ({row['questions']} questions)" for name, row in rows.items()))
    print("---|" + "---|" * len(rows))
    for d in DEPTHS:
        print(f"{d} | " + " | ".join(f"{row['recall'][d]:.4f}" for row in rows.values()))
    depth = smallest_depth(rows["validation"]["recall"])
    print(
        f"the smallest depth keeping {RECALL:.0%} of validation answers' passages: {depth} (rag.rerank reads {RERANK_DEPTH})"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
