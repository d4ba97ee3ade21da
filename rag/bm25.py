"""BM25 over chunks keyed by 64-bit ids, stored as NumPy arrays that load memory-mapped.

Each chunk is kept as its term ids and term counts (`rag.lexical.terms`: stemmed words without
stopwords), so adding or deleting chunks touches only their rows; the postings (for each term, the
rows that hold it and how often) are rebuilt from those rows with one sort when the index is next
searched or saved, with no re-tokenising. Scores are computed at query time with the Lucene
variant of BM25 (k1 = 1.5, b = 0.75), so document frequencies and the average length are always
those of the current chunks. `TermStats` is the read-only view of the document frequencies that the
answerers use to weigh words. It does not do phrase matching, synonyms or fuzzy spelling.
"""

from __future__ import annotations

import json
import math
from collections import Counter
from collections.abc import Iterable
from pathlib import Path

import numpy as np

from rag.lexical import similar, terms

K1 = 1.5
B = 0.75

_ARRAYS = ("ids", "doc_ptr", "doc_terms", "doc_tfs", "term_ptr", "post_rows", "post_tfs", "doc_len")
_MIN_SIMILAR = 5


class TermStats:
    """Document frequencies of the indexed terms: idf, whether a term is known, how the corpus spells it."""

    def __init__(self, vocab: dict[str, int], df: np.ndarray, n_docs: int) -> None:
        self._vocab = vocab
        self._df = df
        self.n_docs = n_docs
        self._by_prefix: dict[str, list[str]] | None = None

    def df(self, term: str) -> int:
        index = self._vocab.get(term)
        return int(self._df[index]) if index is not None and index < len(self._df) else 0

    def idf(self, term: str) -> float:
        """ln(1 + (N - df + 0.5) / (df + 0.5)); a term the corpus lacks gets the largest value."""
        df = self.df(term)
        return math.log(1 + (self.n_docs - df + 0.5) / (df + 0.5))

    def known(self, term: str) -> bool:
        return self.df(term) > 0

    def spelled_as(self, term: str) -> str:
        """The corpus's own term for `term`: itself when known, else the most frequent known term it is
        `similar` to ("zelenski" → "zelenskyy"), else itself."""
        if self.known(term) or len(term) < _MIN_SIMILAR:
            return term
        if self._by_prefix is None:
            self._by_prefix = {}
            for known in self._vocab:
                if len(known) >= _MIN_SIMILAR and self.known(known):
                    self._by_prefix.setdefault(known[:_MIN_SIMILAR], []).append(known)
        matches = [k for k in self._by_prefix.get(term[:_MIN_SIMILAR], []) if similar(term, k)]
        return max(matches, key=lambda k: (self.df(k), k)) if matches else term


