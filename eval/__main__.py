"""`python -m eval`: answer quality on a Q&A file, as a table or JSON, optionally gated by thresholds.

Every question goes through the pipeline `python -m rag.ask` uses, in this one process, with
the index built once. `--check` exits 1 and names each metric below `eval/thresholds.json`.
User errors print one line and exit non-zero, as in `rag.ask`. It does not measure speed beyond
per-question latency: see `python -m eval.bench`.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

from eval.metrics import RATE_KEYS
from eval.pairs import load_pairs, sample
from eval.run import DEFAULT_QA, DEFAULT_THRESHOLDS, check, evaluate, load_thresholds
from rag.errors import RagError
from rag.progress import counter, indexing
from rag.settings import Settings


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m eval", description="Measure answer quality on fixed Q&A pairs.")
    p.add_argument("--qa", type=Path, default=DEFAULT_QA, help="Q&A pairs, JSON Lines (default eval/qa.jsonl)")
    p.add_argument("--docs", type=Path, dest="docs_dir", help="articles folder (default seeds/, env RAG_DOCS_DIR)")
    p.add_argument(
        "--index-dir",
        type=Path,
        help="index folder (default: env RAG_INDEX_DIR or index/; with --docs DIR, DIR-index/ beside DIR, "
        "so evaluating another corpus never replaces your index)",
    )
    p.add_argument("--k", type=int, help="passages to retrieve (default 5, env RAG_K)")
    p.add_argument("--limit", type=int, help="ask only this many questions, sampled with --seed")
    p.add_argument(
        "--seed", type=int, default=0, help="sampling seed: numpy.random.default_rng(SEED).choice (default 0)"
    )
    p.add_argument("--model", type=Path, dest="model_path", help="GGUF file for the llama.cpp answerer")
    p.add_argument("--embedding-model", help="sentence-transformers model name or folder")
    p.add_argument("--json", action="store_true", help="print the full report as one JSON object")
    p.add_argument("--report", type=Path, help="also write the full JSON report to this file")
    p.add_argument("--check", action="store_true", help="exit 1 if a metric is below its threshold")
    p.add_argument("--thresholds", type=Path, default=DEFAULT_THRESHOLDS, help="minimums for --check")
    return p


def settings_from_args(args: argparse.Namespace, env: dict[str, str] | None = None) -> Settings:
    env = dict(os.environ) if env is None else env
    index_dir = args.index_dir
    if index_dir is None and args.docs_dir is not None and not env.get("RAG_INDEX_DIR"):
        docs = args.docs_dir.resolve()
        index_dir = docs.parent / f"{docs.name}-index"
    return Settings.from_env(
        env,
        docs_dir=args.docs_dir,
        index_dir=index_dir,
        k=args.k,
        model_path=args.model_path,
        embedding_model=args.embedding_model,
    )


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    try:
        settings = settings_from_args(args)
        pairs = sample(load_pairs(args.qa), args.limit, args.seed)
        thresholds = load_thresholds(args.thresholds) if args.check else None
        from rag.pipeline import Pipeline, make_answerer

        pipeline = Pipeline(settings)
        answerer = make_answerer(settings, pipeline)
        report = evaluate(pipeline, answerer, pairs, progress=counter("Questions"), index_progress=indexing())
        report["settings"] = {**report["settings"], "qa": str(args.qa), "limit": args.limit, "seed": args.seed}
        failures = check(report, thresholds) if thresholds is not None else []
    except RagError as err:
        print(f"error: {err}", file=sys.stderr)
        return err.exit_code
    if args.report:
        args.report.parent.mkdir(parents=True, exist_ok=True)
        args.report.write_text(json.dumps(report, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    if args.json:
        print(json.dumps(report, ensure_ascii=False))
    else:
        print(format_table(report, thresholds))
    if failures:
        print(f"eval --check failed: {'; '.join(failures)}", file=sys.stderr)
        return 1
    return 0


def format_table(report: dict, thresholds: dict[str, float] | None = None) -> str:
    """The metrics as an aligned text table, then the questions that did not pass."""
    thresholds = thresholds or {}
    lines = [
        f"{report['n']} questions ({report['n_answerable']} answerable, {report['n_unanswerable']} unanswerable), "
        f"answerer {report['answerer']}, k={report['settings']['k']}",
        "",
        f"{'metric':<20}{'value':>8}{'minimum':>10}",
    ]
    for key in RATE_KEYS:
        value = report[key]
        shown = "-" if value is None else f"{value:.3f}"
        minimum = f"{thresholds[key]:.2f}" if key in thresholds else ""
        flag = "  BELOW" if key in thresholds and (value is None or value < thresholds[key]) else ""
        lines.append(f"{key:<20}{shown:>8}{minimum:>10}{flag}")
    latency = report["latency_ms"]
    lines.append(f"{'latency p50 / p95':<20}{_ms(latency['p50']):>8} / {_ms(latency['p95'])} ms")
    failed = [row for row in report["per_question"] if not row["passed"]]
    if failed:
        lines += ["", f"Not passed ({len(failed)}):"]
        for row in failed[:50]:
            expected = " | ".join(row["expected"]) or "(abstain)"
            lines.append(f"  {row['id']}: {row['question']}")
            lines.append(f"      expected {expected}; rank {row['hit_rank']}; got {_clip(row['answer'])}")
        if len(failed) > 50:
            lines.append(f"  ... and {len(failed) - 50} more (see --report)")
    return "\n".join(lines)


def _ms(value: float | None) -> str:
    return "-" if value is None else f"{value:.0f}"


def _clip(text: str, width: int = 100) -> str:
    return text if len(text) <= width else text[: width - 1] + "…"


if __name__ == "__main__":
    sys.exit(main())
