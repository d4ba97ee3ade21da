"""The Q&A file format (JSON Lines) and reproducible sampling from it.

One object a line: `{"id": str, "question": str, "answers": [str, ...], "doc": str}`; `doc` (the
source file name) is optional and other keys are ignored. An empty `answers` list means the
articles do not answer the question and the right response is to abstain. Blank lines are
skipped. It does not check that the answers occur in the articles.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from rag.errors import RagError
from rag.settings import MAX_QUESTION_CHARS


@dataclass(frozen=True)
class QAPair:
    id: str
    question: str
    answers: tuple[str, ...]  # empty: the right response is to abstain
    doc: str | None = None


def load_pairs(path: Path) -> list[QAPair]:
    """Every pair in the JSON Lines file at `path`; raises `RagError` naming the first bad line."""
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except FileNotFoundError:
        raise RagError(f"Q&A file {path} does not exist; pass --qa FILE (JSON Lines).") from None
    except (OSError, UnicodeDecodeError) as err:
        raise RagError(f"Cannot read Q&A file {path}: {err}.") from None
    pairs: list[QAPair] = []
    seen: set[str] = set()
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        pair = parse_pair(line, f"{path} line {number}")
        if pair.id in seen:
            raise RagError(f"{path} line {number}: id {pair.id!r} is used twice; ids must be unique.")
        seen.add(pair.id)
        pairs.append(pair)
    if not pairs:
        raise RagError(f"Q&A file {path} has no questions; add one JSON object a line.")
    return pairs


def parse_pair(line: str, where: str) -> QAPair:
    """One line of the file as a `QAPair`; `where` prefixes the error message."""
    try:
        obj = json.loads(line)
    except json.JSONDecodeError as err:
        raise RagError(f"{where}: not valid JSON ({err.msg}).") from None
    if not isinstance(obj, dict):
        raise RagError(f"{where}: expected a JSON object with id, question and answers.")
    qid, question, answers, doc = obj.get("id"), obj.get("question"), obj.get("answers"), obj.get("doc")
    if not isinstance(qid, str) or not qid:
        raise RagError(f"{where}: 'id' must be a non-empty string.")
    if not isinstance(question, str) or not question.strip():
        raise RagError(f"{where}: 'question' must be a non-empty string.")
    if len(question) > MAX_QUESTION_CHARS:
        raise RagError(f"{where}: the question is longer than {MAX_QUESTION_CHARS} characters.")
    if not isinstance(answers, list) or not all(isinstance(a, str) and a.strip() for a in answers):
        raise RagError(f"{where}: 'answers' must be a list of non-empty strings ([] for unanswerable).")
    if doc is not None and not isinstance(doc, str):
        raise RagError(f"{where}: 'doc' must be a string (a source file name) when given.")
    return QAPair(id=qid, question=question.strip(), answers=tuple(answers), doc=doc)


def sample(pairs: list[QAPair], limit: int | None, seed: int) -> list[QAPair]:
    """`limit` pairs drawn without replacement, kept in file order; all pairs when limit is None.

    The draw is `numpy.random.default_rng(seed).choice(len(pairs), limit, replace=False)`, so a
    (file, limit, seed) triple always selects the same questions.
    """
    if limit is None or limit >= len(pairs):
        return list(pairs)
    if limit < 1:
        raise RagError(f"--limit must be at least 1, got {limit}.")
    chosen = np.random.default_rng(seed).choice(len(pairs), size=limit, replace=False)
    return [pairs[i] for i in sorted(int(i) for i in chosen)]
