"""A sentence-transformers model as one ONNX graph, run with onnxruntime and `tokenizers`: no torch.

`export(model_dir, path)` writes the model's transformer, its pooling (mean or CLS) and its
normalisation as one graph whose output is the sentence vector; it needs torch and runs where torch
is loaded anyway (building the index). `OnnxEncoder` then embeds texts exactly as
sentence-transformers does: the model's own tokenizer, truncation at its `max_seq_length`,
batches padded to their longest text. `exportable` says which folders this covers: a Transformer,
a mean or CLS Pooling and an optional Normalize module; anything else stays on torch.
The graph is saved already optimized by onnxruntime (operator fusions that do not depend on the
processor), so loading it skips that work: a question's first embedding comes sooner. It does not
quantize: int8 vectors would not match the index's float32 ones.
"""

from __future__ import annotations

import functools
import json
import threading
from pathlib import Path

import numpy as np

#: Texts per onnxruntime call when embedding many; sorted by length first so padding stays small.
#: Eight: indexing 2,067 short articles peaked at 436 MB and took 66 s, against 1,177 MB and 73 s
#: with 32 (the attention of 32 chunks of 256 tokens is what filled memory).
BATCH = 8
#: Raise when `export` writes a different graph for the same weights, so older exports are not reused.
EXPORT_VERSION = 2  # 2: saved pre-optimized


def pipeline_of(model_dir: Path) -> dict | None:
    """The pieces of a sentence-transformers folder that matter here, or None if it is not one this
    module can run: {"pooling": "mean"|"cls", "normalize": bool, "max_tokens": int}."""
    try:
        modules = json.loads((model_dir / "modules.json").read_text())
        kinds = [m["type"].rsplit(".", 1)[-1] for m in modules]
        if kinds[:2] != ["Transformer", "Pooling"] or kinds[2:] not in ([], ["Normalize"]):
            return None
        pooling = json.loads((model_dir / modules[1]["path"] / "config.json").read_text())
        config = json.loads((model_dir / "sentence_bert_config.json").read_text())
        if not (model_dir / "tokenizer.json").is_file():
            return None
    except (OSError, ValueError, KeyError, IndexError):
        return None
    modes = [k for k, v in pooling.items() if k.startswith("pooling_mode_") and v]
    if modes == ["pooling_mode_mean_tokens"]:
        mode = "mean"
    elif modes == ["pooling_mode_cls_token"]:
        mode = "cls"
    else:
        return None
    return {"pooling": mode, "normalize": kinds[2:] == ["Normalize"], "max_tokens": int(config["max_seq_length"])}


def exportable(model_dir: Path) -> bool:
    return pipeline_of(model_dir) is not None


