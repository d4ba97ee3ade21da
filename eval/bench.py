"""`python -m eval.bench`: the speed figures later work must beat, as a table and a JSON file.

Measures, in one process unless noted: index build throughput of the pipeline beside raw
`SentenceTransformer.encode` on the same chunk texts (their ratio is the pipeline's overhead); a
no-change re-index; retrieval latency per query (embedding + FAISS + BM25 + fusion) at the corpus's
size and at larger synthetic sizes; peak RSS; and the wall time of a cold `python -m rag.ask`
(a subprocess). At the synthetic sizes the FAISS vectors are random unit vectors and the chunks
and BM25 postings are the corpus's own, repeated: they measure search cost, not quality.
Timings on a shared machine are noisy: compare figures from one run. It asserts nothing.
"""

from __future__ import annotations

import argparse
import json
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np

from eval.metrics import percentile
from eval.pairs import load_pairs, sample
from eval.run import DEFAULT_QA
from rag.errors import RagError
from rag.settings import Settings

DEFAULT_OUT = Path("artifacts") / "bench.json"
TARGETS = {"build_ratio": 0.9, "reindex_seconds": 1.0}


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


def format_table(results: dict) -> str:
    """The figures as aligned lines: what, value, target."""
    rows = [("figure", "value", "target")]
    build = results["build"]
    rows += [
        ("raw encode (chunks/s)", f"{build['raw_chunks_per_s']:.1f}", ""),
        ("pipeline build (chunks/s)", f"{build['pipeline_chunks_per_s']:.1f}", ""),
        ("build / raw ratio", f"{build['ratio']:.3f}", f">= {TARGETS['build_ratio']}"),
        ("no-change re-index (s)", f"{results['reindex']['seconds']:.3f}", f"< {TARGETS['reindex_seconds']:.0f}"),
    ]
    for row in results["retrieval"]:
        label = f"retrieve @ {row['chunks']:,} chunks{' (synthetic)' if row['synthetic'] else ''}"
        ms = row["total_ms"]
        rows.append((f"{label} p50/p95 ms", f"{ms['p50']:.1f} / {ms['p95']:.1f}", ""))
    cold = results["cold_ask"]
    rows += [
        ("cold rag.ask wall (s, median)", f"{cold['median_seconds']:.2f}", ""),
        ("peak RSS rag.ask (MB)", f"{cold['peak_rss_mb']:.0f}", ""),
        ("peak RSS bench, corpus (MB)", f"{results['peak_rss_mb']['after_corpus']:.0f}", ""),
        ("peak RSS bench, all (MB)", f"{results['peak_rss_mb']['end']:.0f}", ""),
    ]
    widths = [max(len(r[i]) for r in rows) for i in range(3)]
    lines = [f"{a:<{widths[0]}}  {b:>{widths[1]}}  {c}" for a, b, c in rows]
    lines.insert(1, "-" * (sum(widths) + 4))
    return "\n".join(lines)


# --- measurements --------------------------------------------------------------------------------


def _bar(total: int, label: str):
    from tqdm import tqdm

    return tqdm(total=total, desc=label, unit="it", file=sys.stderr, leave=False)


def measure_build(settings: Settings, repeats: int) -> tuple[dict, object]:
    """Pipeline build vs raw encode on the same texts, alternated `repeats` times; best of each.

    The best (shortest) run is the one least disturbed by other processes, so the ratio of bests
    is the overhead; every run's wall and CPU seconds are kept in the JSON.
    """
    from rag.articles import read_folder
    from rag.chunking import chunk_article
    from rag.embedding import load_model, resolve_model
    from rag.pipeline import Pipeline
    from rag.store import embed_text

    pipeline = Pipeline(settings)
    model = load_model(resolve_model(settings.embedding_model))
    model.encode(["warm up the model"] * 8)
    articles = read_folder(settings.docs_dir).articles
    chunks = [c for a in articles for c in chunk_article(a, settings.chunk_words, settings.chunk_overlap_words)]
    texts = [embed_text(c) for c in chunks]  # what the pipeline embeds, in its order

    def timed(work: Callable[[], object]) -> tuple[float, float, object]:
        wall, cpu = time.perf_counter(), time.process_time()
        result = work()
        return time.perf_counter() - wall, time.process_time() - cpu, result

    raw_runs, build_runs = [], []
    report = None
    for _ in range(repeats):
        wall, cpu, _ = timed(
            lambda: model.encode(
                texts, batch_size=settings.embed_batch_size, normalize_embeddings=True, show_progress_bar=True
            )
        )
        raw_runs.append((round(wall, 2), round(cpu, 2)))
        bar = _bar(len(texts), "pipeline build")
        wall, cpu, report = timed(
            lambda bar=bar: pipeline.refresh(rebuild=True, progress=lambda done, total: bar.update(done - bar.n))
        )
        bar.close()
        build_runs.append((round(wall, 2), round(cpu, 2)))
    raw_best, build_best = min(w for w, _ in raw_runs), min(w for w, _ in build_runs)
    result = {
        "files": report.files,
        "chunks": report.chunks,
        "raw_runs_wall_cpu_s": raw_runs,
        "pipeline_runs_wall_cpu_s": build_runs,
        "raw_chunks_per_s": rate(len(texts), raw_best),
        "pipeline_chunks_per_s": rate(report.chunks, build_best),
        "ratio": round(raw_best / build_best, 3),
        "cpu_ratio": round(min(c for _, c in raw_runs) / min(c for _, c in build_runs), 3),
        "torch_threads": _torch_threads(),
        "note": "best of the runs; the pipeline figure includes reading, chunking, BM25, FAISS and the atomic save",
    }
    return result, pipeline


