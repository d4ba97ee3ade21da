"""Measuring exported reader graphs the way `python -m rag.ask` uses them, and choosing thresholds.

`measure` asks questions through the real pipeline (search, the reader reranking the first hits,
labelling, the reader answerer's best sentence): validation questions against an index of all
training articles (in corpus) and against one without the validation slice (out of corpus), where
the abstain and short-answer thresholds are chosen; held-out questions against all 48 articles,
only measured. It compares the int8 graph with the fp32 one on a sample, and writes the fp32
readings of a few probe pairs (`write_reference`). It does not train, and chooses nothing from
held-out questions.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from eval.metrics import contains_answer, exact_match, token_f1
from eval.reader_data import Question, sha256
from eval.squad import article_text, file_name
from rag.answer import short_answer_confidence
from rag.reader import Reader
from rag.reader_input import Pair


def write_docs(folder: Path, squad: list[dict], positions: list[int]) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    for old in folder.glob("*.txt"):
        old.unlink()
    for position in positions:
        (folder / file_name(position, squad[position]["title"])).write_text(
            article_text(squad[position]), encoding="utf-8"
        )


def open_pipeline(docs: Path, index: Path, k: int, reader: Reader | None = None):
    """A pipeline over `docs`, built once; it reranks with `reader` when one is given."""
    from rag.pipeline import Pipeline
    from rag.rerank import ReaderReranker
    from rag.settings import Settings

    settings = Settings.from_env(env={}, docs_dir=docs, index_dir=index, k=k)
    pipeline = Pipeline(settings, reranker=ReaderReranker(reader, settings.rerank_depth) if reader else None)
    pipeline.refresh()
    return pipeline


COMPARE = 200
#: Share of short answers that must be right (token F1 >= 0.5) at the chosen short-answer threshold.
SHORT_PRECISION = 0.85
#: What the abstain threshold must give on the validation slice (the issue's targets for it): the
#: share of answered questions answered with the right sentence, and the shares of out-of-corpus and
#: of unanswerable questions that get "not found".
ANSWERED_RIGHT = 0.85
ABSTAIN_OUT_OF_CORPUS = 0.90
ABSTAIN_UNANSWERABLE = 0.70


@dataclass(frozen=True)
class Judged:
    """What the shipped path made of one question: its best sentence and that sentence's short answer."""

    probability: float  # the best sentence's
    sentence_right: bool  # the best sentence holds a gold answer
    answer_probability: float  # the short answer's
    em: float
    f1: float
    hit_at_1: bool  # passage [1] holds a gold answer


def judge(pipeline, reader: Reader, questions) -> list[Judged]:
    """Each question through `pipeline` (reranked by `reader`) and the reader answerer's choice, as
    `python -m rag.ask` makes it, before any threshold."""
    from rag.answer import ReaderAnswerer

    answerer = ReaderAnswerer(reader, threshold=0.0, span_threshold=0.0)
    out = []
    for q in questions:
        passages = pipeline.passages(q.question)
        choice = answerer.best(q.question, passages)
        hit = bool(passages) and contains_answer(passages[0].text, q.answers)
        if choice is None:
            out.append(Judged(0.0, False, 0.0, 0.0, 0.0, hit))
            continue
        p, e = choice.passage, choice.evidence
        short = p.text[e.answer_start - p.start : e.answer_end - p.start]
        out.append(
            Judged(
                e.probability,
                contains_answer(e.text, q.answers),
                e.answer_probability,
                exact_match(short, q.answers),
                token_f1(short, q.answers),
                hit,
            )
        )
    return out


