"""The Milvus store: one collection holds each chunk's vector, its words (Milvus's own BM25) and the
chunk itself; hybrid search, its fusion and the date filter run in Milvus.

`settings.milvus_address` is a Milvus Lite file (a path ending in .db: the Milvus project's engine
in this process, same API) or a server or cluster (http://host:19530, token from
`settings.milvus_token`). The same code talks to both. Each index folder has a collection of its
own (`newsrag_` and a hash of the folder's path when it was built), named in the manifest.

Rows carry the article's source, its file hash and a hash of the index's shape, so the store can
prove it holds what the manifest says. Changes land in place, so the first change of an update
writes a journal marker beside the generations and `saved()` removes it once the manifest naming
the change is current; while the marker is there, or when the row count differs from the
manifest's, `stale()` compares every row with the manifest and names the articles that differ.
The words are indexed as `rag.lexical.terms` writes them (stemmed, without stopwords), so BM25
sees the same terms as the FAISS store's, with the same k1 and b. It does not keep BM25 document
frequencies for the llama.cpp answerer (`term_stats` is None).
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
from collections import Counter
from collections.abc import Iterable
from dataclasses import asdict
from functools import lru_cache
from pathlib import Path

import numpy as np

from rag.bm25 import K1, B
from rag.errors import RagError
from rag.lexical import terms
from rag.records import Chunk
from rag.settings import Settings
from rag.store import Catalogue, Dates

JOURNAL = "milvus.journal"
#: Rows sent to Milvus per call.
BATCH = 500
#: Longest terms text kept for BM25, in characters (a VARCHAR holds 65,535 bytes).
MAX_TERMS = 16_000
TIMEOUT_S = 10


def connect(settings: Settings):
    """The client for `settings.milvus_address`, made once per process and address; raises
    `RagError` naming the address when it cannot be made."""
    uri = settings.milvus_address
    server = uri.startswith(("http://", "https://", "tcp://", "unix:"))
    if not server and not uri.endswith(".db"):
        raise RagError(
            f"RAG_MILVUS_URI={uri!r} is neither a Milvus Lite file (a path ending in .db) "
            "nor a server address (http://host:19530)."
        )
    return _client(uri, settings.milvus_token, server)


@lru_cache(maxsize=8)
def _client(uri: str, token: str, server: bool):
    # gRPC's C core prints its own log lines (a Milvus Lite server idling in this process draws
    # "too_many_pings" notices); errors reach the user through `unreachable` instead.
    os.environ.setdefault("GRPC_VERBOSITY", "NONE")
    try:
        from pymilvus import MilvusClient
    except ImportError:
        raise RagError('The Milvus store needs pymilvus and milvus-lite: pip install -e ".[milvus]".') from None
    if not server:
        Path(uri).parent.mkdir(parents=True, exist_ok=True)
    # pymilvus logs each failed call before raising it, and Milvus Lite's server (in this process)
    # logs calls it does not implement before pymilvus falls back; `unreachable` makes the one line.
    for name in ("pymilvus", "grpc._server", "milvus_lite"):
        logging.getLogger(name).setLevel(logging.CRITICAL)
    try:
        return MilvusClient(uri=uri, token=token, timeout=TIMEOUT_S)
    except Exception as err:  # pymilvus raises MilvusException, grpc and OS errors alike
        if not server and Path(uri).exists():
            # Milvus Lite serves one process at a time: it holds a lock on the file while open.
            raise RagError(
                f"The Milvus Lite file {uri} is open in another process (a chat server or another command); "
                "stop that process, or serve the index from a Milvus server (RAG_MILVUS_URI=http://host:19530)."
            ) from None
        raise unreachable(uri, err) from None


def unreachable(uri: str, err: BaseException) -> RagError:
    text = getattr(err, "message", None) or str(err)  # MilvusException keeps its message apart
    detail = (str(text).strip().splitlines() or [type(err).__name__])[0][:200]
    return RagError(f"Cannot use Milvus at {uri} ({detail}); start it, or set RAG_MILVUS_URI to where it runs.")


def collection_for(index_dir: Path) -> str:
    return "newsrag_" + hashlib.sha256(str(index_dir.resolve()).encode()).hexdigest()[:12]


def quoted(text: str) -> str:
    """`text` as a Milvus filter string literal."""
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def date_filter(dates: Dates | None) -> str:
    """The filter keeping chunks of articles dated within `dates`; "" for no range."""
    if dates is None or dates == (None, None):
        return ""
    since, until = dates
    parts = ['published != ""']
    if since:
        parts.append(f"published >= {quoted(since)}")
    if until:
        parts.append(f"published <= {quoted(until)}")
    return " and ".join(parts)


class MilvusStore(Catalogue):
    """Chunks with their vectors and words in one Milvus collection."""

    name = "milvus"
    precision = "float32"

    def __init__(self, client, uri: str, collection: str, dimension: int, manifest: dict, journal: Path) -> None:
        self.client = client
        self.uri = uri
        self.collection = collection
        self.dimension = dimension
        self.manifest = manifest
        self.journal = journal
        self.generation: str | None = None
        self._stale: set[str] | None = None
        self._present: bool | None = None  # whether the collection exists, once asked

    @classmethod
    def check(cls, settings: Settings) -> None:
        connect(settings)

    @classmethod
    def empty(cls, dimension: int, settings: Settings, manifest: dict | None = None) -> MilvusStore:
        """A new, empty collection for the index folder (an old one of the same folder is dropped)."""
        collection = collection_for(settings.index_dir)
        manifest = {**(manifest or {}), "milvus_collection": collection}
        store = cls(connect(settings), settings.milvus_address, collection, dimension, manifest, _journal(settings))
        store._begin()
        store._call(store.client.drop_collection, collection)
        store._present = False
        store._ensure()
        return store

    @classmethod
    def read(cls, folder: Path, manifest: dict, settings: Settings) -> MilvusStore:
        collection = manifest.get("milvus_collection") or collection_for(settings.index_dir)
        store = cls(
            connect(settings), settings.milvus_address, collection, manifest["dimension"], manifest, _journal(settings)
        )
        if store._exists():
            store._call(store.client.load_collection, collection)
        return store

    def __len__(self) -> int:
        if not self._exists():
            return 0
        rows = self._call(
            self.client.query, self.collection, filter="", output_fields=["count(*)"], consistency_level="Strong"
        )
        return int(rows[0]["count(*)"])

    def describe(self) -> str:
        return f"Milvus at {self.uri}, collection {self.collection} ({len(self)} chunks)"

    @property
    def term_stats(self) -> None:
        return None

    # --- reading ---------------------------------------------------------------------------------

    def search(
        self, vector: np.ndarray, words: str, depth: int, rrf_k: int, dates: Dates | None = None
    ) -> list[tuple[Chunk, float]]:
        from pymilvus import AnnSearchRequest, RRFRanker

        if depth <= 0 or not self._exists():
            return []
        expr = date_filter(dates)
        dense = np.asarray(vector, dtype=np.float32).tolist()
        requests = [AnnSearchRequest([dense], "vector", {"metric_type": "IP"}, depth, expr=expr)]
        query_terms = " ".join(terms(words))
        if query_terms:
            requests.append(AnnSearchRequest([query_terms], "sparse", {"metric_type": "BM25"}, depth, expr=expr))
        found = self._call(
            self.client.hybrid_search,
            self.collection,
            requests,
            RRFRanker(rrf_k),
            limit=2 * depth,
            output_fields=["chunk"],
        )
        hits = [(_chunk(hit["entity"]["chunk"]), float(hit["distance"])) for hit in found[0]]
        return sorted(hits, key=lambda h: (-h[1], h[0].chunk_id))

    def stale(self) -> set[str]:
        if self._stale is None:
            self._stale = self._check()
        return self._stale

    def _check(self) -> set[str]:
        """The articles whose rows differ from the manifest; cheap when no change was interrupted."""
        expected = sum(entry["chunks"] for entry in self.files.values())
        if not self.journal.exists() and len(self) == expected:
            return set()
        seen: dict[str, Counter] = {}
        if self._exists():
            rows = self.client.query_iterator(
                self.collection, batch_size=1000, filter="", output_fields=["source", "file_hash", "shape"]
            )
            while batch := self._call(rows.next):
                for row in batch:
                    seen.setdefault(row["source"], Counter())[(row["file_hash"], row["shape"])] += 1
            rows.close()
        shape = self._shape()
        wanted = {s: Counter({(e["hash"], shape): e["chunks"]}) for s, e in self.files.items()}
        return {s for s in {*seen, *wanted} if seen.get(s, Counter()) != wanted.get(s, Counter())}

    # --- changes ---------------------------------------------------------------------------------

    def put(self, chunks: list[Chunk], vectors: np.ndarray, texts: list[str]) -> None:
        if not (len(chunks) == len(vectors) == len(texts)):
            raise ValueError("put needs one vector and one text per chunk")
        if not chunks:
            return
        self._begin()
        self._ensure()
        shape = self._shape()
        rows = [
            {
                "id": c.chunk_id,
                "vector": np.asarray(v, dtype=np.float32).tolist(),
                "terms": " ".join(terms(t))[:MAX_TERMS],
                "source": c.source,
                "file_hash": self.files[c.source]["hash"],
                "shape": shape,
                "published": c.published or "",
                "chunk": asdict(c),
            }
            for c, v, t in zip(chunks, vectors, texts)
        ]
        for at in range(0, len(rows), BATCH):
            self._call(self.client.upsert, self.collection, rows[at : at + BATCH])

    def remove(self, sources: Iterable[str]) -> None:
        doomed = list(dict.fromkeys(sources))
        if not doomed:
            return
        self._begin()
        if not self._exists():
            return
        for at in range(0, len(doomed), BATCH):
            names = ", ".join(quoted(s) for s in doomed[at : at + BATCH])
            self._call(self.client.delete, self.collection, filter=f"source in [{names}]")

    def write(self, folder: Path) -> None:
        if self._exists():
            self._call(self.client.flush, self.collection)

    def saved(self) -> None:
        self.journal.unlink(missing_ok=True)
        self._stale = set()

    # --- the collection ----------------------------------------------------------------------------

    def _begin(self) -> None:
        """Marks the store as changing before its first change (see the module docstring)."""
        if self.journal.exists():
            return
        self.journal.parent.mkdir(parents=True, exist_ok=True)
        with open(self.journal, "w") as f:
            f.write(json.dumps({"collection": self.collection, "pid": os.getpid()}) + "\n")
            f.flush()
            os.fsync(f.fileno())

    def _exists(self) -> bool:
        """Whether the collection is there; asked of Milvus once, then known (this store creates it)."""
        if self._present is None:
            self._present = bool(self._call(self.client.has_collection, self.collection))
        return self._present

    def _ensure(self) -> None:
        """Creates the collection when it is not there: dense vectors, BM25 over `terms`, filters."""
        if self._exists():
            return
        from pymilvus import DataType, Function, FunctionType

        schema = self.client.create_schema(auto_id=False)
        schema.add_field("id", DataType.VARCHAR, is_primary=True, max_length=16)
        schema.add_field("vector", DataType.FLOAT_VECTOR, dim=self.dimension)
        schema.add_field(
            "terms", DataType.VARCHAR, max_length=65535, enable_analyzer=True, analyzer_params={"tokenizer": "standard"}
        )
        schema.add_field("sparse", DataType.SPARSE_FLOAT_VECTOR)
        schema.add_field("source", DataType.VARCHAR, max_length=4096)
        schema.add_field("file_hash", DataType.VARCHAR, max_length=64)
        schema.add_field("shape", DataType.VARCHAR, max_length=16)
        schema.add_field("published", DataType.VARCHAR, max_length=10)
        schema.add_field("chunk", DataType.JSON)
        schema.add_function(
            Function(
                name="bm25",
                function_type=FunctionType.BM25,
                input_field_names=["terms"],
                output_field_names=["sparse"],
            )
        )
        index = self.client.prepare_index_params()
        index.add_index("vector", index_type="FLAT", metric_type="IP")
        index.add_index(
            "sparse", index_type="SPARSE_INVERTED_INDEX", metric_type="BM25", params={"bm25_k1": K1, "bm25_b": B}
        )
        self._call(self.client.create_collection, self.collection, schema=schema, index_params=index)
        self._present = True

    def _shape(self) -> str:
        """A short hash of what shaped the index (chunking, model), stored with every row."""
        recorded = json.dumps(self.manifest.get("shape", {}), sort_keys=True)
        return hashlib.sha256(recorded.encode()).hexdigest()[:16]

    def _call(self, call, *args, **kwargs):
        """`call(*args, **kwargs)`, with what Milvus raises turned into one line naming the address."""
        try:
            return call(*args, **kwargs)
        except RagError:
            raise
        except Exception as err:
            if type(err).__module__.startswith(("pymilvus", "grpc", "milvus_lite")):
                raise unreachable(self.uri, err) from None
            raise


def _journal(settings: Settings) -> Path:
    return settings.index_dir / JOURNAL


def _chunk(row: dict) -> Chunk:
    return Chunk(**{**row, "paragraphs": tuple(row["paragraphs"])})