def _torch_threads() -> int:
    import torch

    return int(torch.get_num_threads())


def measure_reindex(settings: Settings, repeats: int = 3) -> dict:
    """A fresh Pipeline's refresh() over an unchanged folder, as `python -m rag.ask` does on start."""
    from rag.pipeline import Pipeline

    seconds = []
    for _ in range(repeats):
        started = time.perf_counter()
        report = Pipeline(settings).refresh()
        seconds.append(time.perf_counter() - started)
        if report.changed:
            raise RuntimeError("the re-index embedded something: the folder changed during the benchmark")
    return {"seconds": round(statistics.median(seconds), 3), "runs": [round(s, 3) for s in seconds]}


def measure_retrieval(index, embedder, settings: Settings, questions: list[str], synthetic: bool) -> dict:
    from rag.retrieve import retrieve

    retrieve(questions[0], index, embedder, settings)  # warm-up
    total, embed = [], []
    for question in questions:
        started = time.perf_counter()
        embedder.encode([question])
        embedded = time.perf_counter()
        retrieve(question, index, embedder, settings)  # embeds again, then searches
        done = time.perf_counter()
        embed.append((embedded - started) * 1000)
        total.append((done - embedded) * 1000)
    return {
        "chunks": len(index.chunks),
        "synthetic": synthetic,
        "queries": len(questions),
        "total_ms": latency_summary(total),
        "embed_ms": latency_summary(embed),
    }


def synthetic_index(base, size: int, seed: int):
    """An index of `size` chunks: `base`'s chunks and BM25 postings repeated, random unit vectors."""
    import bm25s
    import faiss

    from rag.lexical import Bm25Index, terms
    from rag.store import Index, embed_text

    dimension = base.vectors.d
    flat = faiss.IndexFlatIP(dimension)
    step = 100_000
    bar = _bar(size, f"random vectors x{size:,}")
    for begin in range(0, size, step):
        count = min(step, size - begin)
        flat.add(unit_vectors(count, dimension, seed + begin))
        bar.update(count)
    bar.close()
    vocab: dict[str, int] = {}
    ids = [[vocab.setdefault(t, len(vocab)) for t in terms(embed_text(c)) or ["\x00empty"]] for c in base.chunks]
    model = bm25s.BM25(k1=1.5, b=0.75, method="lucene")
    model.index((tiled(ids, size), vocab), show_progress=True)
    manifest = {**base.manifest, "chunks": size}
    return Index(manifest, tiled(base.chunks, size), flat, Bm25Index(model, size))


# Runs the command once and prints {"seconds", "peak_rss_mb"}. A small launcher process, because a
# child's ru_maxrss starts from its parent's at fork: measured from the bench process itself, it
# would report the bench's own peak.
_LAUNCHER = """
import json, resource, subprocess, sys, time
started = time.perf_counter()
done = subprocess.run(sys.argv[1:], capture_output=True, text=True)
seconds = time.perf_counter() - started
rss = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
print(json.dumps({"seconds": seconds, "peak_rss_mb": rss, "code": done.returncode, "err": done.stderr[-300:]}))
"""


