"""`python -m eval.squad PATH --out DIR`: a SQuAD v1.1/v2.0 JSON file → DIR/docs/*.txt + DIR/qa.jsonl.

Each Wikipedia article becomes one plain-text file: its title (underscores as spaces) on the
first line, then its paragraphs, separated by blank lines. Each question becomes one line of
the Q&A format (`eval.pairs`) with its distinct gold answer strings; v2.0's impossible
questions get `answers: []`. With `--hold-out`, every second article is left out of docs/ and
its questions are kept with `answers: []`: the out-of-corpus abstention test. With `--split FILE
--part NAME` (the reader split: `train` or `held_out`), only the questions of that part's articles
are written, while docs/ keeps every article, so the reader is measured on articles it never saw
against the whole corpus. It does not download SQuAD; the README says where the official files are.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
import urllib.parse
from dataclasses import dataclass
from pathlib import Path

from eval.jsonfile import read_json
from rag.errors import RagError


@dataclass(frozen=True)
class Converted:
    articles: int  # written to docs/
    held_out: int  # articles whose text was left out
    questions: int
    unanswerable: int


def article_title(raw: str) -> str:
    """A SQuAD title as a heading: percent-escapes decoded, underscores as spaces."""
    return urllib.parse.unquote(raw).replace("_", " ").strip()


def file_name(position: int, raw_title: str) -> str:
    """A stable, file-system-safe name: the article's position, then its title."""
    slug = re.sub(r"(?:[^\w.-]|_)+", "_", urllib.parse.unquote(raw_title)).strip("._") or "article"
    return f"{position:03d}_{slug[:80]}.txt"


def article_text(article: dict) -> str:
    """Title line, blank line, then the paragraphs separated by blank lines."""
    # A few contexts hold line breaks; inside a paragraph they become spaces so that blank
    # lines stay the only paragraph separator.
    paragraphs = [" ".join(p["context"].split()) for p in article["paragraphs"]]
    return "\n\n".join([article_title(article["title"]), *paragraphs]) + "\n"


def qa_rows(article: dict, doc: str | None) -> list[dict]:
    """The article's questions in the Q&A format; `doc` None marks a held-out article."""
    rows = []
    for paragraph in article["paragraphs"]:
        for qa in paragraph["qas"]:
            answers: list[str] = []
            if doc is not None and not qa.get("is_impossible", False):
                for a in qa["answers"]:
                    text = a["text"].strip()
                    if text and text not in answers:
                        answers.append(text)
            row = {"id": qa["id"], "question": qa["question"].strip(), "answers": answers}
            if doc is not None:
                row["doc"] = doc
            rows.append(row)
    return rows


def load_squad(path: Path) -> list[dict]:
    """The `data` list of a SQuAD file; raises `RagError` when the file is not SQuAD-shaped."""
    data = read_json(
        path,
        f"SQuAD file {path} does not exist; see eval/README.md for where to get it.",
        f"Cannot read {path} as JSON",
    )
    articles = data.get("data") if isinstance(data, dict) else None
    if not isinstance(articles, list) or not all(
        isinstance(a, dict) and "title" in a and isinstance(a.get("paragraphs"), list) for a in articles
    ):
        raise RagError(f"{path} is not a SQuAD file: expected {{'data': [{{'title', 'paragraphs'}}, ...]}}.")
    return articles


def load_part(split: Path, part: str) -> set[str]:
    """The raw SQuAD titles listed under `part` in a split file such as reader-split.json."""
    data = read_json(split, f"Split file {split} does not exist.", f"Cannot read {split} as JSON")
    titles = data.get(part) if isinstance(data, dict) else None
    if not isinstance(titles, list) or not all(isinstance(t, str) for t in titles):
        parts = ", ".join(k for k, v in data.items() if isinstance(v, list)) if isinstance(data, dict) else "none"
        raise RagError(f"{split} has no list of titles named {part!r} (it has: {parts}).")
    return set(titles)


def convert(path: Path, out: Path, hold_out: bool = False, only: set[str] | None = None) -> Converted:
    """Writes out/docs/*.txt and out/qa.jsonl from the SQuAD file at `path`; with `only`, the
    questions of just those articles (by raw title)."""
    articles = load_squad(path)
    if only is not None and not only & {a["title"] for a in articles}:
        raise RagError(f"None of the split's articles is in {path}; is it the right SQuAD file?")
    docs = out / "docs"
    docs.mkdir(parents=True, exist_ok=True)
    for old in docs.glob("*.txt"):  # a re-run (maybe with another --hold-out) starts clean
        old.unlink()
    written = held = questions = unanswerable = 0
    try:
        with open(out / "qa.jsonl", "w", encoding="utf-8") as qa_file:
            for position, article in enumerate(articles):
                name = file_name(position, article["title"])
                keep = not (hold_out and position % 2 == 1)
                if keep:
                    (docs / name).write_text(article_text(article), encoding="utf-8")
                    written += 1
                else:
                    held += 1
                if only is not None and article["title"] not in only:
                    continue
                for row in qa_rows(article, name if keep else None):
                    qa_file.write(json.dumps(row, ensure_ascii=False) + "\n")
                    questions += 1
                    unanswerable += not row["answers"]
    except (KeyError, TypeError, AttributeError) as err:
        raise RagError(f"{path} is not a SQuAD file: a paragraph or question lacks {err}.") from None
    return Converted(articles=written, held_out=held, questions=questions, unanswerable=unanswerable)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m eval.squad", description="Convert SQuAD JSON for python -m eval.")
    p.add_argument("path", type=Path, help="a SQuAD v1.1 or v2.0 JSON file, e.g. dev-v1.1.json")
    p.add_argument("--out", type=Path, required=True, help="folder to write docs/ and qa.jsonl into")
    p.add_argument(
        "--hold-out",
        action="store_true",
        help="leave every second article out of docs/ and keep its questions with answers [] "
        "(out-of-corpus abstention)",
    )
    p.add_argument("--split", type=Path, help="a split file (e.g. reader-split.json) naming articles by title")
    p.add_argument("--part", help="with --split: write only the questions of this part's articles (e.g. held_out)")
    args = p.parse_args(argv)
    if (args.split is None) != (args.part is None):
        p.error("--split and --part go together")
    try:
        only = load_part(args.split, args.part) if args.split else None
        result = convert(args.path, args.out, args.hold_out, only)
    except RagError as err:
        print(f"error: {err}", file=sys.stderr)
        return err.exit_code
    print(
        f"Wrote {result.articles} articles to {args.out / 'docs'}/ ({result.held_out} held out) and "
        f"{result.questions} questions ({result.unanswerable} unanswerable) to {args.out / 'qa.jsonl'}."
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
