"""[n] markers in a written answer: parse them, map them to passages and spans, check support.

`split_claims` cuts an answer into sentences ("claims"), each with the passage labels its marker
names: `[1]`, `[1, 3]`, `[1-2]`, `[1][2]` and `[1] [2]` are understood; labels that name no passage
are dropped. `SupportChecker.cite` then finds, for every claim and every passage it cites, the
sentence of that passage that best supports it (all-MiniLM-L6-v2 cosine plus the share of the
claim's idf-weighted words the sentence contains) and records it as a `Citation` with exact
article offsets and `supported` = score >= threshold. A claim without a marker is given the
passage whose sentence supports it best. An answer that is only the fixed "not found" sentence
abstains. It does not judge whether the answer is right, only whether a cited sentence backs it.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from rag.embedding import Embedder
from rag.lexical import restates, terms, weighted_overlap
from rag.prompts import NOT_FOUND
from rag.records import Citation, Claim, Passage
from rag.sentences import is_interrogative, split_sentences

#: Support score weights: meaning (cosine) and words (idf-weighted overlap) count equally. Similar
#: sentences can still differ in the one name or number that matters ("Lavrov led the delegation"
#: against "led by Medinsky"), so the share of the claim's names and numbers that the sentence lacks
#: is subtracted with weight W_MISSING.
W_MEANING = 0.5
W_WORDS = 0.5
W_MISSING = 0.3

#: Default support threshold, measured on the hand-made claim/sentence pairs from the seed article
#: in tests/test_citations.py: claims a sentence states scored 0.72-0.94, claims it does not support
#: 0.00-0.48 (the highest: entity swaps such as "Zelenskyy met Putin in Istanbul"). Loose paraphrases
#: ("Medinsky headed the Russian team") score 0.47-0.85, so a few true ones are flagged.
SUPPORT_THRESHOLD = 0.5

# One marker: digits separated by commas or range dashes, inside square brackets.
_MARKER = re.compile(r"\[\s*\d+(?:\s*[,;\-–]\s*\d+)*\s*\]")
# A run of markers with only spaces between them counts as one ("[1][2]", "[1] [3]").
_MARKER_RUN = re.compile(rf"{_MARKER.pattern}(?:[ \t]*{_MARKER.pattern})*")
# Punctuation a model puts after a marker ("... Medinsky [1].") belongs to the sentence before it.
_TRAILING_PUNCT = re.compile(r"""[ \t]*[.!?;:,]+['"’”)]*""")
_WORD = re.compile(r"\w+(?:['’]\w+)*")
# Ranges longer than this are not expanded (nobody cites [1-500]; k is small).
_MAX_RANGE = 100


def parse_labels(marker: str) -> tuple[int, ...]:
    """The labels inside one or more markers, in order, without repeats: "[1-3][5]" -> (1, 2, 3, 5)."""
    labels: list[int] = []
    for inner in re.findall(r"\[([^\]]*)\]", marker):
        for part in re.split(r"[,;]", inner):
            bounds = [int(x) for x in re.findall(r"\d+", part)]
            if len(bounds) == 2 and 0 <= bounds[1] - bounds[0] <= _MAX_RANGE:
                labels.extend(range(bounds[0], bounds[1] + 1))
            else:
                labels.extend(bounds)
    return tuple(dict.fromkeys(labels))


def find_markers(answer: str) -> list[tuple[int, tuple[int, ...]]]:
    """(end offset, labels) of each run of markers in `answer`, in order."""
    return [(run.end(), parse_labels(run.group())) for run in _MARKER_RUN.finditer(answer)]


def split_claims(answer: str, k: int) -> list[Claim]:
    """The answer's sentences with the labels (1..k only) of the marker that ends each.

    Text before a marker may hold several sentences: the marker belongs to the last one, the
    others get no labels. Text after the last marker is split into unlabelled sentences.
    """
    claims: list[Claim] = []
    cursor = 0
    for run in _MARKER_RUN.finditer(answer):
        labels = tuple(n for n in parse_labels(run.group()) if 1 <= n <= k)
        texts = _sentences(answer[cursor : run.start()])
        tail = _TRAILING_PUNCT.match(answer, run.end())
        cursor = tail.end() if tail else run.end()
        if tail and texts:
            texts[-1] = texts[-1].rstrip() + tail.group().strip()
        claims.extend(Claim(t, ()) for t in texts[:-1])
        if texts:
            claims.append(Claim(texts[-1], labels))
        elif claims and labels:  # a second marker run after a sentence: "A. [1] [2]" spaced oddly
            last = claims[-1]
            claims[-1] = Claim(last.text, tuple(dict.fromkeys(last.labels + labels)))
    claims.extend(Claim(t, ()) for t in _sentences(answer[cursor:]))
    return claims


def is_refusal(text: str) -> bool:
    """Whether `text` (a claim, markers removed) is the fixed "not found" sentence."""
    return " ".join(text.split()).strip(" \"'“”") == NOT_FOUND


def complete_part(answer: str) -> str:
    """`answer` up to its last marker (and the punctuation after it); all of it if it has none.

    For an answer cut off at the token limit: the unfinished sentence after the last marker goes.
    """
    runs = list(_MARKER_RUN.finditer(answer))
    if not runs:
        return answer
    tail = _TRAILING_PUNCT.match(answer, runs[-1].end())
    return answer[: tail.end() if tail else runs[-1].end()]


def specifics(claim: str) -> list[str]:
    """The names and numbers of a claim: capitalised words after its first word, and words with digits."""
    found = []
    for i, match in enumerate(_WORD.finditer(claim)):
        word = match.group()
        if any(ch.isdigit() for ch in word) or (i > 0 and word[0].isupper()):
            found.append(_base(word))
    return list(dict.fromkeys(found))


def _word_set(text: str) -> set[str]:
    return {_base(w) for w in _WORD.findall(text)}


def _base(word: str) -> str:
    """Lower-cased, without a possessive "'s"."""
    return re.sub(r"['’]s$", "", word.lower())


def _mentions(words: set[str], name: str) -> bool:
    """Whether `words` holds `name` or a form of it ("Russia" / "Russian"; four letters shared at least)."""
    if name in words:
        return True
    return len(name) >= 4 and any(len(w) >= 4 and (w.startswith(name) or name.startswith(w)) for w in words)


def _sentences(text: str) -> list[str]:
    """The sentences of a stretch of answer text that hold at least one word."""
    return [text[s:e] for s, e in split_sentences(text) if re.search(r"\w", text[s:e])]


@dataclass(frozen=True)
class CitedAnswer:
    claims: tuple[Claim, ...]  # each with its labels and whether a cited sentence supports it
    abstained: bool
    citations: tuple[Citation, ...]  # in claim order, then label order


class SupportChecker:
    """Scores how well passage sentences back answer sentences; MiniLM loads on first use."""

    def __init__(
        self, embedder: Embedder, idf: Callable[[str], float] | None = None, threshold: float = SUPPORT_THRESHOLD
    ) -> None:
        self.embedder = embedder
        self.idf = idf or (lambda term: 1.0)
        self.threshold = threshold

    def scores(self, claims: list[str], sentences: list[str]) -> np.ndarray:
        """Support of every sentence for every claim: shape (len(claims), len(sentences))."""
        if not claims or not sentences:
            return np.zeros((len(claims), len(sentences)), dtype=np.float32)
        meaning = self.embedder.encode_sentences(claims) @ self.embedder.encode_sentences(sentences).T
        sentence_terms = [terms(s) for s in sentences]
        sentence_words = [_word_set(s) for s in sentences]
        words = np.zeros_like(meaning)
        missing = np.zeros_like(meaning)
        for i, claim in enumerate(claims):
            claim_terms = terms(claim)
            idf = {t: self.idf(t) for t in claim_terms}
            named = specifics(claim)
            for j, st in enumerate(sentence_terms):
                words[i, j] = weighted_overlap(claim_terms, st, idf)
                if named:
                    missing[i, j] = sum(not _mentions(sentence_words[j], w) for w in named) / len(named)
        return np.clip(W_MEANING * meaning + W_WORDS * words - W_MISSING * missing, 0.0, 1.0)

    def cite(self, answer: str, passages: tuple[Passage, ...], question: str = "") -> CitedAnswer:
        """Claims of `answer`, each tied to the best-supporting sentence of every passage it cites.

        A passage sentence that asks (ends with "?") or only repeats `question` backs no claim.
        """
        by_label = {p.n: p for p in passages}
        claims = split_claims(answer, max(by_label, default=0))
        claims = [Claim(c.text, tuple(n for n in c.labels if n in by_label)) for c in claims]
        kept = [c for c in claims if not is_refusal(c.text)]
        if not kept:
            return CitedAnswer((Claim(NOT_FOUND),), True, ())
        # Every sentence of every passage, with its offsets into the article.
        spans = [(p, p.start + s, p.start + e) for p in passages for s, e in split_sentences(p.text)]
        texts = [p.text[start - p.start : end - p.start] for p, start, end in spans]
        support = self.scores([c.text for c in kept], texts)
        backs = [not is_interrogative(t) and not (question and restates(t, question)) for t in texts]
        support[:, [j for j, ok in enumerate(backs) if not ok]] = -1.0  # below any real score
        citations: list[Citation] = []
        final: list[Claim] = []
        for i, claim in enumerate(kept):
            labels = claim.labels
            mine = len(citations)
            if not labels and any(backs):
                # No marker: attach the passage holding the best-supporting sentence.
                labels = (spans[int(np.argmax(support[i]))][0].n,)
            for n in labels:
                rows = [j for j, (p, _, _) in enumerate(spans) if p.n == n and backs[j]]
                if not rows:
                    continue
                j = max(rows, key=lambda r: support[i, r])
                p, start, end = spans[j]
                score = float(support[i, j])
                citations.append(
                    Citation(
                        n=n,
                        doc_id=p.doc_id,
                        source=p.source,
                        title=p.title,
                        start=start,
                        end=end,
                        quote=texts[j],
                        claim=i,
                        supported=score >= self.threshold,
                        support=round(score, 3),
                    )
                )
            # A claim stands when some passage it cites has a sentence that backs it.
            final.append(Claim(claim.text, labels, any(c.supported for c in citations[mine:])))
        return CitedAnswer(tuple(final), False, tuple(citations))
