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
import unicodedata
from dataclasses import asdict
from pathlib import Path

from rag.errors import RagError
from rag.records import Answer, Passage
from rag.settings import Settings


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m rag.ask", description="Answer a question from the articles.")
    p.add_argument("question", nargs="?", default="", help="the question, in quotes")
    p.add_argument("--k", type=int, help="passages to retrieve (default 5, env RAG_K)")
    p.add_argument("--docs", type=Path, dest="docs_dir", help="articles folder (default seeds/, env RAG_DOCS_DIR)")
    p.add_argument("--index-dir", type=Path, help="index folder (default index/, env RAG_INDEX_DIR)")
    p.add_argument(
        "--store", choices=("faiss", "milvus"), help="where chunks are kept and searched (default faiss, env RAG_STORE)"
    )
    p.add_argument("--embedding-model", help="sentence-transformers model name or folder (env RAG_EMBEDDING_MODEL)")
    p.add_argument("--since", help="only articles dated on or after this day, e.g. 2025-05-01 (env RAG_SINCE)")
    p.add_argument("--until", help="only articles dated on or before this day (env RAG_UNTIL)")
    p.add_argument("--json", action="store_true", help="print one JSON object instead of text")
    p.add_argument("--rebuild", action="store_true", help="re-embed every file before answering")
    g = p.add_argument_group("written answers with a local GGUF model (default: the reader, no model)")
    g.add_argument("--model", type=Path, dest="model_path", help="GGUF model file (env RAG_MODEL_PATH)")
    g.add_argument("--n-ctx", type=int, help="context window in tokens (default 2048, env RAG_N_CTX)")
    g.add_argument("--max-tokens", type=int, help="longest answer in tokens (default 256, env RAG_MAX_TOKENS)")
    g.add_argument("--temperature", type=float, help="sampling temperature (default 0, env RAG_TEMPERATURE)")
    g.add_argument(
        "--strict", action="store_true", default=None, help="constrain output so every sentence ends with [n]"
    )
    g.add_argument("--no-stream", action="store_true", help="print the answer when it is complete")
    return p


def main(argv: list[str] | None = None) -> int:
    p = parser()
    args = p.parse_args(argv)
    if not args.question.strip():
        p.print_usage(sys.stderr)
        print(f"{p.prog}: error: the question is empty; ask something about the articles.", file=sys.stderr)
        return 2
    started = time.perf_counter()
    streamed: list[str] | None = None  # the pieces printed so far, when streaming
    indexing_in: Path | None = None  # the index folder while it is being refreshed
    try:
        settings = Settings.from_env(
            k=args.k,
            docs_dir=args.docs_dir,
            index_dir=args.index_dir,
            store=args.store,
            embedding_model=args.embedding_model,
            model_path=args.model_path,
            n_ctx=args.n_ctx,
            max_tokens=args.max_tokens,
            temperature=args.temperature,
            strict=args.strict,
            since=args.since,
            until=args.until,
        )
        if settings.model_path is not None:
            from rag.generate import check_model_file

            check_model_file(settings.model_path)  # before indexing, so a wrong path fails at once
        from rag.pipeline import Pipeline, check_question, make_answerer
        from rag.progress import indexing

        question = check_question(args.question)
        pipeline = Pipeline(settings)
        indexing_in = settings.index_dir
        report = pipeline.refresh(rebuild=args.rebuild, progress=None if args.json else indexing(), notify=note)
        indexing_in = None
        print_report(report, quiet=args.json)
        empty = pipeline.empty_range()
        if empty:
            note(empty)
        answerer = make_answerer(settings, pipeline)
        if settings.model_path is not None and not (args.json or args.no_stream):
            streamed = []
            for event in pipeline.stream(question, answerer):
                if isinstance(event, Answer):
                    answer = event
                else:
                    print(event, end="", flush=True)  # tokens reach the terminal as they are made
                    streamed.append(event)
            print()
        else:
            answer = pipeline.ask(question, answerer)
    except RagError as err:
        if streamed:
            print()
        print(f"error: {err}", file=sys.stderr)
        return err.exit_code
    except KeyboardInterrupt:
        return interrupted(indexing_in)
    answer.timings_ms["wall"] = round((time.perf_counter() - started) * 1000, 1)
    if args.json:
        print(json.dumps(answer_json(answer), ensure_ascii=False))
    else:
        print(format_answer(answer, None if streamed is None else "".join(streamed)))
    return 0


