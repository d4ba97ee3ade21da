"""The default answerer: the reader's best sentence, shortened to its short answer when sure.

`ReaderAnswerer.stream(question, passages)` looks at every sentence of the labelled passages that
the reader read (the reranking stage leaves its `Evidence` on each passage; a passage without it is
read here). The most probable sentence answers, ties going to the earlier passage:
- below `threshold`: the fixed "not found" sentence, and nothing is cited;
- else, when the reader is at least `span_threshold` sure of the short answer inside it
  (`short_answer_confidence`: the span's probability weighted by the sentence's), the answer is
  that phrase, e.g. "Vladimir Medinsky [1]", citing the whole sentence;
- else the answer is the whole sentence, as a quote, with its marker.
A sentence that asks a question or only repeats it never answers, and nor does one whose short
answer lacks what a "when", "what time", "how long", "how many" or "how old" question asks for
(`rag.answer_types`): on the seed's tuning sets that rule raised abstain recall by 0.06-0.20 and
cost no right answer. It does not combine facts from two sentences or write new text: the
llama.cpp answerer (`rag.generate`) does that.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass

from rag.answer_types import STRICT, answer_type, has_answer_type
from rag.prompts import NOT_FOUND
from rag.reader import Reader
from rag.reader_input import Pair
from rag.records import Answer, Chunk, Citation, Claim, Evidence, Passage
from rag.rerank import read_sentences, sentence_pairs


@dataclass(frozen=True)
class Choice:
    passage: Passage
    evidence: Evidence


def short_answer_confidence(probability: float, answer_probability: float, exponent: float) -> float:
    """How sure the reader is of a short answer: its span's probability times its sentence's
    probability raised to `exponent` (0: the span's alone). A span can only be right inside a right
    sentence, so a sure span in an unsure sentence still misleads; `exponent` is chosen with the
    threshold on the validation slice (`eval.reader_measure.choose_short_answer_rule`)."""
    return probability**exponent * answer_probability


class ReaderAnswerer:
    name = "reader"

    def __init__(self, reader: Reader, threshold: float, span_threshold: float, span_exponent: float = 0.0) -> None:
        self.reader = reader
        self.threshold = threshold
        self.span_threshold = span_threshold
        self.span_exponent = span_exponent

    def stream(self, question: str, passages: tuple[Passage, ...]) -> Iterator[str | Answer]:
        answer = self.answer(question, passages)
        yield answer.text
        yield answer

    def answer(self, question: str, passages: tuple[Passage, ...]) -> Answer:
        best = self.best(question, passages)
        if best is None or best.evidence.probability < self.threshold:
            return Answer(question, (Claim(NOT_FOUND),), True, (), passages, self.name)
        p, e = best.passage, best.evidence
        short = None
        sure = short_answer_confidence(e.probability, e.answer_probability, self.span_exponent)
        if sure >= self.span_threshold and e.answer_end > e.answer_start:
            short = _short(best)
        citation = Citation(
            n=p.n,
            doc_id=p.doc_id,
            source=p.source,
            title=p.title,
            start=e.start,
            end=e.end,
            quote=e.text,
            claim=0,
            score=round(e.probability, 4),
        )
        claim = Claim(short or e.text, (p.n,))
        return Answer(question, (claim,), False, (citation,), passages, self.name, short_answer=short)

    def best(self, question: str, passages: tuple[Passage, ...]) -> Choice | None:
        """The most probable sentence over all passages; the earlier passage wins a tie. A passage the
        reranker did not read (every passage, when no reranker ran) is read here; one it read is not
        read again, though a chunk merged into it after the reranker's depth may have added sentences."""
        unread: dict[tuple[str, int, int], Pair] = {}
        owner: dict[tuple[str, int, int], Passage] = {}
        for p in passages:
            if p.evidence:
                continue
            for start, end, pair in sentence_pairs(question, _as_chunk(p)):
                unread[(p.doc_id, start, end)] = pair
                owner[(p.doc_id, start, end)] = p
        read = read_sentences(self.reader, question, unread) if unread else {}
        choices = [Choice(p, e) for p in passages for e in p.evidence]
        choices += [Choice(owner[key], e) for key, e in read.items()]
        wanted = answer_type(question)
        if wanted in STRICT:
            asked = set(re.findall(r"\w+", question.lower()))
            choices = [c for c in choices if has_answer_type(_short(c), wanted, asked)]
        if not choices:
            return None
        return max(choices, key=lambda c: (c.evidence.probability, -c.passage.n, -c.evidence.start))


def _short(choice: Choice) -> str:
    p, e = choice.passage, choice.evidence
    return p.text[e.answer_start - p.start : e.answer_end - p.start]


def _as_chunk(passage: Passage) -> Chunk:
    return Chunk(
        chunk_id="",
        doc_id=passage.doc_id,
        source=passage.source,
        title=passage.title,
        start=passage.start,
        end=passage.end,
        text=passage.text,
    )