def export(model_dir: Path, path: Path) -> None:
    """Writes the ONNX graph of the model in `model_dir` to `path` (via a temporary file)."""
    import warnings

    import torch
    from transformers import AutoModel
    from transformers.utils import logging as transformers_logging

    shape = pipeline_of(model_dir)
    if shape is None:
        raise ValueError(f"{model_dir} is not a model this exporter covers")
    transformers_logging.disable_progress_bar()
    transformer = AutoModel.from_pretrained(str(model_dir)).eval()

    class SentenceVector(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.transformer = transformer

        def forward(self, input_ids, attention_mask, token_type_ids):
            states = self.transformer(
                input_ids=input_ids, attention_mask=attention_mask, token_type_ids=token_type_ids
            ).last_hidden_state
            if shape["pooling"] == "cls":
                pooled = states[:, 0]
            else:
                mask = attention_mask.unsqueeze(-1).to(states.dtype)
                pooled = (states * mask).sum(1) / mask.sum(1).clamp(min=1e-9)
            return torch.nn.functional.normalize(pooled, p=2, dim=1) if shape["normalize"] else pooled

    ids = torch.tensor([[101, 7592, 2088, 102]])
    axes = {0: "texts", 1: "tokens"}
    partial = path.with_name(path.name + ".partial")
    # The tracer warns about shapes it treats as constants; the axes below are dynamic all the same.
    with torch.no_grad(), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        torch.onnx.export(
            SentenceVector(),
            (ids, torch.ones_like(ids), torch.zeros_like(ids)),
            str(partial),
            input_names=["input_ids", "attention_mask", "token_type_ids"],
            output_names=["sentence_embedding"],
            dynamic_axes={
                "input_ids": axes,
                "attention_mask": axes,
                "token_type_ids": axes,
                "sentence_embedding": {0: "texts"},
            },
            opset_version=17,
            dynamo=False,
        )
    save_optimized(partial, partial)
    partial.replace(path)


def save_optimized(source: Path, target: Path) -> None:
    """Writes `source` as onnxruntime optimizes it at its extended level (fusions that hold on every
    processor), so `session()` can load it without optimizing again."""
    import onnxruntime

    options = onnxruntime.SessionOptions()
    options.graph_optimization_level = onnxruntime.GraphOptimizationLevel.ORT_ENABLE_EXTENDED
    scratch = target.with_name(target.name + ".optimized")
    options.optimized_model_filepath = str(scratch)
    options.log_severity_level = 3
    onnxruntime.InferenceSession(str(source), options, providers=["CPUExecutionProvider"])
    scratch.replace(target)


def session(path: str):
    """An onnxruntime session for a graph saved by `save_optimized`: no optimizing at load."""
    import onnxruntime

    options = onnxruntime.SessionOptions()
    options.graph_optimization_level = onnxruntime.GraphOptimizationLevel.ORT_DISABLE_ALL
    options.log_severity_level = 3
    return onnxruntime.InferenceSession(path, options, providers=["CPUExecutionProvider"])


def float32_session(path: str):
    """An onnxruntime session for a graph whose weights are stored as int8 behind DequantizeLinear
    nodes (`eval.reader_graph`): the weights are turned into float32 once, at load, and every
    product is float32.

    Left to itself onnxruntime would fuse each DequantizeLinear → MatMul into an integer kernel
    (MatMulNBits) whose results depend on the processor; `session.disable_quant_qdq` stops that and
    lets constant folding do the dequantizing instead (about 0.2 s more at load).
    """
    import onnxruntime

    options = onnxruntime.SessionOptions()
    options.graph_optimization_level = onnxruntime.GraphOptimizationLevel.ORT_ENABLE_EXTENDED
    options.add_session_config_entry("session.disable_quant_qdq", "1")
    options.log_severity_level = 3
    return onnxruntime.InferenceSession(path, options, providers=["CPUExecutionProvider"])


class OnnxEncoder:
    """Embeds texts with an exported graph; the session and tokenizer load on first use."""

    def __init__(self, graph: Path, model_dir: Path) -> None:
        self.graph = graph
        self.model_dir = model_dir
        self._lock = threading.Lock()

    def encode(self, texts: list[str]) -> np.ndarray:
        """float32 (len(texts), dimension), in the order given."""
        session, tokenizer = _load(str(self.graph), str(self.model_dir))
        encodings = tokenizer.encode_batch(texts)
        order = sorted(range(len(texts)), key=lambda i: len(encodings[i].ids))
        out: np.ndarray | None = None
        for begin in range(0, len(order), BATCH):
            chosen = order[begin : begin + BATCH]
            width = max(len(encodings[i].ids) for i in chosen)
            ids = np.zeros((len(chosen), width), dtype=np.int64)
            mask = np.zeros_like(ids)
            types = np.zeros_like(ids)
            for row, i in enumerate(chosen):
                e = encodings[i]
                ids[row, : len(e.ids)] = e.ids
                mask[row, : len(e.ids)] = 1
                types[row, : len(e.ids)] = e.type_ids
            with self._lock:
                (vectors,) = session.run(None, {"input_ids": ids, "attention_mask": mask, "token_type_ids": types})
            if out is None:
                out = np.zeros((len(texts), vectors.shape[1]), dtype=np.float32)
            out[chosen] = vectors
        return out if out is not None else np.zeros((0, 0), dtype=np.float32)


@functools.cache
def _load(graph: str, model_dir: str):
    from tokenizers import Tokenizer

    shape = pipeline_of(Path(model_dir))
    tokenizer = Tokenizer.from_file(str(Path(model_dir) / "tokenizer.json"))
    tokenizer.no_padding()
    tokenizer.enable_truncation(max_length=shape["max_tokens"] if shape else 256)
    return session(graph), tokenizer
