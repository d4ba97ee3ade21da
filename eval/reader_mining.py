"""Negatives for tens of thousands of questions at once, from MiniLM sentence vectors.

The retrieval pipeline costs a search per question, too slow for SQuAD's 87,599 training
questions; here every sentence of the mined articles and every question is encoded once
(`rag.embedding.Embedder`, batched), and the negatives are the sentences closest in meaning:
- `nearest_elsewhere`: the closest sentences outside the question's own article, from blockwise
  matrix products (87k × 100k similarities never sit in memory at once);
- `Pool.ranked`: the sentences of the question's own article, or of one paragraph, best first.
`mine` turns them into labelled pairs with `eval.reader_data`; a question may bring its own
nearby sentences instead (the dev questions' retrieved passages). It does not run the retrieval
pipeline, tokenise or cache anything: `eval.train_reader` does.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from eval.metrics import contains_answer
from eval.reader_data import (
    Article,
    Example,
    Question,
    Sentence,
    Unanswerable,
    examples_for,
    unanswerable_examples,
)

#: Questions per matrix product in `nearest_elsewhere`: 512 × 100k float32 similarities is 200 MB.
BLOCK = 512
#: Candidates kept per question outside its article, so that one holding the answer can be skipped.
ELSEWHERE = 4


@dataclass(frozen=True)
class Pool:
    """The sentences negatives are drawn from, grouped by article, with their unit vectors."""

    sentences: tuple[Sentence, ...]
    vectors: np.ndarray  # float32 (sentences, dimension)
    spans: dict[int, tuple[int, int]]  # article position → its rows [first, end)
    row: dict[Sentence, int]

    @classmethod
    def of(cls, articles: list[Article], positions: list[int], encode: Callable[[list[str]], np.ndarray]) -> Pool:
        """Every sentence of the articles at `positions`, encoded once with `encode`."""
        sentences: list[Sentence] = []
        spans = {}
        for position in positions:
            spans[position] = (len(sentences), len(sentences) + len(articles[position].sentences))
            sentences.extend(articles[position].sentences)
        vectors = encode([s.text for s in sentences])
        return cls(tuple(sentences), vectors, spans, {s: i for i, s in enumerate(sentences)})

    def ranked(self, vector: np.ndarray, article: int, keep: Callable[[Sentence], bool]) -> list[Sentence]:
        """The sentences of `article` that `keep` accepts, most similar to `vector` first."""
        first, end = self.spans[article]
        order = np.argsort(-(self.vectors[first:end] @ vector), kind="stable")
        return [self.sentences[first + i] for i in order if keep(self.sentences[first + i])]

    def by_similarity(self, vector: np.ndarray, sentences: list[Sentence]) -> list[Sentence]:
        """`sentences` (all in the pool) most similar to `vector` first."""
        return sorted(sentences, key=lambda s: -float(self.vectors[self.row[s]] @ vector))


def nearest_elsewhere(pool: Pool, vectors: np.ndarray, articles: list[int], k: int = ELSEWHERE) -> np.ndarray:
    """int (len(vectors), k): rows of the pool's k sentences most similar to each vector, best
    first, leaving out the sentences of that vector's own article (`articles[i]`); -1 where the
    pool has fewer such sentences."""
    k = min(k, len(pool.sentences))
    found = np.zeros((len(vectors), k), dtype=np.int64)
    for first in range(0, len(vectors), BLOCK):
        similarity = vectors[first : first + BLOCK] @ pool.vectors.T
        for i, article in enumerate(articles[first : first + BLOCK]):
            own = pool.spans.get(article)
            if own:
                similarity[i, own[0] : own[1]] = -np.inf
        top = np.argpartition(-similarity, k - 1, axis=1)[:, :k]
        values = np.take_along_axis(similarity, top, axis=1)
        order = np.argsort(-values, axis=1, kind="stable")
        top = np.take_along_axis(top, order, axis=1)
        top[np.isneginf(np.take_along_axis(values, order, axis=1))] = -1
        found[first : first + BLOCK] = top
    return found


@dataclass(frozen=True)
class Counts:
    """How many negatives of each kind a question gets."""

    in_paragraph: int  # other sentences of the gold paragraph, drawn at random
    nearby: int  # retrieved or same-article sentences of other paragraphs, closest first
    own_paragraph: int  # sentences of an unanswerable question's paragraph, closest first


def mine(
    articles: list[Article],
    pool: Pool,
    questions: list[Question],
    question_vectors: np.ndarray,
    retrieved: dict[str, list[Sentence]],
    counts: Counts,
    rng: np.random.Generator,
    log: Callable[[str], None] = lambda _: None,
) -> list[Example]:
    """The labelled pairs of answerable `questions`, each question's pairs side by side. A question
    whose id is in `retrieved` takes its nearby negatives from those sentences, any other from its
    own article. Questions whose answer crosses a sentence boundary give none."""
    titles = {a.position: a.title for a in articles}
    elsewhere = nearest_elsewhere(pool, question_vectors, [q.article for q in questions])
    out: list[Example] = []
    for i, q in enumerate(questions):
        vector = question_vectors[i]
        if q.qid in retrieved:
            nearby = pool.by_similarity(vector, retrieved[q.qid])
        else:
            nearby = pool.ranked(vector, q.article, lambda s, q=q: s.paragraph != q.paragraph)
        other = next(
            (
                pool.sentences[j]
                for j in elsewhere[i]
                if j >= 0 and not contains_answer(pool.sentences[j].text, q.answers)
            ),
            None,
        )
        out.extend(examples_for(articles[q.article], q, nearby, other, titles, rng, counts.in_paragraph, counts.nearby))
        if (i + 1) % 10_000 == 0:
            log(f"negatives: {i + 1}/{len(questions)} questions")
    return out


def mine_unanswerable(
    articles: list[Article],
    pool: Pool,
    questions: list[tuple[Unanswerable, int, int]],
    question_vectors: np.ndarray,
    counts: Counts,
) -> list[Example]:
    """The label-0 pairs of each (unanswerable question, article position, paragraph index): the
    closest sentences of its paragraph and the closest sentence of another article."""
    titles = {a.position: a.title for a in articles}
    elsewhere = nearest_elsewhere(pool, question_vectors, [article for _, article, _ in questions], k=1)
    out: list[Example] = []
    for i, (question, article, paragraph) in enumerate(questions):
        own = pool.ranked(question_vectors[i], article, lambda s, p=paragraph: s.paragraph == p)
        other = pool.sentences[int(elsewhere[i, 0])] if elsewhere.shape[1] and elsewhere[i, 0] >= 0 else None
        out.extend(unanswerable_examples(question, own[: counts.own_paragraph], other, titles))
    return out
