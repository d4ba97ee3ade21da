"""Training pairs tokenised once into flat arrays, and batches cut from them by token budget.

`tokenise` runs `rag.reader_input.encode` (the one input layout of training and inference) over
every pair once and keeps each pair's tokens without padding, end to end in one array, with where
its sentence sits and the answer's first and last token. `save`/`load` keep those arrays in one
`.npz` file, written atomically. `token_batches` groups a question's pairs whole (the listwise loss
compares them), puts questions of similar length together and fills each batch up to a budget of
padded tokens; `collate` pads one batch into model inputs. It does not mine, train or shuffle
pairs inside a question.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, fields
from pathlib import Path

import numpy as np

from eval.reader_data import Example
from rag.reader_input import encode, token_span

#: Pairs per call to `encode` while tokenising.
CHUNK = 4096
#: Up to this many tokens of noise on each question's length when sorting, so batches differ epoch to epoch.
JITTER = 4.0


@dataclass(frozen=True)
class Tokenised:
    """Every pair's tokens; a question's pairs are consecutive rows."""

    ids: np.ndarray  # uint16 (all tokens,): the pairs' token ids end to end
    offsets: np.ndarray  # int64 (pairs + 1,): pair i is ids[offsets[i] : offsets[i + 1]]
    sentence_start: np.ndarray  # int16 (pairs,): position of the sentence's first token
    sentence_length: np.ndarray  # int16 (pairs,)
    answer: np.ndarray  # int16 (pairs, 2): first and last token of the short answer; -1 for none
    label: np.ndarray  # int8 (pairs,)
    group: np.ndarray  # int32 (pairs,): the question's number

    @property
    def lengths(self) -> np.ndarray:
        return np.diff(self.offsets)

    def __len__(self) -> int:
        return len(self.label)


def tokenise(tokenizer, examples: list[Example]) -> Tokenised:
    """`examples` (each question's pairs already side by side) as `Tokenised` arrays. A positive
    whose answer lies past the kept sentence tokens keeps its label but gets no answer tokens."""
    if tokenizer.get_vocab_size() > np.iinfo(np.uint16).max:
        raise ValueError("token ids do not fit in uint16")
    numbers: dict[str, int] = {}
    ids: list[np.ndarray] = []
    lengths, starts, counts, answers = [], [], [], []
    for first in range(0, len(examples), CHUNK):
        chunk = examples[first : first + CHUNK]
        batch = encode(tokenizer, [e.pair for e in chunk])
        for row, example in enumerate(chunk):
            length = int(batch.attention_mask[row].sum())
            ids.append(batch.input_ids[row, :length].astype(np.uint16))
            lengths.append(length)
            starts.append(int(batch.sentence_start[row]))
            counts.append(int(batch.sentence_length[row]))
            answers.append(_answer_tokens(batch.offsets[row], int(batch.sentence_start[row]), example.span))
            numbers.setdefault(example.group, len(numbers))
    return Tokenised(
        ids=np.concatenate(ids) if ids else np.zeros(0, dtype=np.uint16),
        offsets=np.concatenate([[0], np.cumsum(lengths, dtype=np.int64)]).astype(np.int64),
        sentence_start=np.array(starts, dtype=np.int16),
        sentence_length=np.array(counts, dtype=np.int16),
        answer=np.array(answers, dtype=np.int16).reshape(-1, 2),
        label=np.array([e.label for e in examples], dtype=np.int8),
        group=np.array([numbers[e.group] for e in examples], dtype=np.int32),
    )


def _answer_tokens(offsets: list[tuple[int, int]], first: int, span: tuple[int, int] | None) -> tuple[int, int]:
    if span is None:
        return (-1, -1)
    tokens = token_span(offsets, *span)
    if tokens is None or offsets[tokens[1]][1] < span[1]:
        return (-1, -1)  # the answer lies past the kept tokens
    return (first + tokens[0], first + tokens[1])


def save(pairs: Tokenised, path: Path) -> None:
    """Writes `pairs` to `path` (.npz) through a temporary file, so a reader sees all or nothing."""
    partial = path.with_name(path.name + ".partial")
    with open(partial, "wb") as f:
        np.savez(f, **{field.name: getattr(pairs, field.name) for field in fields(Tokenised)})
        f.flush()
        os.fsync(f.fileno())
    partial.replace(path)


def load(path: Path) -> Tokenised:
    with np.load(path) as arrays:
        return Tokenised(**{field.name: arrays[field.name] for field in fields(Tokenised)})


def token_batches(
    lengths: np.ndarray, group: np.ndarray, budget: int, rng: np.random.Generator | None
) -> list[np.ndarray]:
    """Rows in batches of whole groups (consecutive rows sharing `group`), each batch at most
    `budget` padded tokens (rows × its longest row) unless one group alone is larger. Groups are
    sorted by their longest row (with up to `JITTER` tokens of noise from `rng`), so a batch holds
    rows of similar length; the batches come in random order. With `rng` None: no noise, sorted
    order (for measuring)."""
    if len(group) == 0:
        return []
    starts = np.flatnonzero(np.r_[True, group[1:] != group[:-1]])
    ends = np.r_[starts[1:], len(group)]
    longest = np.maximum.reduceat(lengths, starts)
    noise = rng.uniform(0, JITTER, len(starts)) if rng is not None else np.zeros(len(starts))
    batches: list[list[int]] = []
    rows = widest = 0
    for g in np.argsort(longest + noise, kind="stable"):
        size = int(ends[g] - starts[g])
        if batches and (rows + size) * max(widest, int(longest[g])) <= budget:
            batches[-1].append(g)
            rows, widest = rows + size, max(widest, int(longest[g]))
        else:
            batches.append([g])
            rows, widest = size, int(longest[g])
    out = [np.concatenate([np.arange(starts[g], ends[g]) for g in b]) for b in batches]
    if rng is not None:
        out = [out[i] for i in rng.permutation(len(out))]
    return out


@dataclass(frozen=True)
class Collated:
    """One padded batch: the model's inputs and the targets of its pairs."""

    input_ids: np.ndarray  # int64 (pairs, width)
    attention_mask: np.ndarray
    token_type_ids: np.ndarray
    sentence_mask: np.ndarray  # bool (pairs, width): the sentence's tokens, where an answer may lie
    answer: np.ndarray  # int64 (pairs, 2), -1 for none
    label: np.ndarray  # float32 (pairs,)
    group: np.ndarray  # int64 (pairs,)


def collate(pairs: Tokenised, rows: np.ndarray) -> Collated:
    """The rows of `pairs` padded to the longest, laid out as `rag.reader_input.encode` lays them."""
    lengths = pairs.lengths[rows]
    width = int(lengths.max())
    input_ids = np.zeros((len(rows), width), dtype=np.int64)
    positions = np.arange(width)[None, :]
    for i, row in enumerate(rows):
        input_ids[i, : lengths[i]] = pairs.ids[pairs.offsets[row] : pairs.offsets[row + 1]]
    first = pairs.sentence_start[rows].astype(np.int64)[:, None]
    attention = (positions < lengths[:, None]).astype(np.int64)
    return Collated(
        input_ids=input_ids,
        attention_mask=attention,
        # token type 1 from the sentence to the end: the sentence starts right after the question's [SEP]
        token_type_ids=((positions >= first) & (attention == 1)).astype(np.int64),
        sentence_mask=(positions >= first)
        & (positions < first + pairs.sentence_length[rows].astype(np.int64)[:, None]),
        answer=pairs.answer[rows].astype(np.int64),
        label=pairs.label[rows].astype(np.float32),
        group=pairs.group[rows].astype(np.int64),
    )
