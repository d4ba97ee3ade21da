"""(question, candidate sentence) → the token ids the trained reader reads, and back to characters.

One layout serves training (`eval.train_reader`) and inference (`rag.reader`), so the two cannot
drift apart:

    [CLS] question [SEP] sentence [SEP] title : previous sentence [SEP]

The question is cut to `MAX_QUESTION_TOKENS`, the sentence to `MAX_SENTENCE_TOKENS`, and the
context (the article's title, then the end of the sentence before the candidate, which is where
"he" or "the delegation" was named) to `MAX_CONTEXT_TOKENS`, keeping the title and the words nearest
the candidate. Token type 0 covers the question, 1 the rest. The short answer can only lie inside
the sentence's tokens, whose character offsets into the sentence are kept. It uses the `tokenizers`
library only: no torch, no transformers.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

import numpy as np

MAX_QUESTION_TOKENS = 32
MAX_SENTENCE_TOKENS = 80
MAX_CONTEXT_TOKENS = 20
MAX_TITLE_TOKENS = 10


@dataclass(frozen=True)
class Pair:
    """One question and one candidate sentence, with the context the reader sees beside it."""

    question: str
    sentence: str
    title: str = ""
    previous: str = ""  # the sentence before the candidate in its paragraph, or ""


@dataclass(frozen=True)
class Batch:
    """Padded model inputs for a list of pairs, and where each sentence's tokens sit."""

    input_ids: np.ndarray  # int64 (pairs, length)
    attention_mask: np.ndarray
    token_type_ids: np.ndarray
    sentence_start: np.ndarray  # int64 (pairs,): position of the sentence's first token
    sentence_length: np.ndarray  # tokens of the sentence kept
    offsets: list[list[tuple[int, int]]]  # per pair: character span in the sentence of each kept token


@functools.cache
def load_tokenizer(path: str):
    """The WordPiece tokenizer of all-MiniLM-L6-v2 (`tokenizer.json`), loaded once per process."""
    from tokenizers import Tokenizer

    tokenizer = Tokenizer.from_file(path)
    tokenizer.no_padding()
    tokenizer.no_truncation()
    return tokenizer


def encode(tokenizer, pairs: list[Pair]) -> Batch:
    """The padded batch for `pairs`, laid out as the module docstring says."""
    cls, sep = tokenizer.token_to_id("[CLS]"), tokenizer.token_to_id("[SEP]")
    colon = tokenizer.token_to_id(":")
    unique = list(dict.fromkeys(t for p in pairs for t in (p.question, p.sentence, p.title, p.previous)))
    encoded = dict(zip(unique, tokenizer.encode_batch(unique, add_special_tokens=False), strict=True))
    rows: list[tuple[list[int], int, int, int]] = []  # ids, question part length, sentence start, sentence length
    offsets: list[list[tuple[int, int]]] = []
    for pair in pairs:
        question = encoded[pair.question].ids[:MAX_QUESTION_TOKENS]
        sentence_enc = encoded[pair.sentence]
        sentence = sentence_enc.ids[:MAX_SENTENCE_TOKENS]
        title = encoded[pair.title].ids[:MAX_TITLE_TOKENS] if pair.title else []
        room = MAX_CONTEXT_TOKENS - len(title) - 1
        previous = encoded[pair.previous].ids[-room:] if pair.previous and room > 0 else []
        context = [*title, colon, *previous] if previous else title
        ids = [cls, *question, sep, *sentence, sep, *context, sep] if context else [cls, *question, sep, *sentence, sep]
        rows.append((ids, len(question) + 2, len(question) + 2, len(sentence)))
        offsets.append(list(sentence_enc.offsets[: len(sentence)]))
    width = max(len(ids) for ids, *_ in rows)
    input_ids = np.zeros((len(rows), width), dtype=np.int64)
    attention = np.zeros_like(input_ids)
    types = np.zeros_like(input_ids)
    for i, (ids, first_part, _, _) in enumerate(rows):
        input_ids[i, : len(ids)] = ids
        attention[i, : len(ids)] = 1
        types[i, first_part : len(ids)] = 1
    return Batch(
        input_ids=input_ids,
        attention_mask=attention,
        token_type_ids=types,
        sentence_start=np.array([r[2] for r in rows], dtype=np.int64),
        sentence_length=np.array([r[3] for r in rows], dtype=np.int64),
        offsets=offsets,
    )


def token_span(offsets: list[tuple[int, int]], start: int, end: int) -> tuple[int, int] | None:
    """The first and last token (indexes into `offsets`) covering characters [start, end), or None
    when the span is not inside the kept tokens."""
    first = next((i for i, (s, e) in enumerate(offsets) if e > start), None)
    last = next((i for i in range(len(offsets) - 1, -1, -1) if offsets[i][0] < end), None)
    if first is None or last is None or first > last:
        return None
    return first, last


def best_span(start_logits: np.ndarray, end_logits: np.ndarray, max_tokens: int = 24) -> tuple[int, int, float]:
    """(first, last, probability) of the most likely answer span over one sentence's tokens.

    The probability is softmax(start)[first] × softmax(end)[last], spans of at most `max_tokens`.
    """
    start_p = _softmax(start_logits)
    end_p = _softmax(end_logits)
    n = len(start_p)
    scores = np.triu(np.outer(start_p, end_p)) - np.triu(np.ones((n, n)), max_tokens)
    first, last = np.unravel_index(int(np.argmax(scores)), scores.shape)
    return int(first), int(last), float(scores[first, last])


def _softmax(x: np.ndarray) -> np.ndarray:
    e = np.exp(x - np.max(x))
    return e / e.sum()
