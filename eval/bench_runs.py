"""The measurements behind `python -m eval.bench`, and their pure helpers.

Commands run in child processes started by a small launcher, so each one's peak RSS and the times
its log lines arrived are its own. Everything else runs in the bench process. Nothing here asserts
a target; `eval.bench` prints each figure beside its own.
"""

from __future__ import annotations

import json
import os
import resource
import statistics
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np

from eval.metrics import percentile
from rag.errors import RagError
from rag.settings import Settings

# --- pure helpers --------------------------------------------------------------------------------


def rate(count: int, seconds: float) -> float:
    """Items per second, rounded; 0 when no time passed."""
    return round(count / seconds, 1) if seconds > 0 else 0.0


def latency_summary(ms: Sequence[float]) -> dict[str, float | None]:
    """p50 / p95 / mean of per-call milliseconds."""
    p50, p95 = percentile(ms, 50), percentile(ms, 95)
    return {
        "p50": None if p50 is None else round(p50, 2),
        "p95": None if p95 is None else round(p95, 2),
        "mean": round(statistics.fmean(ms), 2) if ms else None,
    }


def tiled(items: Sequence, n: int) -> list:
    """`items` repeated in order until there are `n` (the same objects, not copies)."""
    if not items:
        raise ValueError("nothing to repeat")
    return [items[i % len(items)] for i in range(n)]


def unit_vectors(n: int, dimension: int, seed: int) -> np.ndarray:
    """`n` random float32 vectors of length 1 (Gaussian directions: uniform on the sphere)."""
    vectors = np.random.default_rng(seed).standard_normal((n, dimension), dtype=np.float32)
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    return vectors


def parse_sizes(text: str) -> list[int]:
    """ "100000,1000000" or "100k,1M" → [100000, 1000000]."""
    sizes = []
    for part in text.split(","):
        part = part.strip().lower()
        if not part:
            continue
        scale = {"k": 1_000, "m": 1_000_000}.get(part[-1], 1)
        number = part[:-1] if scale > 1 else part
        if not number.isdigit() or int(number) * scale < 1:
            raise RagError(f"--sizes wants counts like 100000,1000000 or 100k,1M; got {part!r}.")
        sizes.append(int(number) * scale)
    return sizes


def peak_rss_mb(who: int = resource.RUSAGE_SELF) -> float:
    """The largest resident set so far, in MB (Linux reports ru_maxrss in KB)."""
    return round(resource.getrusage(who).ru_maxrss / 1024, 1)


def longest_gap(stamps: Sequence[float], start: float, end: float) -> float:
    """The longest stretch in [start, end] with no stamp: between two log lines, or before the first
    or after the last one."""
    points = [start, *sorted(stamps), end]
    return max(b - a for a, b in zip(points, points[1:]))


# --- child processes -----------------------------------------------------------------------------

# Runs the command once; prints {"seconds", "peak_rss_mb", "code", "stamps", "err"}: stamps are the
# seconds after the start at which each stderr line arrived. A launcher of its own because a child's
# ru_maxrss starts from its parent's at fork: measured from the bench, it would report the bench's peak.
_LAUNCHER = """
import json, resource, subprocess, sys, time
started = time.monotonic()
child = subprocess.Popen(sys.argv[1:], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
stamps, lines = [], []
for line in child.stderr:
    stamps.append(time.monotonic() - started)
    lines.append(line)
child.wait()
seconds = time.monotonic() - started
rss = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
print(json.dumps({"seconds": seconds, "peak_rss_mb": rss, "code": child.returncode, "stamps": stamps,
                  "err": "".join(lines)[-400:]}))
"""


def launch(command: list[str], env: dict[str, str] | None = None) -> dict:
    out = subprocess.run(
        [sys.executable, "-c", _LAUNCHER, *command], capture_output=True, text=True, check=True, env=env
    )
    result = json.loads(out.stdout)
    if result["code"] != 0:
        raise RagError(f"{' '.join(command[1:3])} failed: {result['err'].strip().splitlines()[-1:]}")
    return result


def timed_command(command: list[str], repeats: int) -> dict:
    """Median wall time and the largest peak RSS of `repeats` runs of `command`."""
    results = [launch(command) for _ in range(repeats)]
    return {
        "command": " ".join(Path(c).name if i == 0 else c for i, c in enumerate(command)),
        "median_seconds": round(statistics.median(r["seconds"] for r in results), 3),
        "runs": [round(r["seconds"], 3) for r in results],
        "peak_rss_mb": round(max(r["peak_rss_mb"] for r in results), 1),
    }


# --- in this process -----------------------------------------------------------------------------


