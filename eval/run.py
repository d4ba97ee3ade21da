"""Runs Q&A pairs through the same `rag.pipeline.Pipeline` that `python -m rag.ask` uses.

`evaluate` builds (or refreshes) the index once, asks every question in one process, and
returns the report: the metrics of `eval.metrics.summarize`, which answerer ran, the settings,
and one row per question. `check` compares a report with `eval/thresholds.json`. It does not
print; `eval.__main__` does.
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path

from eval.jsonfile import read_json
from eval.metrics import Outcome, below_thresholds, contains_answer, exact_match, hit_rank, summarize, token_f1
from eval.pairs import QAPair
from rag.errors import RagError
from rag.pipeline import Answerer, Pipeline
from rag.records import Answer

EVAL_DIR = Path(__file__).resolve().parent
DEFAULT_QA = EVAL_DIR / "qa.jsonl"
DEFAULT_THRESHOLDS = EVAL_DIR / "thresholds.json"


def outcome(pair: QAPair, answer: Answer, latency_ms: float) -> Outcome:
    """Scores one answer against the pair's accepted answers.

    The answer is right when what a person is shown holds an accepted answer: the answer text, and
    for a short answer also the sentence it is quoted from (a short answer that trims "Vladimir" off
    "Vladimir Medinsky" still shows the whole sentence beneath it). The short answer alone is scored by
    exact match and F1 (the answer text stands in for it when there is none).
    """
    shown = answer.text
    if answer.short_answer and answer.citations:
        shown += " " + answer.citations[0].quote
    predicted = answer.short_answer or " ".join(c.text for c in answer.claims)
    return Outcome(
        answers=pair.answers,
        abstained=answer.abstained,
        rank=hit_rank([p.text for p in answer.passages], pair.answers) if pair.answers else None,
        answer_correct=bool(pair.answers) and contains_answer(shown, pair.answers),
        citation_correct=bool(pair.answers) and any(contains_answer(c.quote, pair.answers) for c in answer.citations),
        latency_ms=latency_ms,
        short_em=exact_match(predicted, pair.answers) if pair.answers else 0.0,
        short_f1=token_f1(predicted, pair.answers) if pair.answers else 0.0,
    )


def question_row(pair: QAPair, answer: Answer, result: Outcome) -> dict:
    return {
        "id": pair.id,
        "question": pair.question,
        "expected": list(pair.answers),
        "answer": answer.text,
        "short_answer": answer.short_answer,
        "abstained": answer.abstained,
        "hit_rank": result.rank,
        "passed": result.passed,
        "latency_ms": round(result.latency_ms, 1),
    }


def evaluate(
    pipeline: Pipeline,
    answerer: Answerer,
    pairs: list[QAPair],
    progress: Callable[[int, int], None] | None = None,
    index_progress: Callable | None = None,
) -> dict:
    """Asks every question of `pairs` through `pipeline` and `answerer`; returns the report dict.

    The index is refreshed once before the first question, and the first question is asked once
    untimed, so neither the index build nor model loading is in any question's latency.
    `progress(done, total)` is called after each question.
    """
    update = pipeline.refresh(progress=index_progress)
    if pairs:
        pipeline.ask(pairs[0].question, answerer)  # warm-up: loads the embedding model and any answerer model
    outcomes: list[Outcome] = []
    rows: list[dict] = []
    answerers: Counter[str] = Counter()
    for done, pair in enumerate(pairs, start=1):
        started = time.perf_counter()
        answer = pipeline.ask(pair.question, answerer)
        result = outcome(pair, answer, (time.perf_counter() - started) * 1000)
        outcomes.append(result)
        rows.append(question_row(pair, answer, result))
        answerers[answer.answerer] += 1
        if progress:
            progress(done, len(pairs))
    settings = pipeline.settings
    return {
        **summarize(outcomes),
        "answerer": answerers.most_common(1)[0][0] if answerers else None,
        "answerers": dict(answerers),
        "settings": {
            "docs_dir": str(settings.docs_dir),
            "index_dir": str(settings.index_dir),
            "files": update.files,
            "chunks": update.chunks,
            "embedding_model": settings.embedding_model,
            "model_path": None if settings.model_path is None else str(settings.model_path),
            "k": settings.k,
            "candidates": settings.candidates,
            "rrf_k": settings.rrf_k,
            "chunk_words": settings.chunk_words,
            "chunk_overlap_words": settings.chunk_overlap_words,
            "abstain_threshold": settings.abstain_threshold,
            "short_answer_threshold": settings.short_answer_threshold,
            "short_answer_exponent": settings.short_answer_exponent,
            "rerank": settings.rerank,
            "rerank_depth": settings.rerank_depth,
            "embedding_backend": pipeline.embedder.backend,
        },
        "per_question": rows,
    }


def load_thresholds(path: Path) -> dict[str, float]:
    """The minimum of each metric, from a JSON object of metric name to number."""
    data = read_json(
        path,
        f"Thresholds file {path} does not exist; pass --thresholds FILE.",
        f"Thresholds file {path} is not readable JSON",
    )
    minimums = data.get("minimums") if isinstance(data, dict) else None
    if not isinstance(minimums, dict) or not all(
        isinstance(v, (int, float)) and not isinstance(v, bool) for v in minimums.values()
    ):
        raise RagError(f'Thresholds file {path} must hold {{"minimums": {{"metric": number, ...}}}}.')
    return {str(k): float(v) for k, v in minimums.items()}


def check(report: dict, thresholds: dict[str, float]) -> list[str]:
    """The metrics of `report` below their thresholds, one line each; empty when all pass."""
    unknown = [key for key in thresholds if key not in report]
    if unknown:
        raise RagError(f"Thresholds name unknown metrics: {', '.join(unknown)}.")
    return below_thresholds(report, thresholds)
