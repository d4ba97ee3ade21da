"""Near-duplicate articles: the same wire story in two files, or a story and its update.

`sign(text)` reduces an article to a `Signature`: the number of distinct 5-word shingles (over
accent-folded, lower-cased words) and their MinHash, 128 minima of fixed hash permutations (516
bytes, stable across runs and machines). `copies(signatures)` groups the ids of articles that are
the same story: LSH banding (64 bands of 2 values) proposes pairs, and a pair is kept when its
estimated containment |A∩B| / min(|A|,|B|) is at least `CONTAINMENT`. Containment rather than
Jaccard similarity, so that an update which adds paragraphs still matches the story it extends.
Groups are the connected pieces of the kept pairs.

It does not choose which copy to show or cite (that needs dates), compare headlines, or catch a
story rewritten in other words or another language. A round-up that quotes two stories whole
joins both to itself, and so to each other. Estimates carry sampling error (about ±0.05 near the
threshold). An update is paired with the story it contains with probability 0.999 up to three
times the story's length, 0.93 at five times, 0.64 at eight.

Why not datasketch (2.0, measured on the 2,000 generated articles of tests/test_duplicates.py on
this busy 2-core machine): its `MinHash.update_batch` signed them in 1.3-1.8 s where `sign` takes
0.7-1.5 s besides shingling; its `MinHashLSH` took 0.41 s to insert and query them where the
banding here takes 0.04 s; it proposes pairs by Jaccard similarity only, so containment would
still be estimated here; and importing it takes ~0.8 s because it loads scipy (numpy: ~0.15 s).
Its `LeanMinHash` serialises to 528 bytes, a `Signature` to 516. What it would do here is about
forty lines of numpy.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

import numpy as np

from rag.sentences import words

SHINGLE_WORDS = 5
NUM_HASHES = 128
ROWS = 2  # values per LSH band: a pair at Jaccard 1/3 (containment 1/2, equal lengths) meets in a band with p > 0.999
BANDS = NUM_HASHES // ROWS
CONTAINMENT = 0.5  # the test copies and updates estimate 0.77-1.0; the same-topic story 0.03 (exact)
_PRIME = (1 << 31) - 1  # hash values live in [0, p); a·x + b < 2^62 fits in uint64 without overflow
_EMPTY = _PRIME  # the minimum of no values: above every real one


def _permutations() -> tuple[np.ndarray, np.ndarray]:
    """The fixed coefficients (a, b) of h_i(x) = (a_i·x + b_i) mod p, derived from blake2b."""
    a, b = [], []
    for i in range(NUM_HASHES):
        digest = hashlib.blake2b(f"newsrag minhash {i}".encode(), digest_size=16).digest()
        a.append(int.from_bytes(digest[:8], "little") % (_PRIME - 1) + 1)
        b.append(int.from_bytes(digest[8:], "little") % _PRIME)
    return np.array(a, dtype=np.uint64)[:, None], np.array(b, dtype=np.uint64)[:, None]


_A, _B = _permutations()


@dataclass(frozen=True)
class Signature:
    """What `copies` needs of one article: its shingle count and MinHash."""

    size: int  # distinct shingles in the text
    mins: tuple[int, ...]  # NUM_HASHES minima, each below 2^31

    def to_bytes(self) -> bytes:
        """4 + 4·NUM_HASHES bytes, little-endian: the size, then the minima."""
        return np.array([self.size, *self.mins], dtype="<u4").tobytes()

    @classmethod
    def from_bytes(cls, data: bytes) -> Signature:
        values = np.frombuffer(data, dtype="<u4").tolist()
        return cls.from_list(values)

    def to_list(self) -> list[int]:
        """The size, then the minima: JSON-friendly."""
        return [self.size, *self.mins]

    @classmethod
    def from_list(cls, values: list[int]) -> Signature:
        if len(values) != NUM_HASHES + 1:
            raise ValueError(f"a signature has {NUM_HASHES + 1} values, got {len(values)}")
        return cls(size=int(values[0]), mins=tuple(int(v) for v in values[1:]))


def shingles(text: str, k: int = SHINGLE_WORDS) -> set[str]:
    """The distinct runs of `k` consecutive words of `text`; a shorter text is one shingle."""
    tokens = [w.replace("'", "") for w in words(text)]  # "Russia’s" and "Russias" read alike
    if len(tokens) <= k:
        return {" ".join(tokens)} if tokens else set()
    return {" ".join(tokens[i : i + k]) for i in range(len(tokens) - k + 1)}


def sign(text: str) -> Signature:
    """The signature of an article's text (pass the body, without headline and page furniture)."""
    found = shingles(text)
    if not found:
        return Signature(0, (_EMPTY,) * NUM_HASHES)
    digests = b"".join(hashlib.blake2b(s.encode(), digest_size=8).digest() for s in sorted(found))
    x = np.frombuffer(digests, dtype="<u8") % np.uint64(_PRIME)
    mins = np.full(NUM_HASHES, _EMPTY, dtype=np.uint64)
    for start in range(0, len(x), 4096):  # blocks of 128 × 4096 keep a long article's memory small
        mins = np.minimum(mins, ((_A * x[None, start : start + 4096] + _B) % np.uint64(_PRIME)).min(axis=1))
    return Signature(len(found), tuple(mins.tolist()))