def answer_json(answer: Answer) -> dict:
    """The --json object: question, answer, short_answer, abstained, answerer, claims, citations,
    passages, timings_ms."""
    return {
        "question": answer.question,
        "answer": answer.text,
        "short_answer": answer.short_answer,
        "abstained": answer.abstained,
        "answerer": answer.answerer,
        "claims": [asdict(c) for c in answer.claims],
        "citations": [asdict(c) for c in answer.citations],
        "passages": [{k: v for k, v in asdict(p).items() if k != "evidence"} for p in answer.passages],
        "timings_ms": answer.timings_ms,
    }


def format_answer(answer: Answer, streamed: str | None = None) -> str:
    """The answer, claim by claim with its markers and "(unsupported)" after a claim its cited
    passages do not back, then the sources: two lines each, whatever characters the file name,
    title or quote hold.

    `streamed` is the model's raw text, already printed; the checked answer is printed again only
    when it differs (markers added or normalised, a cut-off sentence dropped, flags).
    """
    text = " ".join(
        claim.text
        + (f" [{', '.join(map(str, claim.labels))}]" if claim.labels else "")
        + (" (unsupported)" if claim.supported is False else "")
        for claim in answer.claims
    )
    lines = [text] if streamed is None or text != streamed.strip() else []
    if streamed is not None and lines:
        lines.insert(0, "Checked answer:")
    passages = {p.n: p for p in answer.passages}
    if answer.citations:
        lines.append("")
        lines.append("Sources:")
        for c in answer.citations:
            flag = f" (unsupported: best match scores {c.support})" if c.supported is False else ""
            where = source_label(passages[c.n]) if c.n in passages else ""
            lines.append(
                f"[{c.n}] {printable(c.title)}{where} ({printable(c.source)}, characters {c.start}-{c.end}){flag}"
            )
            lines.append(f"    “{printable(' '.join(c.quote.split()))}”")
            if c.n in passages and passages[c.n].also_in:
                lines.append(f"    also in: {', '.join(printable(s) for s in passages[c.n].also_in)}")
            if c.n in passages and passages[c.n].url:
                lines.append(f"    link: {printable(passages[c.n].url)}")
    return "\n".join(lines).strip("\n")


def source_label(passage: Passage) -> str:
    """ " — 15 May 2025, by Jane Doe, paragraphs 3-5": the article's date and byline (each when it
    states one) and where in it."""
    first, last = passage.paragraphs
    date = human_date(passage.published) if passage.published else ""
    byline = f"by {printable(passage.author)}" if passage.author else ""
    where = f"paragraph {first}" if first == last else f"paragraphs {first}-{last}"
    return " — " + ", ".join(filter(None, [date, byline, where]))


def human_date(iso: str) -> str:
    """ "2025-05-15" → "15 May 2025"."""
    import datetime

    day = datetime.date.fromisoformat(iso)
    return f"{day.day} {day.strftime('%B')} {day.year}"


def printable(text: str) -> str:
    """`text` with control characters and line separators written as escapes (a newline as `\\n`,
    ESC as `\\x1b`), so a file name or title cannot break a Sources line or restyle the terminal."""
    return "".join(
        ch.encode("unicode_escape").decode("ascii") if unicodedata.category(ch) in ("Cc", "Zl", "Zp") else ch
        for ch in text
    )


def note(line: str) -> None:
    """One line to stderr for something the user should know that is not an error."""
    print(f"note: {line}.", file=sys.stderr, flush=True)


def interrupted(index_dir: Path | None) -> int:
    """Ctrl-C: one line saying what is left (nothing is half-saved), and the shell's code for SIGINT."""
    from rag.disk import POINTER

    if index_dir is None:
        line = "interrupted"
    elif (index_dir / POINTER).is_file():
        line = "interrupted; the previous index is still in use"
    else:
        line = "interrupted; no index was saved"
    print(line, file=sys.stderr)
    return 130


def print_report(report, quiet: bool) -> None:
    for source, reason in report.skipped:
        print(f"warning: skipped {printable(source)}: {printable(reason)}", file=sys.stderr)
    for line in report.notes:  # why a rebuild happened was said when it began (`notify`)
        note(line)
    if report.changed and not quiet:
        print(report.summary(), file=sys.stderr)


if __name__ == "__main__":
    sys.exit(main())
