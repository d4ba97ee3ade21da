"""`python -m rag.ask "question"`: answer one question about the articles from the terminal.

Builds or refreshes the index first (only changed files are embedded), then prints the answer and
a numbered source list, or with `--json` exactly one JSON object. User errors print one line to
stderr and exit non-zero (2 for usage, 1 otherwise); there is no interactive mode.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from dataclasses import asdict
from pathlib import Path

from rag.errors import RagError
from rag.records import Answer
from rag.settings import Settings


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m rag.ask", description="Answer a question from the articles.")
    p.add_argument("question", nargs="?", default="", help="the question, in quotes")
    p.add_argument("--k", type=int, help="passages to retrieve (default 5, env RAG_K)")
    p.add_argument("--docs", type=Path, dest="docs_dir", help="articles folder (default seeds/, env RAG_DOCS_DIR)")
    p.add_argument("--index-dir", type=Path, help="index folder (default index/, env RAG_INDEX_DIR)")
    p.add_argument("--embedding-model", help="sentence-transformers model name or folder (env RAG_EMBEDDING_MODEL)")
    p.add_argument("--json", action="store_true", help="print one JSON object instead of text")
    return p


def main(argv: list[str] | None = None) -> int:
    p = parser()
    args = p.parse_args(argv)
    if not args.question.strip():
        p.print_usage(sys.stderr)
        print(f"{p.prog}: error: the question is empty; ask something about the articles.", file=sys.stderr)
        return 2
    started = time.perf_counter()
    try:
        settings = Settings.from_env(
            k=args.k, docs_dir=args.docs_dir, index_dir=args.index_dir, embedding_model=args.embedding_model
        )
        from rag.pipeline import Pipeline, check_question

        question = check_question(args.question)
        pipeline = Pipeline(settings)
        report = pipeline.refresh(progress=None if args.json else print_progress)
        print_report(report, quiet=args.json)
        answer = pipeline.ask(question)
    except RagError as err:
        print(f"error: {err}", file=sys.stderr)
        return err.exit_code
    answer.timings_ms["wall"] = round((time.perf_counter() - started) * 1000, 1)
    print(json.dumps(answer_json(answer), ensure_ascii=False) if args.json else format_answer(answer))
    return 0


def answer_json(answer: Answer) -> dict:
    """The --json object: question, answer, abstained, citations, passages, timings_ms."""
    return {
        "question": answer.question,
        "answer": answer.text,
        "abstained": answer.abstained,
        "answerer": answer.answerer,
        "citations": [asdict(c) for c in answer.citations],
        "passages": [asdict(p) for p in answer.passages],
        "timings_ms": answer.timings_ms,
    }


def format_answer(answer: Answer) -> str:
    lines = [answer.text]
    if answer.citations:
        lines.append("")
        lines.append("Sources:")
        for c in answer.citations:
            lines.append(f"[{c.n}] {c.title} ({c.source}, characters {c.start}-{c.end})")
            lines.append(f"    “{c.quote}”")
    return "\n".join(lines)


def print_progress(done: int, total: int) -> None:
    width = 30
    filled = width * done // max(total, 1)
    print(f"\rEmbedding chunks [{'#' * filled}{'.' * (width - filled)}] {done}/{total}", end="", file=sys.stderr)
    if done >= total:
        print(file=sys.stderr)


def print_report(report, quiet: bool) -> None:
    for source, reason in report.skipped:
        print(f"warning: skipped {source}: {reason}", file=sys.stderr)
    if report.rebuilt_because and report.rebuilt_because != "rebuild requested":
        print(f"note: {report.rebuilt_because}.", file=sys.stderr)
    if report.changed and not quiet:
        print(report.summary(), file=sys.stderr)


if __name__ == "__main__":
    sys.exit(main())
