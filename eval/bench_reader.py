"""`python -m eval.bench_reader --squad squad-dev-v1.1.json --split reader-split.json`: the ways the
reader's graph could ship, side by side, all made from the shipped weights.

For each candidate it prints the file's size, the session's load time, the time to read the seed
question's sentences (47 pairs, `rag.reader.BATCH` at a time, median of 5), how far the probe pairs
of `rag/reader_model/reference.json` read from the float32 model, how far a probe read inside a
batch of other pairs reads from the same probe alone, and, on held-out SQuAD questions asked
through the real pipeline (`--questions`, drawn with seed 0; the index holds all 48 dev articles),
hit@1, answer accuracy and the share given a short answer. The kernel column says what the integer
products do on a processor without VNNI (AVX2 only): u8×s8 products are summed in pairs into 16
bits there, and two products of 255 × 127 overflow them; 7-bit weights (`reduce_range`) or u8×u8
products cannot. It measures only: nothing here chooses a setting or trains. Candidates:

- float32: every weight in float32 (the reference);
- int8 weights, float32 arithmetic: what ships (`eval.reader_graph`);
- float16 weights and activations where onnxruntime's CPU kernels allow;
- dynamic int8 u8×s8: how the reader shipped before (activation scales from the whole batch);
- dynamic int8 u8×s8 with 7-bit weights (`reduce_range`), and dynamic u8×u8;
- static QDQ: activation scales calibrated once on pairs from SQuAD training articles, 7-bit weights.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from eval.pairs import load_pairs
from eval.reader_graph import float32_model
from eval.squad import convert, load_part, load_squad
from rag.answer import ReaderAnswerer
from rag.reader import MODEL_DIR, MODEL_FILE, Reader, bundled_tokenizer
from rag.reader_input import Pair, encode, load_tokenizer
from rag.sentences import split_sentences

SEED_ARTICLE = Path(__file__).resolve().parent.parent / "seeds" / "000_681fe9c43916d851.txt"
SEED_QUESTION = "Who led Russia's delegation?"


class IntegerReader(Reader):
    """A reader whose session keeps onnxruntime's integer kernels (the quantized candidates)."""

    def session(self):
        import onnxruntime

        if not hasattr(self, "_session"):
            options = onnxruntime.SessionOptions()
            options.graph_optimization_level = onnxruntime.GraphOptimizationLevel.ORT_ENABLE_EXTENDED
            options.log_severity_level = 3
            self._session = onnxruntime.InferenceSession(
                str(self.model_path), options, providers=["CPUExecutionProvider"]
            )
        return self._session


def seed_pairs() -> list[Pair]:
    text = SEED_ARTICLE.read_text(encoding="utf-8")
    title = text.splitlines()[0]
    spans = split_sentences(text)
    return [
        Pair(SEED_QUESTION, text[s:e], title, text[spans[i - 1][0] : spans[i - 1][1]] if i else "")
        for i, (s, e) in enumerate(spans)
    ][:47]


def build(folder: Path, calibration: list[Pair]) -> list[tuple[str, str, Path, type[Reader]]]:
    """(name, kernel note, graph, reader class) for each candidate, written into `folder`."""
    import onnx
    from onnxruntime.quantization import QuantFormat, QuantType, quantize_dynamic, quantize_static
    from onnxruntime.transformers.float16 import convert_float_to_float16

    shipped = MODEL_DIR / MODEL_FILE
    fp32 = folder / "float32.onnx"
    onnx.save(float32_model(shipped), str(fp32))
    fp16 = folder / "float16.onnx"
    onnx.save(convert_float_to_float16(onnx.load(str(fp32)), keep_io_types=True), str(fp16))
    out = [
        ("float32", "float32", fp32, Reader),
        ("int8 weights, float32 arithmetic (ships)", "float32", shipped, Reader),
        ("float16", "float16/float32", fp16, IntegerReader),
    ]
    for name, file, kwargs, kernel in [
        ("dynamic int8 u8s8 (shipped before)", "dyn_u8s8.onnx", {}, "u8s8: saturates"),
        ("dynamic int8 u8s8, reduce_range", "dyn_u8s8_rr.onnx", {"reduce_range": True}, "u8s8 7-bit: exact"),
        ("dynamic int8 u8u8", "dyn_u8u8.onnx", {"weight_type": QuantType.QUInt8}, "u8u8: exact"),
    ]:
        kwargs = {"weight_type": QuantType.QInt8, **kwargs}
        quantize_dynamic(str(fp32), str(folder / file), per_channel=True, **kwargs)
        out.append((name, kernel, folder / file, IntegerReader))
    static = folder / "static_qdq.onnx"
    quantize_static(
        str(fp32),
        str(static),
        _Calibration(calibration),
        quant_format=QuantFormat.QDQ,
        activation_type=QuantType.QUInt8,
        weight_type=QuantType.QInt8,
        per_channel=True,
        reduce_range=True,
        op_types_to_quantize=["MatMul"],  # a quantized attention mask would let padding be read
    )
    out.append(("static QDQ u8s8, reduce_range", "u8s8 7-bit: exact", static, IntegerReader))
    return out


