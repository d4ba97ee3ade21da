"""The learning curve: a quick figure of the network during training, without the retrieval pipeline.

Three fixed samples (drawn once with numpy seed 0), each question paired with every sentence of
its own paragraph:
- validation-slice questions: the share whose top-scoring sentence holds a gold answer;
- held-out questions: the same share, only to be looked at (nothing is chosen from it);
- unanswerable questions of the validation articles (SQuAD 2.0 dev): the share whose best
  sentence scores below 0.5, i.e. that the reader would call "not found".
A question none of whose sentences holds an answer (the answer crosses a sentence boundary) is
left out of the samples. It does not train, and its figures are not those of the shipped path
(`eval.train_reader` measures that after export).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from eval.metrics import contains_answer
from eval.reader_batches import Tokenised, token_batches, tokenise
from eval.reader_data import Article, Example, Question, Sentence, Unanswerable
from eval.reader_fit import forward
from rag.reader_input import Pair

#: The samples' names, in the order their questions come in `CurveSet`.
KINDS = ("validation_top1", "held_out_top1", "validation_unanswerable_below_half")


@dataclass(frozen=True)
class CurveSet:
    pairs: Tokenised  # one group per question
    kind: np.ndarray  # int (groups,): index into KINDS
    right: np.ndarray  # bool (pairs,): the sentence holds a gold answer


def sample(items: list, size: int) -> list:
    """`size` of `items` (all when fewer) drawn with numpy seed 0, kept in their order."""
    if len(items) <= size:
        return list(items)
    return [items[int(i)] for i in sorted(np.random.default_rng(0).choice(len(items), size, replace=False))]


def curve_set(
    tokenizer,
    articles: list[Article],
    validation: list[Question],
    held_out: list[Question],
    unanswerable: list[tuple[Unanswerable, int, int]],
    size: int,
) -> CurveSet:
    """The tokenised samples of at most `size` questions each; `unanswerable` holds (question,
    article position, paragraph index) as located in the SQuAD file."""

    def paragraph(article: int, index: int) -> list[Sentence]:
        return [s for s in articles[article].sentences if s.paragraph == index]

    def answerable(questions: list[Question]) -> list[Question]:
        return [
            q for q in questions if any(contains_answer(s.text, q.answers) for s in paragraph(q.article, q.paragraph))
        ]

    examples: list[Example] = []
    kinds: list[int] = []
    right: list[bool] = []
    for kind, questions in enumerate((validation, held_out)):
        for q in sample(answerable(questions), size):
            for s in paragraph(q.article, q.paragraph):
                holds = contains_answer(s.text, q.answers)
                examples.append(
                    Example(Pair(q.question, s.text, articles[q.article].title, s.previous), int(holds), None, q.qid)
                )
                right.append(holds)
            kinds.append(kind)
    for u, article, index in sample(unanswerable, size):
        for s in paragraph(article, index):
            examples.append(Example(Pair(u.question, s.text, articles[article].title, s.previous), 0, None, u.qid))
            right.append(False)
        kinds.append(KINDS.index("validation_unanswerable_below_half"))
    return CurveSet(tokenise(tokenizer, examples), np.array(kinds, dtype=np.int64), np.array(right, dtype=bool))


def curve_point(model, curve: CurveSet, budget: int) -> dict:
    """The three shares (None for an empty sample) for `model`, left in eval mode."""
    model.eval()
    scores = np.zeros(len(curve.pairs), dtype=np.float32)
    # Every pair scored on its own, so batches of similar length need not keep questions whole.
    alone = np.arange(len(curve.pairs))
    with torch.inference_mode():
        for rows in token_batches(curve.pairs.lengths, alone, budget, None):
            scores[rows] = forward(model, curve.pairs, rows)[1].numpy()
    return shares(scores, curve)


def shares(scores: np.ndarray, curve: CurveSet) -> dict:
    """Each figure of `KINDS` (and its number of questions) from every pair's score logit."""
    group = curve.pairs.group
    starts = np.flatnonzero(np.r_[True, group[1:] != group[:-1]])
    best = np.array([start + int(np.argmax(part)) for start, part in zip(starts, np.split(scores, starts[1:]))])
    unanswerable = curve.kind == KINDS.index("validation_unanswerable_below_half")
    # a logit below 0 is a probability below 0.5
    success = np.where(unanswerable, scores[best] < 0.0, curve.right[best]) if len(best) else np.zeros(0, bool)
    out: dict = {}
    for kind, name in enumerate(KINDS):
        chosen = curve.kind == kind
        out[name] = round(float(success[chosen].mean()), 4) if chosen.any() else None
        out[f"{name}_questions"] = int(chosen.sum())
    return out