def containment(a: Signature, b: Signature) -> float:
    """Estimated |A∩B| / min(|A|,|B|) of two articles' shingle sets, from their signatures."""
    if not a.size or not b.size:
        return 0.0
    jaccard = float(np.mean(np.array(a.mins) == np.array(b.mins)))
    return float(_containment(jaccard, a.size, b.size))


def _containment(jaccard: np.ndarray | float, size_a: np.ndarray | int, size_b: np.ndarray | int) -> np.ndarray:
    # |A∩B| = J·|A∪B| and |A∪B| = |A| + |B| - |A∩B|, so |A∩B| = J·(|A| + |B|) / (1 + J).
    return np.minimum(1.0, jaccard * (size_a + size_b) / ((1 + jaccard) * np.minimum(size_a, size_b)))


def copies(signatures: dict[str, Signature], threshold: float = CONTAINMENT) -> list[list[str]]:
    """Groups of two or more ids whose articles are the same story, each sorted, sorted by first id."""
    ids = sorted(i for i, s in signatures.items() if s.size)
    if len(ids) < 2:
        return []
    mins = np.array([signatures[i].mins for i in ids], dtype=np.uint64)
    sizes = np.array([signatures[i].size for i in ids], dtype=np.float64)
    left, right = _candidates(mins)
    jaccard = (mins[left] == mins[right]).mean(axis=1)
    kept = _containment(jaccard, sizes[left], sizes[right]) >= threshold
    parent = list(range(len(ids)))

    def root(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    for i, j in zip(left[kept].tolist(), right[kept].tolist()):
        parent[max(root(i), root(j))] = min(root(i), root(j))
    groups: dict[int, list[str]] = {}
    for i, name in enumerate(ids):
        groups.setdefault(root(i), []).append(name)
    return sorted(g for g in groups.values() if len(g) > 1)


def _candidates(mins: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Row pairs (i < j) that agree on both values of at least one band, without repeats."""
    pairs = []
    for band in range(BANDS):
        key = (mins[:, band * ROWS] << np.uint64(32)) | mins[:, band * ROWS + 1]
        order = np.argsort(key, kind="stable")
        ranked = key[order]
        # Runs of equal keys are buckets; every two rows in a bucket are a candidate pair.
        bounds = np.flatnonzero(ranked[1:] != ranked[:-1]) + 1
        starts, ends = np.r_[0, bounds], np.r_[bounds, len(ranked)]
        for start, end in zip(starts[ends - starts > 1].tolist(), ends[ends - starts > 1].tolist()):
            i, j = np.triu_indices(end - start, k=1)
            pairs.append(np.stack([order[start:end][i], order[start:end][j]], axis=1))
    if not pairs:
        return np.empty(0, dtype=np.intp), np.empty(0, dtype=np.intp)
    unique = np.unique(np.sort(np.concatenate(pairs), axis=1), axis=0)
    return unique[:, 0], unique[:, 1]
