"""The reader's ONNX graph as it ships: weights stored as int8, arithmetic in float32.

`int8_weights(fp32, out)` rewrites a float32 graph so that every large weight (a MatMul's matrix,
an embedding table) is stored as int8 with one scale per output channel (per row for a table) and
turned back into float32 by a `DequantizeLinear` node. The file is a quarter of the float32 one
(22 MB for MiniLM-L6), and onnxruntime folds those nodes into float32 weights when the session
loads (`rag.onnx_encoder.session`), so a question runs in float32 from then on.

Why not int8 arithmetic: onnxruntime's dynamically quantized products take an activation scale
from the whole batch (a pair's reading then depends on the pairs beside it and on padding), and its
u8×s8 kernels saturate on x86 processors without VNNI (AVX2 sums pairs of products in 16 bits), so
the same file read 0.408 on an AVX2-only machine where it read 0.337 here. Float32 products agree
across instruction sets to rounding (about 1e-6). `eval.bench_reader` measures the alternatives.

`from_dynamic(int8, out)` makes the same kind of graph from a dynamically quantized one (the reader
shipped before, whose float32 weights were not kept): its int8 weights and scales are kept as they
are and only the integer products are replaced. It does not train, measure or choose anything.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

#: Weights with fewer elements stay float32 (the heads, layer norms and biases are tiny).
MIN_ELEMENTS = 65_536


def int8_weights(fp32: Path, out: Path) -> None:
    """Writes `out`: the graph at `fp32` with its large weights stored as per-channel int8."""
    import onnx
    from onnx import numpy_helper

    model = onnx.load(str(fp32))
    graph = model.graph
    weights = {init.name: init for init in graph.initializer}
    # (initializer name, axis of its channels) for each large weight a MatMul or Gather reads.
    targets: dict[str, int] = {}
    for node in graph.node:
        if node.op_type == "MatMul" and node.input[1] in weights:
            targets[node.input[1]] = 1  # [in, out]: one scale per output column
        elif node.op_type == "Gather" and node.input[0] in weights:
            targets[node.input[0]] = 0  # [vocabulary, hidden]: one scale per row
    renamed: dict[str, str] = {}
    for name, axis in targets.items():
        array = numpy_helper.to_array(weights[name]).astype(np.float32)
        if array.ndim != 2 or array.size < MIN_ELEMENTS:
            continue
        quantized, scale = quantize_per_channel(array, axis)
        graph.initializer.remove(weights[name])
        graph.initializer.extend(
            [
                numpy_helper.from_array(quantized, f"{name}_int8"),
                numpy_helper.from_array(scale, f"{name}_scale"),
                numpy_helper.from_array(np.zeros(scale.shape, dtype=np.int8), f"{name}_zero"),
            ]
        )
        graph.node.insert(0, _dequantize(name, f"{name}_dequantized", axis))
        renamed[name] = f"{name}_dequantized"
    for node in graph.node:
        if node.op_type != "DequantizeLinear":
            for i, value in enumerate(node.input):
                node.input[i] = renamed.get(value, value)
    onnx.checker.check_model(model)
    onnx.save(model, str(out))


def quantize_per_channel(array: np.ndarray, axis: int) -> tuple[np.ndarray, np.ndarray]:
    """(int8 values, float32 scales): symmetric, one scale per slice along `axis`, so that
    values × scale is within scale / 2 of `array`."""
    reduce = 1 - axis
    peak = np.abs(array).max(axis=reduce)
    scale = np.where(peak > 0, peak / 127.0, 1.0).astype(np.float32)
    shaped = scale[None, :] if axis == 1 else scale[:, None]
    quantized = np.clip(np.rint(array / shaped), -127, 127).astype(np.int8)
    return quantized, scale


def from_dynamic(int8: Path, out: Path) -> None:
    """Writes `out`: the dynamically quantized graph at `int8` with each integer product
    (`DynamicQuantizeMatMul`, `MatMulIntegerToFloat`) replaced by DequantizeLinear → MatMul → Add
    on the same stored weights, and the activation quantizers removed."""
    import onnx
    from onnx import helper, numpy_helper

    model = onnx.load(str(int8))
    graph = model.graph
    weights = {init.name: init for init in graph.initializer}
    quantizer_of = {o: n for n in graph.node if n.op_type == "DynamicQuantizeLinear" for o in n.output}
    nodes = []
    dropped: set[str] = set()
    for node in graph.node:
        if node.op_type == "DynamicQuantizeMatMul":
            source, matrix, scale, zero = node.input[0], node.input[1], node.input[2], _optional(node.input, 3)
            bias = _optional(node.input, 4)
        elif node.op_type == "MatMulIntegerToFloat":
            source = quantizer_of[node.input[0]].input[0]
            matrix, scale, zero, bias = node.input[1], node.input[3], _optional(node.input, 5), _optional(node.input, 6)
        else:
            nodes.append(node)
            continue
        channels = numpy_helper.to_array(weights[scale]).size
        dequantized = f"{matrix}_dequantized"
        if dequantized not in dropped:
            nodes.append(_dequantize_from(matrix, scale, zero, dequantized, 1 if channels > 1 else None))
            dropped.add(dequantized)
        product = node.output[0] + "_product" if bias else node.output[0]
        nodes.append(helper.make_node("MatMul", [source, dequantized], [product], name=node.name + "_matmul"))
        if bias:
            nodes.append(helper.make_node("Add", [product, bias], [node.output[0]], name=node.name + "_bias"))
    used = {i for n in nodes for i in n.input}
    nodes = [n for n in nodes if n.op_type != "DynamicQuantizeLinear" or any(o in used for o in n.output)]
    del graph.node[:]
    graph.node.extend(nodes)
    used = {i for n in nodes for i in n.input}
    for init in list(graph.initializer):
        if init.name not in used:
            graph.initializer.remove(init)
    onnx.save(model, str(out))


def float32_model(path: Path):
    """The graph at `path` (an `onnx.ModelProto`) with every DequantizeLinear of a stored weight
    replaced by the float32 weight it computes, in numpy: the plain float32 model that a
    `rag.onnx_encoder.float32_session` of `path` must agree with, and the base for measuring other
    quantizations (`eval.bench_reader`)."""
    import onnx
    from onnx import numpy_helper

    model = onnx.load(str(path))
    graph = model.graph
    weights = {init.name: init for init in graph.initializer}
    gather_of = {n.output[0]: n for n in graph.node if n.op_type == "Gather" and n.input[0] in weights}
    for node in [n for n in graph.node if n.op_type == "DequantizeLinear"]:
        scale = numpy_helper.to_array(weights[node.input[1]]).astype(np.float32)
        zero = numpy_helper.to_array(weights[node.input[2]]).astype(np.float32) if len(node.input) > 2 else 0.0
        if node.input[0] in weights:
            values = numpy_helper.to_array(weights[node.input[0]]).astype(np.float32)
            axis = next((a.i for a in node.attribute if a.name == "axis"), 1)
            if np.ndim(scale) == 1 and scale.size > 1:
                shape = [1] * values.ndim
                shape[axis] = scale.size
                scale, zero = scale.reshape(shape), np.reshape(zero, shape) if np.ndim(zero) else zero
            graph.initializer.append(numpy_helper.from_array((values - zero) * scale, node.output[0]))
        elif node.input[0] in gather_of and scale.size == 1:
            # A table quantized as a whole and dequantized after the lookup: dequantize the table.
            gather = gather_of[node.input[0]]
            table = numpy_helper.to_array(weights[gather.input[0]]).astype(np.float32)
            graph.initializer.append(numpy_helper.from_array((table - zero) * scale, gather.input[0] + "_float"))
            gather.input[0] = gather.input[0] + "_float"
            gather.output[0] = node.output[0]
        else:
            continue
        graph.node.remove(node)
    used = {i for n in graph.node for i in n.input}
    for init in [i for i in graph.initializer if i.name not in used]:
        graph.initializer.remove(init)
    return model


def _optional(inputs, i: int) -> str:
    return inputs[i] if len(inputs) > i else ""


def _dequantize(name: str, output: str, axis: int):
    return _dequantize_from(f"{name}_int8", f"{name}_scale", f"{name}_zero", output, axis)


def _dequantize_from(matrix: str, scale: str, zero: str, output: str, axis: int | None):
    from onnx import helper

    inputs = [matrix, scale, zero] if zero else [matrix, scale]
    extra = {"axis": axis} if axis is not None else {}
    return helper.make_node("DequantizeLinear", inputs, [output], name=output, **extra)


def main(argv: list[str] | None = None) -> int:
    import argparse

    p = argparse.ArgumentParser(prog="python -m eval.reader_graph", description=__doc__.split("\n")[0])
    source = p.add_mutually_exclusive_group(required=True)
    source.add_argument("--fp32", type=Path, help="a float32 graph (torch's export)")
    source.add_argument("--from-dynamic", type=Path, help="a dynamically quantized graph")
    p.add_argument("--out", type=Path, required=True, help="the graph to write")
    args = p.parse_args(argv)
    given = args.fp32 or args.from_dynamic
    if not given.is_file():
        p.error(f"{given} is not a file")
    (int8_weights if args.fp32 else from_dynamic)(given, args.out)
    print(f"wrote {args.out} ({args.out.stat().st_size / 2**20:.1f} MB)")
    return 0


if __name__ == "__main__":
    import sys

    sys.exit(main())
