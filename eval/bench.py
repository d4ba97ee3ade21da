"""`python -m eval.bench [--squad FILE]`: the speed and memory figures, each beside its target.

All in one run, so figures can be compared as ratios on a noisy machine:
- start-up: bare `python -c pass` and `python -c "import torch"`, then a cold
  `python -m rag.ask "Who led Russia's delegation?"` on an up-to-date seed index (wall, peak RSS);
- warm questions through one loaded pipeline (as the UI and the eval run them): p50/p95 of the whole
  question, and of the reader's part (rerank + answer), on the seed and, with --squad, on the 48
  SQuAD articles (2,067 paragraphs);
- with --squad, a newsroom-sized folder: every SQuAD paragraph as a short article (2,067 files).
  Indexing it from scratch in a child process (throughput, peak RSS, the longest gap between two
  progress lines in its log) with the ONNX encoder and with the sentence-transformers (torch) path,
  beside raw `SentenceTransformer.encode` of the same chunk texts; then, in fresh processes, the
  time to load its lexical index and to answer one question; appending one article; deleting one;
- retrieval (embedding, FAISS, BM25, fusion; no reader) at synthetic sizes: random unit vectors and
  the seed's chunks repeated. They measure search cost, not quality.
It asserts nothing: `format_table` prints each figure beside its target.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

from eval import bench_runs as runs
from eval.bench_runs import parse_sizes, peak_rss_mb
from eval.pairs import load_pairs, sample
from eval.run import DEFAULT_QA
from rag.errors import RagError
from rag.settings import Settings

DEFAULT_OUT = Path("artifacts") / "bench.json"
QUESTION = "Who led Russia's delegation?"
TARGETS = {
    "cold_ask_s": 1.5,
    "cold_ask_rss_mb": 400,
    "warm_p50_ms": 500,
    "warm_p95_ms": 1200,
    "reader_p50_ms": 400,
    "build_vs_raw": 0.9,
    "build_vs_torch_path": 2.0,
    "build_rss_mb": 800,
    "progress_gap_s": 10,
    "lexical_load_s": 0.3,
    "edit_s": 2.0,
}


def format_table(results: dict) -> str:
    """The figures as aligned lines: what, value, target."""
    rows = [("figure", "value", "target")]

    def add(label: str, value: float | None, fmt: str, target: str = "") -> None:
        rows.append((label, "-" if value is None else format(value, fmt), target))

    start = results.get("startup", {})
    if start:
        add("python -c pass (s)", start["python_pass"]["median_seconds"], ".2f")
        add('python -c "import torch" (s)', start["import_torch"]["median_seconds"], ".2f")
        add("cold rag.ask wall (s, median)", start["cold_ask"]["median_seconds"], ".2f", f"<= {TARGETS['cold_ask_s']}")
        add("cold rag.ask peak RSS (MB)", start["cold_ask"]["peak_rss_mb"], ".0f", f"<= {TARGETS['cold_ask_rss_mb']}")
    for corpus, warm in results.get("warm", {}).items():
        add(f"warm question p50 ms ({corpus})", warm["total_ms"]["p50"], ".0f", f"<= {TARGETS['warm_p50_ms']}")
        add(f"warm question p95 ms ({corpus})", warm["total_ms"]["p95"], ".0f", f"<= {TARGETS['warm_p95_ms']}")
        add(f"reader p50 ms ({corpus})", warm["reader_ms"]["p50"], ".0f", f"<= {TARGETS['reader_p50_ms']}")
    news = results.get("newsroom")
    if news:
        build = news["build"]
        add(f"raw ST encode ({build['chunks']} chunks/s)", build["raw_chunks_per_s"], ".1f")
        for name, run in build["runs"].items():
            add(f"index build, {name} (chunks/s)", run["chunks_per_s"], ".1f")
            add(f"index build, {name} peak RSS (MB)", run["peak_rss_mb"], ".0f", f"<= {TARGETS['build_rss_mb']}")
            add(
                f"index build, {name}: longest gap between log lines (s)",
                run["longest_gap_s"],
                ".1f",
                f"<= {TARGETS['progress_gap_s']}",
            )
        add("build / raw encode", build["vs_raw"], ".2f", f">= {TARGETS['build_vs_raw']}")
        add("build / torch path (today's)", build["vs_torch_path"], ".2f", f">= {TARGETS['build_vs_torch_path']}")
        add(
            "fresh process: load lexical index (s)",
            news["fresh"]["lexical_load_s"],
            ".3f",
            f"<= {TARGETS['lexical_load_s']}",
        )
        add("fresh process: load whole index (s)", news["fresh"]["index_load_s"], ".3f")
        add(
            f"warm question p50 ms (newsroom, {news['articles']:,} articles)",
            news["warm"]["total_ms"]["p50"],
            ".0f",
            f"<= {TARGETS['warm_p50_ms']}",
        )
        add("append one article (s)", news["append_s"], ".2f", f"<= {TARGETS['edit_s']}")
        add("delete one article (s)", news["delete_s"], ".2f", f"<= {TARGETS['edit_s']}")
    for row in results.get("retrieval", []):
        ms = row["total_ms"]
        add(f"retrieve @ {row['chunks']:,} chunks (synthetic) p50 ms", ms["p50"], ".1f")
    add("peak RSS of this process (MB)", results.get("peak_rss_mb"), ".0f")
    widths = [max(len(r[i]) for r in rows) for i in range(3)]
    lines = [f"{a:<{widths[0]}}  {b:>{widths[1]}}  {c}" for a, b, c in rows]
    lines.insert(1, "-" * (sum(widths) + 4))
    return "\n".join(lines)


def run(args: argparse.Namespace, log) -> dict:
    results: dict = {"targets": TARGETS}
    seeds = Path(args.docs)
    with tempfile.TemporaryDirectory(prefix="rag-bench-") as tmp:
        root = Path(tmp)
        seed_settings = Settings.from_env(docs_dir=seeds, index_dir=root / "seed-index")
        runs.build_quietly(seed_settings)
        log("start-up: python -c pass, import torch, cold rag.ask")
        results["startup"] = {
            "python_pass": runs.timed_command([sys.executable, "-c", "pass"], args.repeat_cold),
            "import_torch": runs.timed_command([sys.executable, "-c", "import torch"], args.repeat_cold),
            "cold_ask": runs.timed_command(
                [
                    sys.executable,
                    "-m",
                    "rag.ask",
                    "--docs",
                    str(seeds),
                    "--index-dir",
                    str(root / "seed-index"),
                    QUESTION,
                ],
                args.repeat_cold,
            ),
        }
        questions = [p.question for p in sample(load_pairs(args.qa), min(args.queries, 64), args.seed)]
        results["warm"] = {"seed": runs.warm(seed_settings, questions)}
        log(f"warm, seed: p50 {results['warm']['seed']['total_ms']['p50']} ms")
        if args.squad:
            squad_docs, squad_questions = runs.squad_corpus(args.squad, root / "squad")
            settings = Settings.from_env(docs_dir=squad_docs, index_dir=root / "squad-index")
            runs.build_quietly(settings)
            picked = sample(load_pairs(squad_questions), args.queries, args.seed)
            results["warm"]["squad-48-articles"] = runs.warm(settings, [p.question for p in picked])
            log(f"warm, SQuAD: p50 {results['warm']['squad-48-articles']['total_ms']['p50']} ms")
            news = runs.news_corpus(args.squad, root / "news")
            log(f"newsroom: {len(list(news.glob('*.txt')))} articles; indexing with ONNX and with torch")
            results["newsroom"] = runs.newsroom(news, root, [p.question for p in picked][:20], log)
        results["retrieval"] = runs.retrieval_at_sizes(seed_settings, questions, parse_sizes(args.sizes), args.seed)
    results["peak_rss_mb"] = peak_rss_mb()
    return results


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m eval.bench", description="Measure speed and memory.")
    p.add_argument("--docs", type=Path, default=Path("seeds"), help="the seed folder (default seeds/)")
    p.add_argument("--qa", type=Path, default=DEFAULT_QA, help="questions timed on the seed (default eval/qa.jsonl)")
    p.add_argument("--squad", type=Path, help="SQuAD v1.1 JSON: adds the 48-article and the 2,067-article figures")
    p.add_argument("--sizes", default="100k,1M", help="synthetic index sizes in chunks (default 100k,1M)")
    p.add_argument("--queries", type=int, default=200, help="questions timed per corpus (default 200)")
    p.add_argument("--repeat-cold", type=int, default=5, help="runs of each start-up command; the median counts")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--out", type=Path, default=DEFAULT_OUT, help="JSON output (default artifacts/bench.json)")
    args = p.parse_args(argv)
    started = time.perf_counter()
    try:
        if args.queries < 1 or args.repeat_cold < 1:
            raise RagError("--queries and --repeat-cold must be at least 1.")
        results = run(args, log=lambda s: print(s, file=sys.stderr, flush=True))
    except RagError as err:
        print(f"error: {err}", file=sys.stderr)
        return err.exit_code
    results["bench_seconds"] = round(time.perf_counter() - started, 1)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(results, indent=1) + "\n", encoding="utf-8")
    print(format_table(results))
    print(f"\nWrote {args.out}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