class _Calibration:
    """onnxruntime's calibration data reader: one pair per call, as inference feeds them."""

    def __init__(self, pairs: list[Pair]) -> None:
        tokenizer = load_tokenizer(str(bundled_tokenizer()))
        self.feeds = iter(
            {
                "input_ids": b.input_ids,
                "attention_mask": b.attention_mask,
                "token_type_ids": b.token_type_ids,
            }
            for b in (encode(tokenizer, [p]) for p in pairs)
        )

    def get_next(self):
        return next(self.feeds, None)


def calibration_pairs(squad: list[dict], titles: set[str], count: int = 200) -> list[Pair]:
    """`count` (question, sentence of its paragraph) pairs from the articles named, drawn with seed 0."""
    pairs = []
    for article in squad:
        if article["title"] not in titles:
            continue
        for paragraph in article["paragraphs"]:
            context = " ".join(paragraph["context"].split())
            sentences = [context[s:e] for s, e in split_sentences(context)]
            for qa in paragraph["qas"]:
                pairs.extend(Pair(qa["question"], s, article["title"]) for s in sentences[:3])
    pick = np.random.default_rng(0).choice(len(pairs), min(count, len(pairs)), replace=False)
    return [pairs[int(i)] for i in pick]


def measure(reader: Reader, graph: Path, held: dict) -> dict:
    started = time.perf_counter()
    reader.session()
    load = time.perf_counter() - started
    pairs = seed_pairs()
    reader.read(pairs)
    times = []
    for _ in range(5):
        started = time.perf_counter()
        reader.read(pairs)
        times.append(time.perf_counter() - started)
    reference = json.loads((MODEL_DIR / "reference.json").read_text(encoding="utf-8"))
    probes = [Pair(r["question"], r["sentence"], r["title"], r["previous"]) for r in reference]
    alone = [reader.read([p])[0].probability for p in probes]
    together = [r.probability for r in reader.read([*pairs[:10], *probes])[10:]]
    row = {
        "size_mb": round(graph.stat().st_size / 2**20, 1),
        "load_s": round(load, 3),
        "seed_read_s": round(statistics.median(times), 3),
        "probe_gap_fp32": round(max(abs(a - r["probability"]) for a, r in zip(alone, reference)), 4),
        "batch_gap": round(max(abs(a - b) for a, b in zip(alone, together)), 4),
    }
    if held:
        from eval.run import evaluate

        report = evaluate(
            held["pipeline"](reader),
            ReaderAnswerer(reader, held["threshold"], held["span"], held["exponent"]),
            held["pairs"],
        )
        row |= {
            "hit_at_1": report["hit_at_1"],
            "answer_accuracy": report["answer_accuracy"],
            "short_answer_em": report["short_answer_em"],
        }
    return row


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m eval.bench_reader", description=__doc__.split("\n")[0])
    p.add_argument("--squad", type=Path, help="SQuAD v1.1 dev JSON; without it, no held-out figures")
    p.add_argument("--split", type=Path, help="reader-split.json")
    p.add_argument("--questions", type=int, default=200, help="held-out questions (default 200)")
    p.add_argument("--work", type=Path, help="folder for the candidates and the index (default: a temporary one)")
    args = p.parse_args(argv)
    work = args.work or Path(tempfile.mkdtemp(prefix="bench-reader-"))
    work.mkdir(parents=True, exist_ok=True)
    held: dict = {}
    calibration: list[Pair] = [*seed_pairs()]
    if args.squad and args.split:
        from rag.pipeline import Pipeline
        from rag.rerank import ReaderReranker
        from rag.settings import Settings

        squad = load_squad(args.squad)
        convert(args.squad, work / "held_out", only=load_part(args.split, "held_out"))
        calibration = calibration_pairs(squad, load_part(args.split, "train"))
        pairs = load_pairs(work / "held_out" / "qa.jsonl")
        keep = sorted(np.random.default_rng(0).choice(len(pairs), min(args.questions, len(pairs)), replace=False))
        settings = Settings.from_env(env={}, docs_dir=work / "held_out" / "docs", index_dir=work / "index")

        def pipeline(reader: Reader) -> Pipeline:
            return Pipeline(settings, reranker=ReaderReranker(reader, settings.rerank_depth))

        held = {
            "pipeline": pipeline,
            "pairs": [pairs[int(i)] for i in keep],
            "threshold": settings.abstain_threshold,
            "span": settings.short_answer_threshold,
            "exponent": settings.short_answer_exponent,
        }
    rows = []
    for name, kernel, graph, kind in build(work, calibration):
        row = {"candidate": name, "kernel without VNNI": kernel, **measure(kind(graph), graph, held)}
        print(json.dumps(row), file=sys.stderr, flush=True)
        rows.append(row)
    columns = list(rows[0])
    print(" | ".join(columns))
    print(" | ".join("---" for _ in columns))
    for row in rows:
        print(" | ".join(str(row.get(c, "")) for c in columns))
    return 0


if __name__ == "__main__":
    sys.exit(main())