def figures(
    in_corpus: list[Judged],
    out_of_corpus: list[Judged],
    threshold: float,
    span_threshold: float,
    unanswerable: list[Judged] | None = None,
    span_exponent: float = 0.0,
) -> dict:
    answered = [j for j in in_corpus if j.probability >= threshold]
    shortened = [j for j in answered if _short_sure(j, span_exponent) >= span_threshold]
    return {
        "threshold": round(threshold, 3),
        "short_answer_threshold": round(span_threshold, 3),
        "short_answer_exponent": span_exponent,
        "questions_in_corpus": len(in_corpus),
        "questions_out_of_corpus": len(out_of_corpus),
        "hit_at_1": _mean(j.hit_at_1 for j in in_corpus),
        "top1_sentence_accuracy": _mean(j.sentence_right for j in in_corpus),
        "answer_accuracy": _mean(j.sentence_right and j.probability >= threshold for j in in_corpus),
        "short_answer_em_always": _mean(j.em for j in in_corpus),
        "short_answer_f1_always": _mean(j.f1 for j in in_corpus),
        "short_answer_em": _mean(j.em if j in shortened else 0.0 for j in in_corpus),
        "short_answer_f1": _mean(j.f1 if j in shortened else 0.0 for j in in_corpus),
        "short_answers_given": round(len(shortened) / len(in_corpus), 4) if in_corpus else None,
        "short_answers_right": _mean(j.f1 >= 0.5 for j in shortened),
        "short_answers_of_answered": round(len(shortened) / len(answered), 4) if answered else None,
        "answered_share": round(len(answered) / len(in_corpus), 4) if in_corpus else None,
        "answered_right": _mean(j.sentence_right for j in answered),
        "abstain_recall_out_of_corpus": _mean(j.probability < threshold for j in out_of_corpus),
        "questions_unanswerable": len(unanswerable or []),
        "abstain_recall_unanswerable": _mean(j.probability < threshold for j in unanswerable or []),
    }


def choose_threshold(
    in_corpus: list[Judged], out_of_corpus: list[Judged], unanswerable: list[Judged] | None = None
) -> float:
    """The lowest threshold at which `ANSWERED_RIGHT` of the answered questions get the right
    sentence and at least `ABSTAIN_OUT_OF_CORPUS` of the out-of-corpus questions and, when given,
    `ABSTAIN_UNANSWERABLE` of the unanswerable ones get "not found" (the lowest keeps the most right
    answers). When no threshold meets all three: the one maximising answer accuracy plus each abstain
    recall (the lowest of ties)."""
    grid = np.round(np.arange(0.02, 0.99, 0.01), 2)
    for t in grid:
        answered = [j for j in in_corpus if j.probability >= t]
        if (
            answered
            and _mean(j.sentence_right for j in answered) >= ANSWERED_RIGHT
            and _mean(j.probability < t for j in out_of_corpus) >= ABSTAIN_OUT_OF_CORPUS
            and (not unanswerable or _mean(j.probability < t for j in unanswerable) >= ABSTAIN_UNANSWERABLE)
        ):
            return float(t)
    totals = [
        _mean(j.sentence_right and j.probability >= t for j in in_corpus)
        + _mean(j.probability < t for j in out_of_corpus)
        + (_mean(j.probability < t for j in unanswerable) if unanswerable else 0.0)
        for t in grid
    ]
    return float(grid[int(np.argmax(totals))])


def choose_span_threshold(
    in_corpus: list[Judged], threshold: float, precision: float = SHORT_PRECISION, exponent: float = 0.0
) -> float:
    """The lowest short-answer threshold at which the short answers given are right (token F1 of at
    least 0.5 against a gold answer) for at least `precision` of the answered questions that get one;
    a wrong phrase misleads where the whole sentence would not. The reader's sureness of a short
    answer is `rag.answer.short_answer_confidence` with `exponent`."""
    answered = [j for j in in_corpus if j.probability >= threshold]
    for t in np.round(np.arange(0.0, 1.0, 0.01), 2):
        given = [j for j in answered if _short_sure(j, exponent) >= t]
        if given and _mean(j.f1 >= 0.5 for j in given) >= precision:
            return float(t)
    return 1.0


#: The weights of the sentence's probability tried in a short answer's sureness (0: the span's alone).
SHORT_EXPONENTS = (0.0, 0.5, 1.0, 2.0, 3.0, 4.0, 6.0, 8.0, 12.0, 16.0)


def choose_short_answer_rule(
    in_corpus: list[Judged], threshold: float, precision: float = SHORT_PRECISION
) -> tuple[float, float]:
    """(exponent, threshold): of `SHORT_EXPONENTS`, the one whose `choose_span_threshold` gives a short
    answer to the most answered questions (the smallest of ties), with that threshold."""
    answered = [j for j in in_corpus if j.probability >= threshold]
    best: tuple[int, float, float] | None = None
    for exponent in SHORT_EXPONENTS:
        t = choose_span_threshold(in_corpus, threshold, precision, exponent)
        shown = sum(_short_sure(j, exponent) >= t for j in answered)
        if best is None or shown > best[0]:
            best = (shown, exponent, t)
    return best[1], best[2]


def _short_sure(j: Judged, exponent: float) -> float:
    return short_answer_confidence(j.probability, j.answer_probability, exponent)


def _mean(values) -> float | None:
    values = [float(v) for v in values]
    return round(sum(values) / len(values), 4) if values else None


