"""Answer matching and the eval's metrics, as pure functions over per-question outcomes.

An answer "matches" when, after normalising both sides (NFKD, combining marks removed, lower
case, punctuation turned into spaces, whitespace collapsed), an accepted answer string is a
substring of the text. `summarize` turns a list of `Outcome`s into the report's metrics and
`below_thresholds` compares them with minimums. Nothing here runs the pipeline or reads files.
"""

from __future__ import annotations

import math
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

#: Metrics that `summarize` reports as fractions in [0, 1], in report order.
RATE_KEYS = (
    "hit_at_1",
    "hit_at_k",
    "mrr",
    "answer_accuracy",
    "citation_accuracy",
    "short_answer_em",
    "short_answer_f1",
    "abstain_recall",
    "abstain_precision",
)


def normalize(text: str) -> str:
    """Lower-case text without accents or punctuation, words separated by single spaces."""
    decomposed = unicodedata.normalize("NFKD", text)
    kept = []
    for ch in decomposed:
        category = unicodedata.category(ch)
        if category.startswith("M"):  # combining marks: the accents NFKD split off
            continue
        # Punctuation (P*) and symbols (S*) separate words, as whitespace does.
        kept.append(" " if category[0] in "PSZC" else ch.lower())
    return " ".join("".join(kept).split())


def contains_answer(text: str, answers: Iterable[str]) -> bool:
    """Whether any accepted answer occurs in `text`, on word boundaries after normalising both.

    Word boundaries keep "30" from matching inside "300"; an answer that normalises to nothing
    (only punctuation) never matches.
    """
    haystack = f" {normalize(text)} "
    for answer in answers:
        needle = normalize(answer)
        if needle and f" {needle} " in haystack:
            return True
    return False


def hit_rank(passage_texts: Sequence[str], answers: Sequence[str]) -> int | None:
    """The 1-based rank of the first passage that contains an answer, or None."""
    for rank, text in enumerate(passage_texts, start=1):
        if contains_answer(text, answers):
            return rank
    return None


@dataclass(frozen=True)
class Outcome:
    """What happened to one question; `answers` empty means the right response is to abstain."""

    answers: tuple[str, ...]
    abstained: bool
    rank: int | None  # rank of the first retrieved passage holding an answer
    answer_correct: bool  # the answer text holds an answer
    citation_correct: bool  # some cited quote holds an answer
    latency_ms: float
    short_em: float = 0.0  # exact match of the short answer (or of the answer text when there is none)
    short_f1: float = 0.0

    @property
    def answerable(self) -> bool:
        return bool(self.answers)

    @property
    def passed(self) -> bool:
        if not self.answerable:
            return self.abstained
        return self.answer_correct and not self.abstained


def percentile(values: Sequence[float], q: float) -> float | None:
    """The q-th percentile (0-100) with linear interpolation between closest ranks; None if empty."""
    if not values:
        return None
    ordered = sorted(values)
    position = (len(ordered) - 1) * q / 100
    low, high = math.floor(position), math.ceil(position)
    return ordered[low] + (ordered[high] - ordered[low]) * (position - low)


def _rate(hits: int, total: int) -> float | None:
    return round(hits / total, 4) if total else None


def summarize(outcomes: Sequence[Outcome]) -> dict:
    """The report's metrics; a rate whose denominator is empty is None.

    Retrieval metrics (hit_at_1, hit_at_k, mrr) and answer_accuracy count answerable questions.
    citation_accuracy counts answerable questions that were answered (an answer to an
    unanswerable question is already an abstain_recall miss). abstain_precision counts all
    abstentions.
    """
    answerable = [o for o in outcomes if o.answerable]
    unanswerable = [o for o in outcomes if not o.answerable]
    answered = [o for o in answerable if not o.abstained]
    abstentions = [o for o in outcomes if o.abstained]
    latencies = [o.latency_ms for o in outcomes]
    p50, p95 = percentile(latencies, 50), percentile(latencies, 95)
    return {
        "n": len(outcomes),
        "n_answerable": len(answerable),
        "n_unanswerable": len(unanswerable),
        "hit_at_1": _rate(sum(o.rank == 1 for o in answerable), len(answerable)),
        "hit_at_k": _rate(sum(o.rank is not None for o in answerable), len(answerable)),
        "mrr": _rate(sum(1 / o.rank for o in answerable if o.rank), len(answerable)) if answerable else None,
        "answer_accuracy": _rate(sum(o.passed for o in answerable), len(answerable)),
        "citation_accuracy": _rate(sum(o.citation_correct for o in answered), len(answered)),
        "short_answer_em": _rate(sum(o.short_em for o in answered), len(answerable)),
        "short_answer_f1": _rate(sum(o.short_f1 for o in answered), len(answerable)),
        "abstain_recall": _rate(sum(o.abstained for o in unanswerable), len(unanswerable)),
        "abstain_precision": _rate(sum(not o.answerable for o in abstentions), len(abstentions)),
        "latency_ms": {
            "p50": None if p50 is None else round(p50, 1),
            "p95": None if p95 is None else round(p95, 1),
        },
    }


def below_thresholds(metrics: dict, thresholds: dict[str, float]) -> list[str]:
    """One line per metric under its minimum (or not measured), e.g. "answer_accuracy 0.85 < 0.90"."""
    failures = []
    for key, minimum in thresholds.items():
        value = metrics.get(key)
        if value is None:
            failures.append(f"{key} not measured (no questions of that kind) < {minimum:.2f}")
        elif value < minimum:
            failures.append(f"{key} {value:.4f} < {minimum:.2f}")
    return failures


# --- short answers, scored as the SQuAD evaluation does ------------------------------------------

_ARTICLES = frozenset({"a", "an", "the"})


def answer_tokens(text: str) -> list[str]:
    """Words of a short answer for EM and F1: `normalize`d, without the articles a, an, the."""
    return [w for w in normalize(text).split() if w not in _ARTICLES]


def exact_match(prediction: str, answers: Iterable[str]) -> float:
    """1.0 when the prediction equals some accepted answer once both are `answer_tokens`, else 0.0."""
    predicted = answer_tokens(prediction)
    return float(any(predicted == answer_tokens(a) for a in answers))


def token_f1(prediction: str, answers: Iterable[str]) -> float:
    """The best word-overlap F1 between the prediction and any accepted answer, in [0, 1]."""
    predicted = answer_tokens(prediction)
    best = 0.0
    for answer in answers:
        gold = answer_tokens(answer)
        common = sum(min(predicted.count(w), gold.count(w)) for w in set(predicted))
        if common:
            precision, recall = common / len(predicted), common / len(gold)
            best = max(best, 2 * precision * recall / (precision + recall))
        elif not predicted and not gold:
            best = max(best, 1.0)
    return best
