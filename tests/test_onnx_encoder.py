"""The ONNX sentence encoder: the same vectors as sentence-transformers, and which folders it covers."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest

from rag.embedding import Embedder, bundled_model_dir
from rag.onnx_encoder import OnnxEncoder, export, exportable, pipeline_of

TEXTS = [
    "Who led Russia's delegation?",
    "Russia’s mid-level delegation, led by Vladimir Medinsky, landed earlier in the day in Istanbul.",
    "Erdoğan met Zelenskyy at the Dolmabahçe Palace on the Bosphorus.",
    "x",
    "Talks " * 400,  # longer than the model's 256 tokens: truncated the same way
]


@pytest.fixture(scope="module")
def graph(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("onnx") / "minilm.onnx"
    export(bundled_model_dir(), path)
    return path


def test_onnx_vectors_match_sentence_transformers(graph: Path) -> None:
    onnx = OnnxEncoder(graph, bundled_model_dir()).encode(TEXTS)
    torch = Embedder().encode_documents(TEXTS)
    assert onnx.shape == torch.shape == (len(TEXTS), 384)
    cosine = (onnx * torch).sum(axis=1) / np.linalg.norm(onnx, axis=1) / np.linalg.norm(torch, axis=1)
    assert cosine.min() >= 0.999


def test_order_is_kept_whatever_the_lengths(graph: Path) -> None:
    encoder = OnnxEncoder(graph, bundled_model_dir())
    together = encoder.encode(TEXTS)
    one_by_one = np.vstack([encoder.encode([t]) for t in TEXTS])
    assert np.allclose(together, one_by_one, atol=1e-5)


def copy_model(tmp_path: Path) -> Path:
    folder = tmp_path / "model"
    shutil.copytree(bundled_model_dir(), folder)
    return folder


@pytest.mark.parametrize(
    ("change", "covered", "pooling"),
    [
        (None, True, "mean"),
        ({"pooling_mode_mean_tokens": False, "pooling_mode_cls_token": True}, True, "cls"),
        ({"pooling_mode_mean_tokens": False, "pooling_mode_max_tokens": True}, False, None),
        ({"pooling_mode_cls_token": True}, False, None),  # two modes at once: left to torch
    ],
)
def test_which_folders_are_covered(tmp_path: Path, change, covered: bool, pooling) -> None:
    folder = copy_model(tmp_path)
    if change:
        config = folder / "1_Pooling" / "config.json"
        config.write_text(json.dumps(json.loads(config.read_text()) | change))
    assert exportable(folder) is covered
    if covered:
        assert pipeline_of(folder) == {"pooling": pooling, "normalize": True, "max_tokens": 256}


def test_a_folder_without_a_fast_tokenizer_is_left_to_torch(tmp_path: Path) -> None:
    folder = copy_model(tmp_path)
    (folder / "tokenizer.json").unlink()
    assert not exportable(folder)
