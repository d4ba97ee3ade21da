"""Word-level matching: the terms BM25 indexes (`rag.bm25`) and the overlaps the answerers weigh.

Terms are lower-cased words without English stopwords, Snowball-stemmed (PyStemmer), so
"negotiations" matches "negotiating". Accents are dropped ("Erdoğan" and "erdogan" are one term). Two terms of five letters or more
count as one word when they share a beginning that lacks at most one letter of the shorter
("zelenski"/"zelenskyy", "russia"/"russian"). It does not do phrase matching or synonyms.
"""

from __future__ import annotations

import functools
import os

import Stemmer

from rag.sentences import words

# Lucene's 33 English stopwords, then the question words and contractions that say nothing about
# which sentence answers.
STOPWORDS = frozenset(
    "a an and are as at be but by for if in into is it no not of on or such that the their then there "
    "these they this to was will with "
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