def build_quietly(settings: Settings) -> None:
    from rag.pipeline import Pipeline

    Pipeline(settings, reranker=None).refresh()


def warm(settings: Settings, questions: list[str]) -> dict:
    """Per-question milliseconds through one loaded pipeline and answerer, after one untimed question."""
    from rag.pipeline import Pipeline, make_answerer

    pipeline = Pipeline(settings)
    pipeline.refresh()
    answerer = make_answerer(settings, pipeline)
    pipeline.ask(questions[0], answerer)
    total, reader, search = [], [], []
    for question in questions:
        timings = pipeline.ask(question, answerer).timings_ms
        total.append(timings["total"])
        reader.append(timings.get("rerank", 0.0) + timings["answer"])
        search.append(timings["search"])
    return {
        "questions": len(questions),
        "chunks": len(pipeline.store),
        "total_ms": latency_summary(total),
        "reader_ms": latency_summary(reader),
        "search_ms": latency_summary(search),
        "embedding_backend": pipeline.embedder.backend,
    }


def squad_corpus(squad: Path, folder: Path) -> tuple[Path, Path]:
    """The 48 SQuAD articles as files (eval.squad) and their questions."""
    from eval.squad import convert

    convert(squad, folder)
    return folder / "docs", folder / "qa.jsonl"


def news_corpus(squad: Path, folder: Path) -> Path:
    """Every SQuAD paragraph as a short article of its own: headline line, blank line, the paragraph."""
    from eval.squad import article_title, load_squad

    folder.mkdir(parents=True, exist_ok=True)
    n = 0
    for article in load_squad(squad):
        title = article_title(article["title"])
        for i, paragraph in enumerate(article["paragraphs"], start=1):
            text = " ".join(paragraph["context"].split())
            (folder / f"{n:04d}.txt").write_text(f"{title}, part {i}\n\n{text}\n", encoding="utf-8")
            n += 1
    return folder


def newsroom(news: Path, root: Path, questions: list[str], log: Callable[[str], None]) -> dict:
    """Index build in children (ONNX and torch paths) beside raw encoding; loads and edits after."""
    from rag.articles import read_folder
    from rag.changes import embed_text
    from rag.chunking import chunk_article
    from rag.embedding import load_model, resolve_model

    settings = Settings.from_env(docs_dir=news, index_dir=root / "news-index")
    articles = read_folder(news).articles
    texts = [
        embed_text(c) for a in articles for c in chunk_article(a, settings.chunk_words, settings.chunk_overlap_words)
    ]
    model = load_model(resolve_model(settings.embedding_model))
    model.encode(texts[:64], batch_size=settings.embed_batch_size)
    started = time.perf_counter()
    model.encode(texts, batch_size=settings.embed_batch_size, normalize_embeddings=True)
    raw = rate(len(texts), time.perf_counter() - started)
    log(f"raw sentence-transformers encode: {raw} chunks/s over {len(texts)} chunks")
    builds = {}
    for backend in ("onnx", "torch"):
        index_dir = root / f"news-index-{backend}"
        command = [sys.executable, "-m", "rag.index", "--docs", str(news), "--index-dir", str(index_dir)]
        env = {**os.environ, "RAG_EMBEDDING_BACKEND": "auto" if backend == "onnx" else "torch"}
        result = launch(command, env)
        builds[backend] = {
            "seconds": round(result["seconds"], 1),
            "chunks_per_s": rate(len(texts), result["seconds"]),
            "peak_rss_mb": round(result["peak_rss_mb"], 1),
            "longest_gap_s": round(longest_gap(result["stamps"], 0.0, result["seconds"]), 1),
            "log_lines": len(result["stamps"]),
        }
        log(f"index build, {backend}: {builds[backend]}")
    build = {
        "chunks": len(texts),
        "raw_chunks_per_s": raw,
        "runs": builds,
        "vs_raw": round(builds["onnx"]["chunks_per_s"] / raw, 3),
        "vs_torch_path": round(builds["onnx"]["chunks_per_s"] / builds["torch"]["chunks_per_s"], 3),
        "note": "whole `python -m rag.index` runs (start-up, model load, reading, chunking, embedding, BM25, save) "
        "against encoding alone in a warm process",
    }
    index_dir = root / "news-index-onnx"
    fresh = launch_json([sys.executable, "-c", _FRESH, str(index_dir), questions[0], str(news)])
    settings = Settings.from_env(docs_dir=news, index_dir=index_dir)
    from rag.pipeline import Pipeline

    pipeline = Pipeline(settings)
    pipeline.refresh()
    extra = news / "9999.txt"
    extra.write_text("Harbour news, part 1\n\nThe harbour of Port Quillan reopened on Monday.\n", encoding="utf-8")
    started = time.perf_counter()
    report = pipeline.refresh()
    append_s = time.perf_counter() - started
    assert report.embedded_files == 1
    extra.unlink()
    started = time.perf_counter()
    report = pipeline.refresh()
    delete_s = time.perf_counter() - started
    return {
        "articles": len(articles),
        "build": build,
        "fresh": fresh,
        "warm": warm(settings, questions),
        "append_s": round(append_s, 3),
        "delete_s": round(delete_s, 3),
        "edits_note": "a refresh in a loaded pipeline, as the chat does after an upload or a delete",
    }