def measure_cold_ask(settings: Settings, question: str, repeats: int = 3) -> dict:
    """Wall time and peak RSS of `python -m rag.ask --json` in a new process over a built index."""
    command = [sys.executable, "-m", "rag.ask", question, "--json"]
    command += ["--docs", str(settings.docs_dir), "--index-dir", str(settings.index_dir)]
    runs = []
    for _ in range(repeats):
        out = subprocess.run([sys.executable, "-c", _LAUNCHER, *command], capture_output=True, text=True, check=True)
        run = json.loads(out.stdout)
        if run["code"] != 0:
            raise RagError(f"python -m rag.ask failed: {run['err'].strip().splitlines()[-1:]}")
        runs.append(run)
    return {
        "median_seconds": round(statistics.median(r["seconds"] for r in runs), 2),
        "runs": [round(r["seconds"], 2) for r in runs],
        "peak_rss_mb": round(max(r["peak_rss_mb"] for r in runs), 1),
    }


def run(
    docs: Path, qa: Path, sizes: list[int], queries: int, repeats: int, seed: int, log: Callable[[str], None]
) -> dict:
    from rag.pipeline import Pipeline

    with tempfile.TemporaryDirectory(prefix="rag-bench-") as tmp:
        settings = Settings.from_env(docs_dir=docs, index_dir=Path(tmp) / "index")
        questions = [p.question for p in sample(load_pairs(qa), queries, seed)]
        log(f"Corpus {docs}/, {len(questions)} questions from {qa}")
        build, pipeline = measure_build(settings, repeats)
        log(f"build: {build['pipeline_chunks_per_s']} chunks/s vs raw {build['raw_chunks_per_s']}")
        reindex = measure_reindex(settings)
        log(f"no-change re-index: {reindex['seconds']} s")
        index = Pipeline(settings).index
        retrieval = [measure_retrieval(index, pipeline.embedder, settings, questions, synthetic=False)]
        cold = measure_cold_ask(settings, questions[0])
        log(f"cold rag.ask: {cold['median_seconds']} s")
        after_corpus = peak_rss_mb()
        for size in sizes:
            big = synthetic_index(index, size, seed)
            retrieval.append(measure_retrieval(big, pipeline.embedder, settings, questions, synthetic=True))
            log(f"retrieve @ {size:,}: p50 {retrieval[-1]['total_ms']['p50']} ms")
            del big
    return {
        "corpus": str(docs),
        "questions_from": str(qa),
        "settings": {"k": settings.k, "candidates": settings.candidates, "chunk_words": settings.chunk_words},
        "build": build,
        "reindex": reindex,
        "retrieval": retrieval,
        "retrieval_note": "total_ms per query: embedding the question + FAISS flat search + BM25 + fusion; "
        "embed_ms: the embedding alone. Synthetic sizes: random unit vectors for FAISS, the corpus's chunks "
        "and BM25 postings repeated.",
        "cold_ask": cold,
        "peak_rss_mb": {"after_corpus": after_corpus, "end": peak_rss_mb()},
        "targets": TARGETS,
    }


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m eval.bench", description="Measure index and query speed.")
    p.add_argument("--squad-docs", type=Path, help="corpus to measure (e.g. DIR/docs from eval.squad); default seeds/")
    p.add_argument("--qa", type=Path, help="questions to time (default: qa.jsonl beside --squad-docs, else eval's)")
    p.add_argument("--sizes", default="100k,1M", help="synthetic index sizes in chunks (default 100k,1M)")
    p.add_argument("--queries", type=int, default=200, help="questions timed at each size (default 200)")
    p.add_argument("--repeat", type=int, default=2, help="build and raw-encode runs each; the best counts")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--out", type=Path, default=DEFAULT_OUT, help="JSON output (default artifacts/bench.json)")
    args = p.parse_args(argv)
    docs = args.squad_docs or Settings.from_env().docs_dir
    qa = args.qa or (args.squad_docs.parent / "qa.jsonl" if args.squad_docs else DEFAULT_QA)
    try:
        if args.repeat < 1 or args.queries < 1:
            raise RagError("--repeat and --queries must be at least 1.")
        sizes = parse_sizes(args.sizes)
        results = run(docs, qa, sizes, args.queries, args.repeat, args.seed, log=lambda s: print(s, file=sys.stderr))
    except RagError as err:
        print(f"error: {err}", file=sys.stderr)
        return err.exit_code
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(results, indent=1) + "\n", encoding="utf-8")
    print(format_table(results))
    print(f"\nWrote {args.out}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
