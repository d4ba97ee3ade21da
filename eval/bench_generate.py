"""`python -m eval.bench_generate`: prompt sizes and the llama.cpp answerer's overhead, as figures.

1. Prompt tokens at k passages for every question of the Q&A file, three ways: with the model's
   own tokenizer (for the tiny test model, byte-level, so about one token per character); with a
   realistic stand-in, the all-MiniLM-L6-v2 WordPiece tokenizer (30k English vocabulary), the
   prompt rendered as ChatML and built to the same `max_prompt_tokens` budget; and characters / 4
   of that same prompt. Whole (untrimmed) passages are shown for comparison.
2. Time to first token and tokens/s of `LlamaAnswerer.stream` (prompt building, grammar, streaming)
   next to a bare `Llama.create_chat_completion` on the same messages, alternating, with the KV
   cache reset before each run so neither reuses the other's prompt. The difference is the
   pipeline's overhead; the support check that runs after the last token is reported apart.

Without --model it writes the tiny random GGUF of tests/tiny_gguf.py to a temporary folder. The
index is built in a temporary folder from --docs. Timings on a shared machine are noisy; compare
figures from one run. It asserts nothing.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

from eval.pairs import load_pairs
from eval.run import DEFAULT_QA
from rag.generate import LlamaAnswerer, build_prompt, strict_grammar
from rag.pipeline import Pipeline
from rag.settings import Settings

REPO = Path(__file__).resolve().parent.parent


def chatml(messages: list[dict[str, str]]) -> str:
    """The messages as a ChatML prompt (the format of Qwen2.5 instruct models)."""
    turns = "".join(f"<|im_start|>{m['role']}\n{m['content']}<|im_end|>\n" for m in messages)
    return turns + "<|im_start|>assistant\n"


def prompt_sizes(pipeline: Pipeline, answerer: LlamaAnswerer, questions: list[str]) -> None:
    from rag.embedding import bundled_model_dir
    from rag.reader_input import load_tokenizer

    s = pipeline.settings
    tokenizer = load_tokenizer(str(bundled_model_dir() / "tokenizer.json"))

    def wordpiece(text: str) -> int:
        return len(tokenizer.encode(text, add_special_tokens=False).ids)

    limit = s.n_ctx - s.max_tokens
    rows: dict[str, list[float]] = {"model tokenizer": [], "WordPiece": [], "chars / 4": [], "WordPiece, whole": []}
    for q in questions:
        passages = pipeline.passages(q)
        rows["model tokenizer"].append(answerer.prompt(q, passages).tokens)
        idf = pipeline.term_stats.idf
        real = build_prompt(q, passages, chatml, wordpiece, s.max_prompt_tokens, limit, idf)
        rows["WordPiece"].append(real.tokens)
        rows["chars / 4"].append(len(chatml(list(real.messages))) / 4)
        rows["WordPiece, whole"].append(build_prompt(q, passages, chatml, wordpiece, 10**6, 10**6).tokens)
    print(f"\nPrompt tokens at k={s.k}, {len(questions)} questions (budget max_prompt_tokens={s.max_prompt_tokens}):")
    print(f"  {'counted with':<20} {'median':>7} {'max':>7} {'<= 700':>7}")
    for name, values in rows.items():
        within = sum(v <= 700 for v in values)
        print(f"  {name:<20} {statistics.median(values):>7.0f} {max(values):>7.0f} {within:>4}/{len(values)}")


def timed(pieces: Iterator) -> tuple[float, float, int]:
    """(seconds to the first text piece, seconds from first to last, number of text pieces)."""
    started = time.perf_counter()
    first = last = None
    count = 0
    for piece in pieces:
        if isinstance(piece, str) and piece:
            last = time.perf_counter()
            first = first or last
            count += 1
    assert first is not None and last is not None
    return first - started, last - first, count


def bare_pieces(llm, messages, settings: Settings, grammar_text: str | None) -> Iterator[str]:
    from llama_cpp import LlamaGrammar

    grammar = LlamaGrammar.from_string(grammar_text, verbose=False) if grammar_text else None
    for chunk in llm.create_chat_completion(
        messages, stream=True, max_tokens=settings.max_tokens, temperature=settings.temperature, grammar=grammar
    ):
        yield chunk["choices"][0]["delta"].get("content") or ""


def overhead(pipeline: Pipeline, questions: list[str], runs: int, strict: bool) -> None:
    settings = replace(pipeline.settings, strict=strict)
    answerer = LlamaAnswerer(settings, pipeline.embedder, pipeline.term_stats)
    llm = answerer.llm
    results: dict[str, list[tuple[float, float, int]]] = {"pipeline": [], "bare": []}
    checks: list[float] = []
    for r in range(runs):
        for q in questions:
            passages = pipeline.passages(q)
            prompt = answerer.prompt(q, passages)
            grammar = None
            if strict:
                max_chars = int((settings.max_tokens - 1) * max(1.0, 0.8 * prompt.chars_per_token))
                grammar = strict_grammar(prompt.labels, max_chars)
            order = ["pipeline", "bare"] if r % 2 == 0 else ["bare", "pipeline"]
            for name in order:
                llm.reset()  # no prompt-prefix reuse between the two
                if name == "pipeline":
                    events: list = []
                    results[name].append(timed(_kept(answerer.stream(q, passages), events)))
                    checks.append(events[-1].timings_ms["check"])
                else:
                    results[name].append(timed(bare_pieces(llm, list(prompt.messages), settings, grammar)))
    label = "strict (grammar)" if strict else "free"
    print(f"\n{label}: {runs} runs x {len(questions)} questions, max_tokens={settings.max_tokens}, median figures")
    print(f"  {'':<10} {'first token ms':>15} {'tokens/s':>10} {'tokens':>7}")
    medians = {}
    for name, rows in results.items():
        ttft = statistics.median(t for t, _, _ in rows) * 1000
        rate = statistics.median((n - 1) / d for _, d, n in rows if d > 0)
        medians[name] = (ttft, rate)
        print(f"  {name:<10} {ttft:>15.1f} {rate:>10.0f} {statistics.median(n for _, _, n in rows):>7.0f}")
    (p_ttft, p_rate), (b_ttft, b_rate) = medians["pipeline"], medians["bare"]
    print(
        f"  overhead: first token +{p_ttft - b_ttft:.1f} ms ({(p_ttft / b_ttft - 1) * 100:+.0f}%), "
        f"tokens/s {(p_rate / b_rate - 1) * 100:+.1f}%; support check after the answer: "
        f"{statistics.median(checks):.0f} ms"
    )


def _kept(events: Iterator, into: list) -> Iterator:
    for event in events:
        into.append(event)
        yield event


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m eval.bench_generate", description=__doc__.splitlines()[0])
    p.add_argument("--model", type=Path, help="GGUF model (default: the tiny random test model)")
    p.add_argument("--docs", type=Path, default=REPO / "seeds")
    p.add_argument("--qa", type=Path, default=DEFAULT_QA)
    p.add_argument("--runs", type=int, default=4)
    p.add_argument("--timed-questions", type=int, default=3)
    p.add_argument("--max-tokens", type=int, default=128)
    p.add_argument("--threads", type=int, default=1, help="llama.cpp threads (default 1: steadier figures)")
    args = p.parse_args(argv)
    questions = [pair.question for pair in load_pairs(args.qa)]
    with tempfile.TemporaryDirectory() as tmp:
        model = args.model
        if model is None:
            sys.path.insert(0, str(REPO / "tests"))
            from tiny_gguf import write_tiny_gguf

            model = write_tiny_gguf(Path(tmp) / "tiny.gguf")
        settings = Settings.from_env(
            docs_dir=args.docs,
            index_dir=Path(tmp) / "index",
            model_path=model,
            max_tokens=args.max_tokens,
            n_threads=args.threads,
        )
        pipeline = Pipeline(settings)
        pipeline.refresh()
        answerer = LlamaAnswerer(settings, pipeline.embedder, pipeline.term_stats)
        print(f"model: {model.name}, n_ctx={settings.n_ctx}, threads={args.threads}")
        prompt_sizes(pipeline, answerer, questions)
        timed_questions = questions[: args.timed_questions]
        list(pipeline.stream(timed_questions[0], answerer))  # warm up: model load, MiniLM, caches
        overhead(pipeline, timed_questions, args.runs, strict=False)
        overhead(pipeline, timed_questions, args.runs, strict=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
