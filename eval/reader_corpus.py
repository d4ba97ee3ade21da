"""Which articles and questions a reader training run reads, each in its role.

`load_corpus` reads the SQuAD dev file and the split file: the `train` articles are divided into
fitting ones and a validation slice (`val_articles` of them, drawn with the seed, among those with
human-written unanswerable questions when there are enough); the `held_out`
ones are only ever measured. Given the SQuAD training set, its articles are appended after the dev
ones (one list, so an article's position names it everywhere), taken whole in an order drawn with
the seed until `train_questions` questions are reached. `place_unanswerables` finds the paragraph
each unanswerable question was written against and sorts it: fitting (its article is fitted on),
validation (its article is in the validation slice: measured only), or left out (a held-out
article, an article this run does not read, or a paragraph not found). It does not embed, mine or
train.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from eval.reader_data import Article, Question, Unanswerable, paragraph_keys, read_articles
from eval.squad import load_part, load_squad
from rag.errors import RagError

if TYPE_CHECKING:
    from pathlib import Path

    from eval.train_reader import TrainSettings


@dataclass(frozen=True)
class Corpus:
    squad: list[dict]  # the dev file's articles, then the chosen training-set articles
    articles: list[Article]  # read from `squad`, same positions
    dev_train: list[int]  # positions of the split's `train` articles
    fit: list[int]  # dev `train` articles fitted on
    val: list[int]  # dev `train` articles kept for validation
    held: list[int]  # the split's `held_out` articles: measured, never fitted or tuned on
    train_set: list[int]  # chosen articles of the SQuAD training set

    def titles(self, positions: list[int]) -> set[str]:
        return {self.squad[p]["title"] for p in positions}


def load_corpus(
    squad_path: Path,
    split_path: Path,
    train_path: Path | None,
    settings: TrainSettings,
    with_unanswerables: frozenset[str] = frozenset(),
) -> Corpus:
    """The dev articles in their roles, and the chosen training-set articles when `train_path` is given.

    The validation slice is drawn from the `train` articles that have human-written unanswerable
    questions (`with_unanswerables`, raw titles) when enough do, so that the "not found" threshold
    is chosen on real unanswerable questions as well as on out-of-corpus ones."""
    squad = load_squad(squad_path)
    split = {part: sorted(load_part(split_path, part)) for part in ("train", "held_out")}
    by_title = {raw["title"]: i for i, raw in enumerate(squad)}
    missing = [t for t in split["train"] + split["held_out"] if t not in by_title]
    if missing:
        raise RagError(f"{split_path} names articles that {squad_path} lacks: {', '.join(missing[:3])}.")
    dev_train = sorted(by_title[t] for t in split["train"])
    held = sorted(by_title[t] for t in split["held_out"])
    pool = [p for p in dev_train if squad[p]["title"] in with_unanswerables]
    if len(pool) < settings.val_articles:
        pool = dev_train
    val = sorted(
        int(x) for x in np.random.default_rng(settings.seed).choice(pool, settings.val_articles, replace=False)
    )
    chosen = choose_articles(load_squad(train_path), settings.train_questions, settings.seed) if train_path else []
    shared = {raw["title"] for raw in chosen} & {raw["title"] for raw in squad}
    if shared:
        raise RagError(
            f"{train_path} shares articles with {squad_path} ({', '.join(sorted(shared)[:3])}); pass the SQuAD training set."
        )
    everything = squad + chosen
    return Corpus(
        squad=everything,
        articles=read_articles(everything),
        dev_train=dev_train,
        fit=[p for p in dev_train if p not in val],
        val=val,
        held=held,
        train_set=list(range(len(squad), len(everything))),
    )


def choose_articles(articles: list[dict], questions: int | None, seed: int) -> list[dict]:
    """Whole articles in an order drawn with `seed`, until they hold `questions` questions (all
    articles when None). Whole articles keep each question's same-article negatives, and a small
    run embeds only the sentences it needs."""
    order = [articles[int(i)] for i in np.random.default_rng(seed).permutation(len(articles))]
    if questions is None:
        return order
    chosen, total = [], 0
    for raw in order:
        if total >= questions:
            break
        chosen.append(raw)
        total += sum(len(p["qas"]) for p in raw["paragraphs"])
    return chosen


def fitting_questions(corpus: Corpus, settings: TrainSettings) -> tuple[list[Question], list[Question]]:
    """(dev questions, training-set questions) to fit on: the fitting dev articles' questions
    (`limit_questions` of them drawn with the seed, for a trial) and the first `train_questions` of
    the chosen training-set articles."""
    dev = [q for p in corpus.fit for q in corpus.articles[p].questions]
    if settings.limit_questions and settings.limit_questions < len(dev):
        keep = sorted(np.random.default_rng(settings.seed).choice(len(dev), settings.limit_questions, replace=False))
        dev = [dev[int(i)] for i in keep]
    train = [q for p in corpus.train_set for q in corpus.articles[p].questions][: settings.train_questions]
    return dev, train


@dataclass(frozen=True)
class Placed:
    """Unanswerable questions with (article position, paragraph index), by role."""

    fitting: list[tuple[Unanswerable, int, int]]
    validation: list[tuple[Unanswerable, int, int]]
    held_out: int  # on held-out articles: refused
    elsewhere: int  # on articles this run does not read, or on paragraphs not found


def place_unanswerables(corpus: Corpus, questions: list[Unanswerable], limit: int | None, seed: int) -> Placed:
    """`questions` sorted into their roles; `limit` of the fitting ones drawn with `seed` (all when None)."""
    where = paragraph_keys(corpus.squad)
    fit = set(corpus.fit + corpus.train_set)
    held = corpus.titles(corpus.held)
    val = corpus.titles(corpus.val)
    fitting, validation = [], []
    refused = elsewhere = 0
    for u in questions:
        found = where.get((u.title, u.context))
        if u.title in held:
            refused += 1
        elif found is None or not (found[0] in fit or u.title in val):
            elsewhere += 1
        else:
            (validation if u.title in val else fitting).append((u, *found))
    if limit is not None and limit < len(fitting):
        keep = sorted(np.random.default_rng(seed).choice(len(fitting), limit, replace=False))
        fitting = [fitting[int(i)] for i in keep]
    return Placed(fitting, validation, refused, elsewhere)
