"""The trained reader: scores (question, sentence) pairs and finds the short answer inside a sentence.

The model is all-MiniLM-L6-v2 fine-tuned here on SQuAD v1.1 training articles (`python -m
eval.train_reader`; the record is `rag/reader_model/training.json`) with two heads: a score (the
probability that the sentence answers the question) and start/end logits over the sentence's
tokens. It ships in `rag/reader_model/` as an ONNX file whose weights are stored as int8 and
computed in float32 (`eval.reader_graph` says why: a reading must not depend on the processor or
on the other pairs of a batch), and runs on onnxruntime with the `tokenizers` library: no torch.
The session loads once per process, on first use. It does not retrieve, label passages or decide
what to print: `rag.rerank` and `rag.answer` do.
"""

from __future__ import annotations

import functools
import json
import threading
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from rag.errors import RagError
from rag.reader_input import Pair, best_span, encode, load_tokenizer

MODEL_DIR = Path(__file__).resolve().parent / "reader_model"
MODEL_FILE = "reader.onnx"
RECORD_FILE = "training.json"
#: Pairs per onnxruntime call, shortest first. Reading the 47 seed pairs on one thread took 0.90 s in
#: batches of 8, 1.03 s in 16s, 1.59 s in one batch (padding) and 1.42 s one pair per call.
BATCH = 8


@dataclass(frozen=True)
class Reading:
    """What the reader makes of one pair."""

    probability: float  # that the sentence answers the question
    answer_start: int  # the short answer's characters in the sentence
    answer_end: int
    answer_probability: float  # softmax(start) × softmax(end) at the chosen span

    def short_answer(self, sentence: str) -> str:
        return sentence[self.answer_start : self.answer_end]


class Reader:
    """An ONNX reader model; construction is cheap, the session loads on first `read`."""

    def __init__(self, model_path: Path | None = None, tokenizer_path: Path | None = None) -> None:
        self.model_path = Path(model_path) if model_path else MODEL_DIR / MODEL_FILE
        self.tokenizer_path = Path(tokenizer_path) if tokenizer_path else None

    @property
    def name(self) -> str:
        return f"reader:{self.model_path.name}"

    def session(self):
        """The onnxruntime session, float32 throughout, loaded once per process and path."""
        return load_session(str(self.model_path))

    def read(self, pairs: list[Pair]) -> list[Reading]:
        """One `Reading` per pair, in order. Pairs are read `BATCH` at a time, shortest first, so a
        batch pads little; the arithmetic is float32, so a pair reads the same (to about 1e-6)
        whatever else is in its batch."""
        if not pairs:
            return []
        session = self.session()
        tokenizer = load_tokenizer(str(self.tokenizer_path or bundled_tokenizer()))
        batch = encode(tokenizer, pairs)
        lengths = batch.attention_mask.sum(axis=1)
        order = np.argsort(lengths, kind="stable")
        readings: list[Reading | None] = [None] * len(pairs)
        for begin in range(0, len(order), BATCH):
            rows = order[begin : begin + BATCH]
            width = int(lengths[rows].max())
            with _session_lock(session):
                score, start, end = session.run(
                    None,
                    {
                        "input_ids": batch.input_ids[rows, :width],
                        "attention_mask": batch.attention_mask[rows, :width],
                        "token_type_ids": batch.token_type_ids[rows, :width],
                    },
                )
            for i, row in enumerate(rows):
                first, count = int(batch.sentence_start[row]), int(batch.sentence_length[row])
                readings[row] = _reading(
                    float(score[i]),
                    start[i, first : first + count],
                    end[i, first : first + count],
                    batch.offsets[row],
                    pairs[row].sentence,
                )
        return readings


def _reading(
    logit: float, start: np.ndarray, end: np.ndarray, offsets: list[tuple[int, int]], sentence: str
) -> Reading:
    probability = 1.0 / (1.0 + np.exp(-logit))
    if len(offsets) == 0:
        return Reading(float(probability), 0, 0, 0.0)
    first, last, p = best_span(start, end)
    begin, finish = widen_to_words(sentence, offsets[first][0], offsets[last][1])
    return Reading(float(probability), begin, finish, p)


def widen_to_words(text: str, start: int, end: int) -> tuple[int, int]:
    """[start, end) grown to whole words (a WordPiece span can begin or end inside one), and
    trimmed of spaces and of punctuation that closes a sentence or clause at its edges."""
    while start > 0 and text[start - 1].isalnum() and text[start].isalnum():
        start -= 1
    while end < len(text) and text[end - 1].isalnum() and text[end].isalnum():
        end += 1
    while start < end and (text[start].isspace() or text[start] in ",;:"):
        start += 1
    while end > start and (text[end - 1].isspace() or text[end - 1] in ",;:."):
        end -= 1
    return start, end


def record(model_dir: Path = MODEL_DIR) -> dict:
    """The training record shipped beside the weights (figures, threshold, settings)."""
    try:
        return json.loads((model_dir / RECORD_FILE).read_text(encoding="utf-8"))
    except (OSError, ValueError) as err:
        raise RagError(f"The reader's training record {model_dir / RECORD_FILE} is unreadable ({err}).") from None


@functools.cache
def load_session(path: str):
    """An onnxruntime session for the model at `path`, float32 throughout, made once per process."""
    from rag.onnx_encoder import float32_session

    if not Path(path).is_file():
        raise RagError(f"The reader model {path} is missing; reinstall newsrag (it ships inside the package).")
    return float32_session(path)


_LOCKS: dict[int, threading.Lock] = {}


def _session_lock(session) -> threading.Lock:
    """onnxruntime sessions may be run from several threads, but two runs at once on two cores only
    slow each other; one at a time per session."""
    return _LOCKS.setdefault(id(session), threading.Lock())


def bundled_tokenizer() -> Path:
    from rag.embedding import bundled_model_dir

    return bundled_model_dir() / "tokenizer.json"