# In a fresh process: how long loading the index takes, the lexical part alone, and one question.
_FRESH = """
import json, sys, time
from pathlib import Path
started = time.perf_counter()
from rag import disk
from rag.bm25 import Bm25
imported = time.perf_counter()
index_dir = Path(sys.argv[1])
generation = index_dir / (index_dir / "CURRENT").read_text().strip()
lexical = Bm25.load(generation / "bm25")
lexical.search(sys.argv[2], 40)
lexical_done = time.perf_counter()
store = disk.load(index_dir)
loaded = time.perf_counter()
from rag.pipeline import Pipeline, make_answerer
from rag.settings import Settings
settings = Settings.from_env(docs_dir=Path(sys.argv[3]), index_dir=index_dir)
pipeline = Pipeline(settings)
answer = pipeline.ask(sys.argv[2], make_answerer(settings, pipeline))
done = time.perf_counter()
print(json.dumps({"imports_s": round(imported - started, 3), "lexical_load_s": round(lexical_done - imported, 3),
                  "index_load_s": round(loaded - lexical_done, 3), "first_question_s": round(done - loaded, 3),
                  "chunks": len(store), "torch_imported": "torch" in sys.modules}))
"""


def launch_json(command: list[str]) -> dict:
    out = subprocess.run(command, capture_output=True, text=True)
    if out.returncode != 0:
        raise RagError(f"the fresh-process measurement failed: {out.stderr.strip().splitlines()[-1:]}")
    return json.loads(out.stdout.strip().splitlines()[-1])


def retrieval_at_sizes(settings: Settings, questions: list[str], sizes: list[int], seed: int) -> list[dict]:
    """Search latency (embedding, FAISS, BM25, fusion) over synthetic stores of each size."""
    from rag import disk
    from rag.pipeline import Pipeline
    from rag.retrieve import search
    from rag.store.faiss_bm25 import FaissStore

    pipeline = Pipeline(settings, reranker=None)
    base = disk.load(settings.index_dir)
    chunks = list(base.chunks.values())
    rows = []
    for size in sizes:
        vectors = FaissStore.empty(base.dimension).vectors
        ids = np.arange(size, dtype=np.int64)
        for begin in range(0, size, 100_000):
            count = min(100_000, size - begin)
            vectors.add_with_ids(unit_vectors(count, base.dimension, seed + begin), ids[begin : begin + count])
        lexical = tiled_bm25(base.lexical, size)
        # Chunk ids whose FAISS id (the id without its last bit) is the row number.
        fake = {f"{i << 1:016x}": c for i, c in zip(range(size), tiled(chunks, size))}
        store = FaissStore(base.dimension, fake, vectors, lexical, base.manifest)
        search(questions[0], store, pipeline.embedder, settings)
        ms = []
        for question in questions:
            started = time.perf_counter()
            search(question, store, pipeline.embedder, settings)
            ms.append((time.perf_counter() - started) * 1000)
        rows.append({"chunks": size, "synthetic": True, "queries": len(questions), "total_ms": latency_summary(ms)})
        del store, vectors, lexical, fake
    return rows


def tiled_bm25(base, size: int):
    """A BM25 index of `size` rows: `base`'s rows repeated, with ids 0..size-1."""
    from rag.bm25 import Bm25

    doc_ptr = np.asarray(base.doc_ptr)
    lengths = np.diff(doc_ptr)
    index = Bm25()
    index.terms, index.vocab = list(base.terms), dict(base.vocab)
    index.ids = np.arange(size, dtype=np.int64)
    index.doc_ptr = np.concatenate([[0], np.cumsum(lengths[np.arange(size) % len(lengths)])]).astype(np.int64)
    # Rows are stored one after another, so `size` rows are the whole entry list repeated, then a head of it.
    repeats, rest = divmod(size, len(lengths))
    pick = np.concatenate([np.tile(np.arange(doc_ptr[-1]), repeats), np.arange(doc_ptr[rest])])
    index.doc_terms = np.asarray(base.doc_terms)[pick]
    index.doc_tfs = np.asarray(base.doc_tfs)[pick]
    return index
