"""Word-level matching: the BM25 index over chunks, and the term weights the answerers share.

Terms are lower-cased words without English stopwords, Snowball-stemmed (PyStemmer), so
"negotiations" matches "negotiating". BM25 scoring is bm25s (Lucene variant, k1=1.5, b=0.75).
Accents are dropped ("Erdoğan" and "erdogan" are one term). Two terms of five letters or more
count as one word when they share a beginning that lacks at most one letter of the shorter
("zelenski"/"zelenskyy", "russia"/"russian"). It does not do phrase matching or synonyms.
"""

from __future__ import annotations

import functools
import math
import os
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
    """The BM25 terms of `text`, in order, with repeats. A word with an apostrophe counts by what
    comes before it: "russia's" is "russia", and "there's" and "who's" are stopwords."""
    found = []
    for word in words(text):
        word = word.split("'", 1)[0]
        if word and word not in STOPWORDS:
            found.append(_stem(word))
    return found


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
        self._by_prefix: dict[str, list[str]] | None = None

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

    @property
    def stored_docs(self) -> int:
        """How many documents the saved statistics say they cover (checked against `n_docs` on load)."""
        return int(self._model.scores["num_docs"])

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

    def spelled_as(self, term: str) -> str:
        """The corpus's own term for `term`: itself when known, else a known term it is
        `similar` to (the most frequent), else itself."""
        if self.known(term) or len(term) < _MIN_SIMILAR:
            return term
        if self._by_prefix is None:
            self._by_prefix = {}
            for known in self._vocab:
                if len(known) >= _MIN_SIMILAR and self.known(known):
                    self._by_prefix.setdefault(known[:_MIN_SIMILAR], []).append(known)
        matches = [k for k in self._by_prefix.get(term[:_MIN_SIMILAR], []) if similar(term, k)]
        return max(matches, key=lambda k: (self._df[self._vocab[k]], k)) if matches else term


def question_weights(
    question: str,
    idf: Callable[[str], float],
    name_boost: float = 2.0,
    known_names: set[str] = frozenset(),
    spelled_as: Callable[[str], str] = lambda t: t,
) -> dict[str, float]:
    """Each term of the question with its weight: its idf, times `name_boost` for names. A name
    is a capitalised word after the first, or a term in `known_names` (names as the articles
    write them, so a lower-case question gets the boost too). In a small corpus the names that
    tell two sentences apart ("Russia" or "Ukraine") occur everywhere and get almost no idf of
    their own. `spelled_as` maps a term onto the corpus's spelling of it ("zelenski" onto
    "zelenskyy") before it is weighed."""
    names: set[str] = set(known_names)
    for i, match in enumerate(_WORD_RE.finditer(question)):
        if i > 0 and match.group()[0].isupper():
            names.update(spelled_as(t) for t in terms(match.group()))
    weights: dict[str, float] = {}
    for t in map(spelled_as, terms(question)):
        weights[t] = idf(t) * (name_boost if t in names else 1.0)
    return weights


def name_terms(sentences: list[str]) -> set[str]:
    """Terms written with a capital inside a sentence at least 60% of the times they occur in
    `sentences`: the names and places of those sentences."""
    capitalised: dict[str, int] = {}
    seen: dict[str, int] = {}
    for sentence in sentences:
        for i, match in enumerate(_WORD_RE.finditer(sentence)):
            word = match.group()
            for t in terms(word):
                seen[t] = seen.get(t, 0) + 1
                if i > 0 and word[0].isupper():
                    capitalised[t] = capitalised.get(t, 0) + 1
    return {t for t, n in capitalised.items() if n >= 0.6 * seen[t]}


def coverage(weights: dict[str, float], text_terms: list[str]) -> float:
    """Share of the total weight whose terms `text_terms` contains, in [0, 1].

    A term also counts as present when a text term is `similar` to it.
    """
    total = sum(weights.values())
    if total == 0:
        return 0.0
    present = set(text_terms)
    return sum(w for t, w in weights.items() if t in present or _similar_in(t, present)) / total


def restates(sentence: str, question: str) -> bool:
    """Whether `sentence` says nothing beyond `question`: each of its terms is one of the question's
    (or `similar` to one). A heading that repeats the question ("Russia's delegation: who led
    it?") says nothing new, so it cannot answer."""
    asked = set(terms(question))
    return all(t in asked or _similar_in(t, asked) for t in terms(sentence))


def weighted_overlap(query_terms: list[str], text_terms: list[str], idf: dict[str, float]) -> float:
    """Share of the query's idf weight that `text_terms` covers, in [0, 1] (see `coverage`)."""
    return coverage({t: idf[t] for t in query_terms}, text_terms)


_MIN_SIMILAR = 5


def similar(a: str, b: str) -> bool:
    """Whether two terms are one word spelled two ways: equal, or both at least 5 letters long and
    sharing a beginning of at least 5 letters that is all but at most one letter of the shorter
    ("russia"/"russian", "zelenski"/"zelenskyy"; not "minist"/"mission")."""
    if a == b:
        return True
    shorter = min(len(a), len(b))
    if shorter < _MIN_SIMILAR:
        return False
    shared = len(os.path.commonprefix((a, b)))
    return shared >= _MIN_SIMILAR and shared >= shorter - 1


def _similar_in(term: str, present: set[str]) -> bool:
    return len(term) >= _MIN_SIMILAR and any(similar(term, p) for p in present)
