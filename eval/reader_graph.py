"""Placeholder for the module of the same name being written on main (it will replace this file):
`int8_weights` here only quantizes dynamically, so that a trial run of `eval.train_reader` ends."""

from __future__ import annotations

from pathlib import Path


def int8_weights(fp32_path: Path, out_path: Path) -> None:
    """Writes an int8 copy of the graph at `fp32_path` to `out_path`."""
    from onnxruntime.quantization import QuantType, quantize_dynamic

    quantize_dynamic(str(fp32_path), str(out_path), weight_type=QuantType.QInt8, per_channel=True)