# Probe pairs whose fp32 readings ship as reference.json: the shipped int8 file must read them alike
# (tests/test_reader.py). The seed article's sentences, with the questions people ask of it.
PROBES = [
    (
        "Who led Russia's delegation?",
        "Russia’s mid-level delegation, led by Vladimir Medinsky, an ultra-conservative, "
        "landed earlier in the day in Istanbul.",
        "Zelenskyy sends team for peace talks",
        "",
    ),
    (
        "Who led Russia's delegation?",
        "Ukraine’s delegation will be headed by the defence minister, Rustem Umerov.",
        "Zelenskyy sends team for peace talks",
        "",
    ),
    (
        "Where will the talks take place?",
        "The talks are expected to take place at the Dolmabahçe Palace on the shores of the Bosphorus.",
        "Zelenskyy sends team for peace talks",
        "",
    ),
    ("When do the talks begin?", "The talks are set to begin on Friday.", "Zelenskyy sends team for peace talks", ""),
    (
        "What is the capital of Australia?",
        "The talks are set to begin on Friday.",
        "Zelenskyy sends team for peace talks",
        "",
    ),
    (
        "Who won the Super Bowl?",
        "The Denver Broncos defeated the Carolina Panthers 24–10 to earn their third Super Bowl title.",
        "Super Bowl 50",
        "The American Football Conference champion faced the National Football Conference champion.",
    ),
]


