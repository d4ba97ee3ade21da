"""The fitting pairs of a training run, mined once, tokenised once and cached on disk.

`cached_pairs` returns the tokenised pairs (`eval.reader_batches.Tokenised`) and their counts for
the given data files and settings. The first call mines them (`mine_pairs`: the run's questions
from `eval.reader_corpus`, retrieval negatives for the dev questions through the real pipeline,
embedding negatives for the rest from `eval.reader_mining`) and stores them as
`pairs-<hash>.npz` and `.json` in the cache folder, the hash covering the data files' SHA-256, the
settings that shape pairs, the input layout and `PAIRS_VERSION`; a later call with the same
inputs reads them back in seconds. It does not train.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from eval.reader_batches import Tokenised, load, save, tokenise
from eval.reader_checkpoint import short_hash
from eval.reader_corpus import Corpus, fitting_questions, load_corpus, place_unanswerables
from eval.reader_data import Article, Example, Question, Sentence, read_unanswerables, sha256
from eval.reader_measure import open_pipeline, write_docs
from eval.reader_mining import Counts, Pool, mine, mine_unanswerable
from eval.squad import file_name
from rag import reader_input

if TYPE_CHECKING:
    from eval.train_reader import TrainSettings

#: Bump when the way pairs are mined or tokenised changes, so old caches are not reused.
PAIRS_VERSION = 2  # 2: the validation slice is drawn among articles with unanswerables


#: Settings that decide the pairs; the others decide training only, or nothing about the result.
MINING_SETTINGS = (
    "seed",
    "val_articles",
    "limit_questions",
    "limit_unanswerable",
    "train_questions",
    "in_paragraph_negatives",
    "nearby_negatives",
    "unanswerable_sentences",
    "retrieval_k",
)


@dataclass(frozen=True)
class DataFiles:
    squad: Path
    split: Path
    squad_train: Path | None
    unanswerable: tuple[Path, ...]

    def checksums(self) -> dict[str, str]:
        paths = [self.squad, self.split, *([self.squad_train] if self.squad_train else []), *self.unanswerable]
        return {p.name: sha256(p) for p in paths}


def pairs_key(checksums: dict[str, str], settings: TrainSettings) -> dict:
    """What decides the tokenised pairs: the data, the mining settings, the input layout, the code."""
    layout = [getattr(reader_input, n) for n in dir(reader_input) if n.startswith("MAX_")]
    return {
        "data": checksums,
        "settings": {n: getattr(settings, n) for n in MINING_SETTINGS},
        "layout": layout,
        "version": PAIRS_VERSION,
    }


def cached_pairs(
    files: DataFiles, settings: TrainSettings, cache: Path, work: Path, tokenizer, log: Callable[[str], None]
) -> tuple[Tokenised, dict, dict]:
    """(tokenised pairs, their counts, the cache key): from `cache` when the same data and settings
    were mined before, else mined, tokenised and stored there."""
    key = pairs_key(files.checksums(), settings)
    stem = short_hash(key)
    arrays, record = cache / f"pairs-{stem}.npz", cache / f"pairs-{stem}.json"
    if arrays.is_file() and record.is_file():
        log(f"pairs from the cache: {arrays}")
        return load(arrays), json.loads(record.read_text(encoding="utf-8"))["counts"], key
    examples, counts = mine_pairs(files, settings, work, log)
    began = time.monotonic()
    pairs = tokenise(tokenizer, examples)
    counts["tokenise_seconds"] = round(time.monotonic() - began, 1)
    counts["tokens"] = int(pairs.offsets[-1])
    log(f"tokenised {len(pairs)} pairs ({counts['tokens']} tokens) in {counts['tokenise_seconds']} s")
    cache.mkdir(parents=True, exist_ok=True)
    save(pairs, arrays)
    partial = record.with_name(record.name + ".partial")
    partial.write_text(json.dumps({"key": key, "counts": counts}, indent=1) + "\n", encoding="utf-8")
    partial.replace(record)
    log(f"pairs cached in {arrays}")
    return pairs, counts, key


def mine_pairs(
    files: DataFiles, settings: TrainSettings, work: Path, log: Callable[[str], None]
) -> tuple[list[Example], dict]:
    """Every fitting question's labelled pairs, a question's pairs side by side, and their counts."""
    from rag.embedding import Embedder

    started = time.monotonic()
    found = [u for path in files.unanswerable for u in read_unanswerables(path)]
    corpus = load_corpus(files.squad, files.split, files.squad_train, settings, frozenset(u.title for u in found))
    dev, train = fitting_questions(corpus, settings)
    placed = place_unanswerables(corpus, found, settings.limit_unanswerable, settings.seed)
    log(
        f"fitting on {len(dev)} dev questions ({len(corpus.fit)} articles), {len(train)} training-set questions "
        f"({len(corpus.train_set)} articles), {len(placed.fitting)} unanswerable ones; left out: "
        f"{len(placed.validation)} unanswerable on validation articles, {placed.held_out} on held-out ones, "
        f"{placed.elsewhere} on articles not read"
    )
    retrieved = dev_retrieval(corpus, dev, settings, work, log)
    embedder = Embedder()
    began = time.monotonic()
    pool = Pool.of(corpus.articles, corpus.fit + corpus.train_set, embedder.encode_documents)
    log(f"embedded {len(pool.sentences)} sentences in {time.monotonic() - began:.0f} s")
    questions = dev + train
    vectors = embedder.encode_documents([q.question for q in questions])
    unanswerable_vectors = embedder.encode_documents([u.question for u, _, _ in placed.fitting])
    per_question = Counts(settings.in_paragraph_negatives, settings.nearby_negatives, settings.unanswerable_sentences)
    rng = np.random.default_rng(settings.seed)
    examples = mine(corpus.articles, pool, questions, vectors, retrieved, per_question, rng, log)
    examples += mine_unanswerable(corpus.articles, pool, placed.fitting, unanswerable_vectors, per_question)
    seconds = time.monotonic() - began
    asked = len(questions) + len(placed.fitting)
    log(
        f"mined {len(examples)} pairs: embedding and negatives {seconds:.0f} s "
        f"({1000 * seconds / max(1, asked):.1f} s per 1,000 questions), {time.monotonic() - started:.0f} s in all"
    )
    trained = {e.group for e in examples if e.label == 1}
    return examples, {
        "dev_questions": sum(q.qid in trained for q in dev),
        "training_set_questions": sum(q.qid in trained for q in train),
        "unanswerable_questions": len(placed.fitting),
        "articles": len(corpus.fit) + len(corpus.train_set),
        "pairs": len(examples),
        "positive_pairs": sum(e.label for e in examples),
        "unanswerable_left_out": {
            "validation": len(placed.validation),
            "held_out": placed.held_out,
            "not_read": placed.elsewhere,
        },
        "embedded_sentences": len(pool.sentences),
        "mining_seconds": round(time.monotonic() - started, 1),
    }


def dev_retrieval(
    corpus: Corpus, dev: list[Question], settings: TrainSettings, work: Path, log: Callable[[str], None]
) -> dict[str, list[Sentence]]:
    """The sentences inside the passages the real retrieval returns for each dev question, over
    the fitting dev articles only."""
    write_docs(work / "fit-docs", corpus.squad, corpus.fit)
    pipeline = open_pipeline(work / "fit-docs", work / "fit-index", settings.retrieval_k)
    by_source = {file_name(p, corpus.squad[p]["title"]): corpus.articles[p] for p in corpus.fit}
    out = {}
    for i, q in enumerate(dev):
        out[q.qid] = retrieved_sentences(pipeline, q.question, by_source)
        if (i + 1) % 1000 == 0:
            log(f"retrieval negatives: {i + 1}/{len(dev)} dev questions")
    return out


def retrieved_sentences(pipeline, question: str, by_source: dict[str, Article]) -> list[Sentence]:
    """The sentences inside the passages the pipeline retrieves for `question`, in passage order."""
    found: list[Sentence] = []
    for passage in pipeline.passages(question):
        article = by_source[passage.source]
        found.extend(s for s in article.sentences if passage.start <= s.start and s.end <= passage.end)
    return list(dict.fromkeys(found))
