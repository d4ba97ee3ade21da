"""Word-level matching: the BM25 index over chunks, and the term weights the answerers share.

Terms are lower-cased words without English stopwords, Snowball-stemmed (PyStemmer), so
"negotiations" matches "negotiating". BM25 scoring is bm25s (Lucene variant, k1=1.5, b=0.75).
It does not do phrase matching, synonyms or spelling correction.
"""

from __future__ import annotations

import functools
import math
import re
from collections.abc import Callable
from pathlib import Path

import bm25s
import numpy as np
import Stemmer
from bm25s.stopwords import STOPWORDS_EN

from rag.sentences import words

_WORD_RE = re.compile(r"\w+(?:['’]\w+)*")

STOPWORDS = frozenset(STOPWORDS_EN) | frozenset(
    "s t don doesn didn isn wasn won what which who whom whose when where why how also would could "
    "did does said says".split()
)


@functools.cache
def _stemmer() -> Stemmer.Stemmer:
    return Stemmer.Stemmer("english")


@functools.lru_cache(maxsize=65536)
def _stem(word: str) -> str:
    return _stemmer().stemWord(word)


def terms(text: str) -> list[str]:
    """The BM25 terms of `text`, in order, with repeats."""
    return [_stem(w) for w in words(text) if w not in STOPWORDS]


class Bm25Index:
    """BM25 over a fixed list of texts, plus document frequencies for term weighting."""

    def __init__(self, model: bm25s.BM25, n_docs: int) -> None:
        self._model = model
        self.n_docs = n_docs
        vocab = model.vocab_dict
        self._vocab: dict[str, int] = {t: i for t, i in vocab.items() if isinstance(t, str)}
        # Document frequency of each vocabulary term: the non-zeros of its column in the score matrix.
        indptr = np.asarray(model.scores["indptr"])
        self._df = np.diff(indptr)

    @classmethod
    def build(cls, texts: list[str]) -> Bm25Index:
        model = bm25s.BM25(k1=1.5, b=0.75, method="lucene")
        corpus_terms = [terms(t) or ["\x00empty"] for t in texts]
        model.index(corpus_terms, show_progress=False)
        return cls(model, len(texts))

    def save(self, folder: Path) -> None:
        self._model.save(str(folder), show_progress=False)

    @classmethod
    def load(cls, folder: Path, n_docs: int) -> Bm25Index:
        return cls(bm25s.BM25.load(str(folder)), n_docs)

    def scores(self, query: str) -> np.ndarray:
        """BM25 score of every document for `query` (zeros where no term matches)."""
        known = [t for t in terms(query) if t in self._vocab]
        if not known:
            return np.zeros(self.n_docs, dtype=np.float32)
        return np.asarray(self._model.get_scores(known), dtype=np.float32)

    def idf(self, term: str) -> float:
        """Inverse document frequency of a stemmed term; a term the corpus lacks gets the maximum."""
        index = self._vocab.get(term)
        df = int(self._df[index]) if index is not None and index < len(self._df) else 0
        return math.log(1 + (self.n_docs - df + 0.5) / (df + 0.5))

    def known(self, term: str) -> bool:
        index = self._vocab.get(term)
        return index is not None and index < len(self._df) and self._df[index] > 0


def question_weights(question: str, idf: Callable[[str], float], name_boost: float = 2.0) -> dict[str, float]:
    """Each term of the question with its weight: its idf, times `name_boost` for capitalised
    words after the first (names, places). In a small corpus the names that tell two sentences
    apart ("Russia" or "Ukraine") occur everywhere and get almost no idf of their own."""
    names: set[str] = set()
    for i, match in enumerate(_WORD_RE.finditer(question)):
        if i > 0 and match.group()[0].isupper():
            names.update(terms(match.group()))
    return {t: idf(t) * (name_boost if t in names else 1.0) for t in terms(question)}


def coverage(weights: dict[str, float], text_terms: list[str]) -> float:
    """Share of the total weight whose terms `text_terms` contains, in [0, 1].

    A term also counts as present when it and a text term are one a prefix of the other and the
    shorter has at least 5 letters: stems of a name and its adjective ("russia", "russian").
    """
    total = sum(weights.values())
    if total == 0:
        return 0.0
    present = set(text_terms)
    return sum(w for t, w in weights.items() if t in present or _prefix_match(t, present)) / total


def weighted_overlap(query_terms: list[str], text_terms: list[str], idf: dict[str, float]) -> float:
    """Share of the query's idf weight that `text_terms` covers, in [0, 1] (see `coverage`)."""
    return coverage({t: idf[t] for t in query_terms}, text_terms)


def _prefix_match(term: str, present: set[str]) -> bool:
    if len(term) < 5:
        return False
    return any(len(p) >= 5 and (p.startswith(term) or term.startswith(p)) for p in present)