def write_reference(fp32: Reader, int8: Reader, path: Path) -> None:
    """The readings of `PROBES` by the fp32 graph (torch's outputs within 1e-5) and by the shipped
    int8 graph, as JSON: the tests hold the shipped file to its own readings and to the fp32 ones."""
    pairs = [Pair(*probe) for probe in PROBES]
    rows = [
        {
            "question": pair.question,
            "sentence": pair.sentence,
            "title": pair.title,
            "previous": pair.previous,
            "probability": round(full.probability, 5),
            "short_answer": full.short_answer(pair.sentence),
            "short_answer_probability": round(full.answer_probability, 5),
            "shipped_probability": round(small.probability, 5),
            "shipped_short_answer": small.short_answer(pair.sentence),
        }
        for pair, full, small in zip(pairs, fp32.read(pairs), int8.read(pairs))
    ]
    path.write_text(json.dumps(rows, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")


@dataclass(frozen=True)
class _Unanswerable:
    """An unanswerable question as `judge` reads it: no answer to find."""

    question: str
    answers: tuple[str, ...] = ()


JUDGED = "judged.json"


def judgments_key(graph: Path, settings: str, *question_sets: list) -> str:
    """What a set of judgments depends on: the graph's bytes, the pipeline's settings (as text) and
    the questions asked, in order. A change to the pipeline's code is not seen: delete judged.json
    after one."""
    asked = [[q.question for q in questions] for questions in question_sets]
    return hashlib.sha256(json.dumps([sha256(graph), settings, asked]).encode()).hexdigest()


def judged_settings(settings) -> str:
    """The pipeline's settings as a judgment depends on them: `judge` reads before any threshold, so
    the reader's thresholds are left out (choosing them again must not ask every question again)."""
    return repr(
        dataclasses.replace(settings, abstain_threshold=0.0, short_answer_threshold=0.0, short_answer_exponent=0.0)
    )


def read_judgments(path: Path, key: str) -> tuple[list, ...] | None:
    """The judgments `write_judgments` kept under `key`, or None when there are none (or the file
    cannot be read: they are then made again)."""
    try:
        kept = json.loads(path.read_text(encoding="utf-8")).get(key)
        return tuple([Judged(**j) for j in part] for part in kept) if kept else None
    except (OSError, ValueError, TypeError, AttributeError):
        return None


def write_judgments(path: Path, key: str, judgments: tuple[list, ...]) -> None:
    try:
        kept = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        kept = {}
    kept[key] = [[dataclasses.asdict(j) for j in part] for part in judgments]
    path.write_text(json.dumps(kept) + "\n", encoding="utf-8")


def _draw(questions: list[Question], limit: int | None, seed: int) -> list[Question]:
    """`limit` of `questions` drawn with `seed`, in their order; all when `limit` is None or 0."""
    if not limit or limit >= len(questions):
        return questions
    keep = sorted(np.random.default_rng(seed).choice(len(questions), limit, replace=False))
    return [questions[int(i)] for i in keep]


def measure(
    corpus,
    out: Path,
    seed: int,
    k: int,
    val_limit: int | None,
    held_out_limit: int | None,
    log: Callable[[str], None],
    val_unanswerable: list[str] = (),
) -> tuple[dict, dict]:
    """The figures of `out`/reader.onnx on the validation slice (with `val_unanswerable`, the
    unanswerable questions about its articles, asked with those articles indexed) and the held-out
    articles of `corpus` (an `eval.reader_corpus.Corpus`), and int8 against fp32 on a sample of
    each question set; writes `out`/reference.json."""
    from rag.embedding import bundled_model_dir
    from rag.settings import Settings

    work = out / "work"
    articles, squad = corpus.articles, corpus.squad
    write_docs(work / "fit-docs", squad, corpus.fit)
    write_docs(work / "train-docs", squad, corpus.dev_train)
    write_docs(work / "all-docs", squad, sorted(corpus.dev_train + corpus.held))
    val_questions = _draw([q for pos in corpus.val for q in articles[pos].questions], val_limit, seed)
    held_questions = _draw([q for pos in corpus.held for q in articles[pos].questions], held_out_limit, seed)
    unanswerable = [_Unanswerable(q) for q in val_unanswerable]
    pipeline_settings = judged_settings(Settings.from_env(env={}, docs_dir=Path("docs"), index_dir=Path("index"), k=k))

    def judged(reader: Reader, val: list, held: list, unanswered: list) -> tuple[list, list, list, list]:
        """Validation questions against all training articles and against the fitting ones only
        (their own article missing: out of corpus), held-out questions against all 48 articles,
        validation unanswerables against all training articles; kept in `out`/judged.json, so
        measuring the same graph on the same questions again reads them back."""
        key = judgments_key(reader.model_path, pipeline_settings, val, held, unanswered)
        kept = read_judgments(out / JUDGED, key)
        if kept is not None:
            log(f"{reader.model_path.name}: judgments read back from {JUDGED}")
            return kept
        made = judge_all(reader, val, held, unanswered)
        write_judgments(out / JUDGED, key, made)
        return made

    def judge_all(reader: Reader, val: list, held: list, unanswered: list) -> tuple[list, list, list, list]:
        log(
            f"{reader.model_path.name}: {len(val)} validation questions in and out of corpus, "
            f"{len(unanswered)} unanswerable, {len(held)} held out"
        )
        train = open_pipeline(work / "train-docs", work / "train-index", k, reader)
        return (
            judge(train, reader, val),
            judge(open_pipeline(work / "fit-docs", work / "fit-index", k, reader), reader, val),
            judge(open_pipeline(work / "all-docs", work / "all-index", k, reader), reader, held),
            judge(train, reader, unanswered),
        )

    def summary(val_in: list, val_out: list, held_in: list, val_unanswerable: list) -> dict:
        threshold = choose_threshold(val_in, val_out, val_unanswerable)
        exponent, span = choose_short_answer_rule(val_in, threshold)
        return {
            "validation": figures(val_in, val_out, threshold, span, val_unanswerable, exponent),
            "held_out": figures(held_in, [], threshold, span, span_exponent=exponent),
        }

    int8 = Reader(out / "reader.onnx", bundled_model_dir() / "tokenizer.json")
    fp32 = Reader(out / "reader.fp32.onnx", bundled_model_dir() / "tokenizer.json")
    write_reference(fp32, int8, out / "reference.json")
    full = judged(int8, val_questions, held_questions, unanswerable)
    measured = summary(*full)
    log(f"int8: {json.dumps(measured)}")
    # fp32 runs about four times slower, so the two are compared on a sample of each question set.
    pick = np.random.default_rng(seed)
    val_some = sorted(pick.choice(len(val_questions), min(COMPARE, len(val_questions)), replace=False))
    held_some = sorted(pick.choice(len(held_questions), min(COMPARE, len(held_questions)), replace=False))
    unanswerable_some = sorted(pick.choice(len(unanswerable), min(COMPARE, len(unanswerable)), replace=False))
    fp32_judged = judged(
        fp32,
        [val_questions[i] for i in val_some],
        [held_questions[i] for i in held_some],
        [unanswerable[i] for i in unanswerable_some],
    )
    compared = {
        "questions": (
            f"{len(val_some)} validation, {len(held_some)} held-out and {len(unanswerable_some)} unanswerable "
            "questions drawn with the seed"
        ),
        "int8": summary(
            [full[0][i] for i in val_some],
            [full[1][i] for i in val_some],
            [full[2][i] for i in held_some],
            [full[3][i] for i in unanswerable_some],
        ),
        "fp32": summary(*fp32_judged),
    }
    log(f"compared: {json.dumps(compared)}")
    return measured, compared
