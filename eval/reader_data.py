"""SQuAD articles → the reader's training pairs: (question, sentence, context) labelled 1 or 0.

Used only by `python -m eval.train_reader`. For each answerable question of a training article:
- the positive is the sentence of its paragraph that holds the first gold answer, with the
  answer's character span inside that sentence (the short-answer label);
- in-paragraph negatives are other sentences of the gold paragraph ("not this sentence");
- nearby negatives are sentences of other paragraphs close in meaning to the question, best first
  ("looks right, is not"): from the passages the real retrieval returns, or from the same article;
- an out-of-article negative is the sentence of another article closest in meaning ("not here").
No negative holds any gold answer string. An unanswerable question (SQuAD 2.0 `is_impossible`,
read from either layout by `read_unanswerables`) gets only negatives: sentences of its own
paragraph and the closest sentence of another article. Every draw comes from a seeded generator.
It does not embed, retrieve or train anything, and does not choose which articles are held out.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from eval.jsonfile import read_json
from eval.metrics import contains_answer
from eval.squad import article_title
from rag.errors import RagError
from rag.reader_input import Pair
from rag.sentences import split_sentences


@dataclass(frozen=True)
class Sentence:
    article: int  # position of the article in the SQuAD file
    paragraph: int  # index of the paragraph in the article
    start: int  # offsets into the whole-article text
    end: int
    text: str
    previous: str  # the sentence before it in the same paragraph, or ""


@dataclass(frozen=True)
class Question:
    qid: str
    article: int
    paragraph: int
    question: str
    answers: tuple[str, ...]
    answer_start: int  # offset of the first answer in the whole-article text
    answer_text: str


@dataclass(frozen=True)
class Article:
    position: int
    title: str  # readable, as eval.squad writes it
    text: str  # title line, then paragraphs separated by blank lines (eval.squad.article_text)
    sentences: tuple[Sentence, ...]
    questions: tuple[Question, ...]


@dataclass(frozen=True)
class Example:
    pair: Pair
    label: int
    span: tuple[int, int] | None  # answer characters in pair.sentence, for positives
    group: str = ""  # the question's id: a question's pairs are trained side by side


@dataclass(frozen=True)
class Unanswerable:
    """A question that its paragraph does not answer, though it looks as if it did."""

    qid: str
    title: str  # raw SQuAD title of the paragraph's article
    context: str  # the paragraph, whitespace collapsed as in `Article.text`
    question: str


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def read_articles(squad: list[dict]) -> list[Article]:
    """Every SQuAD article as whole-article text with sentences and questions located in it.

    Paragraph whitespace is collapsed as `eval.squad` does; answer offsets are moved accordingly.
    """
    articles = []
    for position, raw in enumerate(squad):
        title = article_title(raw["title"])
        text = title + "\n\n"
        sentences: list[Sentence] = []
        questions: list[Question] = []
        for p_index, paragraph in enumerate(raw["paragraphs"]):
            context = paragraph["context"]
            collapsed, moved = _collapse(context)
            base = len(text)
            text += collapsed + "\n\n"
            previous = ""
            for s, e in split_sentences(collapsed):
                sentences.append(Sentence(position, p_index, base + s, base + e, collapsed[s:e], previous))
                previous = collapsed[s:e]
            for qa in paragraph["qas"]:
                answers = tuple(dict.fromkeys(a["text"].strip() for a in qa["answers"] if a["text"].strip()))
                if not answers:
                    continue
                first = qa["answers"][0]
                start = base + moved[first["answer_start"]]
                questions.append(
                    Question(
                        qid=qa["id"],
                        article=position,
                        paragraph=p_index,
                        question=qa["question"].strip(),
                        answers=answers,
                        answer_start=start,
                        answer_text=" ".join(first["text"].split()),
                    )
                )
        articles.append(Article(position, title, text, tuple(sentences), tuple(questions)))
    return articles


def _collapse(context: str) -> tuple[str, list[int]]:
    """`" ".join(context.split())` and, for every character of `context`, its offset in the result."""
    out: list[str] = []
    moved: list[int] = []
    pending_space = False
    for ch in context:
        if ch.isspace():
            pending_space = bool(out)
            moved.append(len(out))
            continue
        if pending_space:
            out.append(" ")
            pending_space = False
        moved.append(len(out))
        out.append(ch)
    moved.append(len(out))
    return "".join(out), moved


def gold_sentence(article: Article, question: Question) -> Sentence | None:
    """The sentence holding the whole first answer, or None when it spans two sentences."""
    end = question.answer_start + len(question.answer_text)
    for sentence in article.sentences:
        inside = sentence.start <= question.answer_start and end <= sentence.end
        if (
            inside
            and sentence.text[question.answer_start - sentence.start : end - sentence.start] == question.answer_text
        ):
            return sentence
    return None


def examples_for(
    article: Article,
    question: Question,
    retrieved: list[Sentence],
    other_article: Sentence | None,
    titles: dict[int, str],
    rng: np.random.Generator,
    in_paragraph: int = 2,
    from_retrieval: int = 2,
) -> list[Example]:
    """The labelled pairs of one question; empty when its answer is not inside one sentence.

    `retrieved` are nearby candidate sentences (retrieved passages or the same article), best
    first, of which the first `from_retrieval` outside the gold paragraph are kept; `other_article`
    the closest sentence of another article; `titles` the title of each article by position (every
    pair carries its own article's title, as at inference, so a title cannot give a label away).
    """
    gold = gold_sentence(article, question)
    if gold is None:
        return []
    offset = question.answer_start - gold.start
    out = [
        Example(
            Pair(question.question, gold.text, article.title, gold.previous),
            1,
            (offset, offset + len(question.answer_text)),
            question.qid,
        )
    ]

    def negative(sentence: Sentence) -> Example:
        pair = Pair(question.question, sentence.text, titles[sentence.article], sentence.previous)
        return Example(pair, 0, None, question.qid)

    same = [
        s
        for s in article.sentences
        if s.paragraph == question.paragraph and s != gold and not contains_answer(s.text, question.answers)
    ]
    for i in rng.permutation(len(same))[:in_paragraph]:
        out.append(negative(same[int(i)]))
    taken = 0
    for s in retrieved:
        if taken == from_retrieval:
            break
        if (s.article, s.paragraph) != (question.article, question.paragraph) and not contains_answer(
            s.text, question.answers
        ):
            out.append(negative(s))
            taken += 1
    if other_article is not None and not contains_answer(other_article.text, question.answers):
        out.append(negative(other_article))
    return out


def read_unanswerables(path: Path) -> list[Unanswerable]:
    """The unanswerable questions in `path` (`.gz` is read through gzip), in file order.

    Two layouts are told apart by the first record under `data`: SQuAD's (articles with
    `paragraphs`, of whose questions only those marked `is_impossible` are kept) and flat records
    with `title`, `context` and `question` (each kept unless it carries an answer)."""
    data = read_json(path, f"Unanswerable-questions file {path} does not exist.", f"Cannot read {path} as JSON")
    records = data.get("data") if isinstance(data, dict) else None
    if not isinstance(records, list) or not records or not isinstance(records[0], dict):
        raise RagError(f"{path} holds no records under 'data'; expected SQuAD 2.0 JSON or flat question records.")
    try:
        if "paragraphs" in records[0]:
            return [
                Unanswerable(qa["id"], raw["title"], " ".join(paragraph["context"].split()), qa["question"].strip())
                for raw in records
                for paragraph in raw["paragraphs"]
                for qa in paragraph["qas"]
                if qa.get("is_impossible")
            ]
        return [
            Unanswerable(r["id"], r["title"], " ".join(r["context"].split()), r["question"].strip())
            for r in records
            if not r.get("answers")
        ]
    except (KeyError, TypeError, AttributeError) as err:
        raise RagError(f"{path}: a record lacks {err}; expected SQuAD 2.0 JSON or flat question records.") from None


def paragraph_keys(squad: list[dict]) -> dict[tuple[str, str], tuple[int, int]]:
    """(raw title, collapsed paragraph text) → (article position, paragraph index), to find the
    paragraph an `Unanswerable` was written against."""
    return {
        (raw["title"], " ".join(paragraph["context"].split())): (position, index)
        for position, raw in enumerate(squad)
        for index, paragraph in enumerate(raw["paragraphs"])
    }


def unanswerable_examples(
    question: Unanswerable, own: list[Sentence], other_article: Sentence | None, titles: dict[int, str]
) -> list[Example]:
    """Label-0 pairs of an unanswerable question: `own` (sentences of its paragraph, the ones to
    keep) and the closest sentence of another article. Other paragraphs of its own article are
    left out: SQuAD 2.0 only promises that its own paragraph does not answer it."""
    chosen = [*own, other_article] if other_article is not None else own
    return [
        Example(Pair(question.question, s.text, titles[s.article], s.previous), 0, None, question.qid) for s in chosen
    ]