class Bm25:
    """A mutable BM25 index: `upsert` and `delete` by id, `search`, `save` and `load`."""

    def __init__(self) -> None:
        self.terms: list[str] = []
        self.vocab: dict[str, int] = {}
        self.ids = np.zeros(0, dtype=np.int64)
        self.doc_ptr = np.zeros(1, dtype=np.int64)
        self.doc_terms = np.zeros(0, dtype=np.int32)
        self.doc_tfs = np.zeros(0, dtype=np.int32)
        self._postings: tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray] | None = None

    def __len__(self) -> int:
        return len(self.ids)

    # --- changes ---------------------------------------------------------------------------------

    def upsert(self, ids: Iterable[int], texts: Iterable[str]) -> None:
        """Adds the chunks `ids` with their texts, replacing any already held under those ids."""
        ids = np.asarray(list(ids), dtype=np.int64)
        self.delete(ids)
        rows_terms: list[np.ndarray] = []
        rows_tfs: list[np.ndarray] = []
        for text in texts:
            counts = Counter(terms(text))
            rows_terms.append(np.array([self._term_id(t) for t in counts], dtype=np.int32))
            rows_tfs.append(np.fromiter(counts.values(), dtype=np.int32, count=len(counts)))
        if len(rows_terms) != len(ids):
            raise ValueError("upsert needs one text per id")
        lengths = np.array([len(r) for r in rows_terms], dtype=np.int64)
        self.ids = np.concatenate([self.ids, ids])
        self.doc_ptr = np.concatenate([self.doc_ptr, self.doc_ptr[-1] + np.cumsum(lengths)])
        self.doc_terms = np.concatenate([self.doc_terms, *rows_terms]) if rows_terms else self.doc_terms
        self.doc_tfs = np.concatenate([self.doc_tfs, *rows_tfs]) if rows_tfs else self.doc_tfs
        self._postings = None

    def delete(self, ids: Iterable[int]) -> None:
        """Removes the chunks `ids` (ids not held are ignored)."""
        gone = np.isin(self.ids, np.asarray(list(ids), dtype=np.int64))
        if not gone.any():
            return
        lengths = np.diff(self.doc_ptr)
        entries = np.repeat(~gone, lengths)
        self.ids = self.ids[~gone]
        self.doc_ptr = np.concatenate([[0], np.cumsum(lengths[~gone])]).astype(np.int64)
        self.doc_terms = self.doc_terms[entries]
        self.doc_tfs = self.doc_tfs[entries]
        self._postings = None

    def _term_id(self, term: str) -> int:
        index = self.vocab.get(term)
        if index is None:
            index = self.vocab[term] = len(self.terms)
            self.terms.append(term)
        return index

    # --- reading ---------------------------------------------------------------------------------

    @property
    def stats(self) -> TermStats:
        term_ptr = self._index()[0]
        return TermStats(self.vocab, np.diff(term_ptr), len(self.ids))

    def search(self, query: str, depth: int, among: set[int] | None = None) -> list[tuple[int, float]]:
        """The `depth` best (id, score) pairs for `query`, best first; chunks sharing no term are left
        out, and so are chunks whose id is not in `among` when it is given."""
        scores = self.scores(query)
        if among is not None:
            scores[~np.isin(self.ids, np.fromiter(among, dtype=np.int64, count=len(among)))] = 0
        positive = np.flatnonzero(scores > 0)
        if len(positive) > depth:
            positive = positive[np.argpartition(-scores[positive], depth - 1)[:depth]]
        ranked = sorted(positive.tolist(), key=lambda r: (-scores[r], r))
        return [(int(self.ids[r]), float(scores[r])) for r in ranked]

    def scores(self, query: str) -> np.ndarray:
        """BM25 score of every row for `query` (each distinct query term counted once)."""
        term_ptr, post_rows, post_tfs, doc_len = self._index()
        n = len(self.ids)
        scores = np.zeros(n, dtype=np.float32)
        if n == 0:
            return scores
        average = float(doc_len.mean()) or 1.0
        for term in dict.fromkeys(terms(query)):
            index = self.vocab.get(term)
            if index is None:
                continue
            begin, end = int(term_ptr[index]), int(term_ptr[index + 1])
            if begin == end:
                continue
            rows = post_rows[begin:end]
            tf = post_tfs[begin:end]
            idf = math.log(1 + (n - (end - begin) + 0.5) / (end - begin + 0.5))
            scores[rows] += idf * tf / (tf + K1 * (1 - B + B * doc_len[rows] / average))
        return scores

    def _index(self) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """(term_ptr, post_rows, post_tfs, doc_len), rebuilt from the rows after a change."""
        if self._postings is None:
            rows = np.repeat(np.arange(len(self.ids), dtype=np.int32), np.diff(self.doc_ptr))
            order = np.argsort(self.doc_terms, kind="stable")
            counts = np.bincount(self.doc_terms, minlength=len(self.terms))
            term_ptr = np.concatenate([[0], np.cumsum(counts)]).astype(np.int64)
            doc_len = np.bincount(rows, weights=self.doc_tfs, minlength=len(self.ids)).astype(np.float32)
            self._postings = (term_ptr, rows[order], self.doc_tfs[order].astype(np.float32), doc_len)
        return self._postings

    # --- disk ------------------------------------------------------------------------------------

    def save(self, folder: Path) -> list[Path]:
        """Writes the index into `folder` (created); returns the files written."""
        folder.mkdir(parents=True, exist_ok=True)
        term_ptr, post_rows, post_tfs, doc_len = self._index()
        arrays = dict(
            zip(_ARRAYS, (self.ids, self.doc_ptr, self.doc_terms, self.doc_tfs, term_ptr, post_rows, post_tfs, doc_len))
        )
        written = []
        for name, array in arrays.items():
            np.save(folder / f"{name}.npy", np.ascontiguousarray(array))
            written.append(folder / f"{name}.npy")
        (folder / "terms.json").write_text(json.dumps(self.terms, ensure_ascii=False), encoding="utf-8")
        written.append(folder / "terms.json")
        return written

    @classmethod
    def load(cls, folder: Path) -> Bm25:
        """The index saved in `folder`, its arrays memory-mapped: nothing is rebuilt.

        Raises ValueError when the arrays do not agree with each other.
        """
        index = cls()
        arrays = {name: np.load(folder / f"{name}.npy", mmap_mode="r") for name in _ARRAYS}
        index.terms = json.loads((folder / "terms.json").read_text(encoding="utf-8"))
        index.vocab = {t: i for i, t in enumerate(index.terms)}
        index.ids, index.doc_ptr = arrays["ids"], arrays["doc_ptr"]
        index.doc_terms, index.doc_tfs = arrays["doc_terms"], arrays["doc_tfs"]
        postings = (arrays["term_ptr"], arrays["post_rows"], arrays["post_tfs"], arrays["doc_len"])
        n, entries = len(index.ids), len(index.doc_terms)
        if (
            len(index.doc_ptr) != n + 1
            or int(index.doc_ptr[-1]) != entries
            or len(index.doc_tfs) != entries
            or len(postings[0]) != len(index.terms) + 1
            or len(postings[1]) != entries
            or len(postings[3]) != n
        ):
            raise ValueError(f"the BM25 arrays in {folder} do not agree with each other")
        index._postings = postings
        return index
