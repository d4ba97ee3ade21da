"""The reranking stage: the trained reader reads the sentences of the top hits and reorders them.

`ReaderReranker(reader)(question, hits)` takes the first `depth` hits, splits their chunks into
sentences (a sentence shared by overlapping chunks is read once), asks the reader how likely each
sentence is to answer the question, and orders those hits by their best sentence, so the passage
that holds the answer gets label [1]. Hits past `depth` follow in their old order. Each read hit
carries its sentences as `Evidence`, best first, which the reader answerer uses without reading
again. A sentence that asks a question, or only repeats the question's words, gets probability 0:
it cannot be an answer. It does not label passages or decide whether to answer.
"""

from __future__ import annotations

from dataclasses import replace

from rag.lexical import restates
from rag.reader import Reader, Reading
from rag.reader_input import Pair
from rag.records import Chunk, Evidence, Hit
from rag.sentences import is_interrogative, split_sentences

#: Hits whose sentences the reader reads. On the reader's validation slice (`python -m
#: eval.rerank_depth`) the answer's passage is among the first 8 fused hits for 0.992 of questions
#: (0.990 at 6, 0.995 at 12). Depth 6 reads 27 of the seed question's 34 sentences but was not
#: measurably faster on the seed's questions (one run, beside another job), so 8 stays.
RERANK_DEPTH = 8


class ReaderReranker:
    """Reorders hits by the reader's best sentence in each; the reader loads on first use."""

    def __init__(self, reader: Reader, depth: int = RERANK_DEPTH) -> None:
        self.reader = reader
        self.depth = depth

    def __call__(self, question: str, hits: list[Hit]) -> list[Hit]:
        head, tail = hits[: self.depth], hits[self.depth :]
        evidence = read_chunks(self.reader, question, [h.chunk for h in head])
        scored = [
            replace(h, score=max((e.probability for e in ev), default=0.0), evidence=ev)
            for h, ev in zip(head, evidence)
        ]
        order = sorted(range(len(scored)), key=lambda i: (-scored[i].score, i))
        return [scored[i] for i in order] + tail


def read_chunks(reader: Reader, question: str, chunks: list[Chunk]) -> list[tuple[Evidence, ...]]:
    """The reader's evidence for every sentence of each chunk, best first, one tuple per chunk."""
    spans = [sentence_pairs(question, c) for c in chunks]
    unique: dict[tuple[str, int, int], Pair] = {}
    for chunk, found in zip(chunks, spans):
        for start, end, pair in found:
            key = (chunk.doc_id, start, end)
            # Overlapping chunks share sentences; keep the copy that knows its previous sentence.
            if key not in unique or (pair.previous and not unique[key].previous):
                unique[key] = pair
    read = read_sentences(reader, question, unique)
    return [
        tuple(sorted((read[(c.doc_id, s, e)] for s, e, _ in found), key=lambda ev: (-ev.probability, ev.start)))
        for c, found in zip(chunks, spans)
    ]


def read_sentences(
    reader: Reader, question: str, sentences: dict[tuple[str, int, int], Pair]
) -> dict[tuple[str, int, int], Evidence]:
    """Evidence for each (doc id, start, end) → pair; sentences that cannot answer get probability 0
    without being read."""
    keys = [k for k, p in sentences.items() if not _cannot_answer(p.sentence, question)]
    readings = dict(zip(keys, reader.read([sentences[k] for k in keys]), strict=True))
    return {k: _evidence(k[1], k[2], pair, readings.get(k)) for k, pair in sentences.items()}


def sentence_pairs(question: str, chunk: Chunk) -> list[tuple[int, int, Pair]]:
    """(start, end, pair) for each sentence of `chunk`, offsets into the article. The previous
    sentence is given only within one paragraph, as in training."""
    found = []
    previous = ""
    previous_end = None
    for s, e in split_sentences(chunk.text):
        if previous_end is not None and "\n\n" in chunk.text[previous_end:s]:
            previous = ""
        text = chunk.text[s:e]
        found.append((chunk.start + s, chunk.start + e, Pair(question, text, chunk.title, previous)))
        previous, previous_end = text, e
    return found


def _cannot_answer(sentence: str, question: str) -> bool:
    return is_interrogative(sentence) or restates(sentence, question)


def _evidence(start: int, end: int, pair: Pair, reading: Reading | None) -> Evidence:
    if reading is None:  # a sentence that cannot answer was not read
        return Evidence(start, end, pair.sentence, 0.0, start, start, 0.0)
    return Evidence(
        start=start,
        end=end,
        text=pair.sentence,
        probability=round(reading.probability, 6),
        answer_start=start + reading.answer_start,
        answer_end=start + reading.answer_end,
        answer_probability=round(reading.answer_probability, 6),
    )
