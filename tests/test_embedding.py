"""The embedder: the bundled MiniLM, unit vectors, remembered vectors, and a wrong model path."""

from __future__ import annotations

import numpy as np
import pytest

from rag.embedding import Embedder, bundled_model_dir, resolve_model
from rag.errors import RagError


def test_default_model_is_the_bundled_minilm() -> None:
    folder = bundled_model_dir()
    assert (folder / "config_sentence_transformers.json").is_file()
    assert resolve_model("all-MiniLM-L6-v2") == resolve_model("sentence-transformers/all-MiniLM-L6-v2") == str(folder)


def test_vectors_are_unit_length_and_mean_something() -> None:
    vectors = Embedder().encode(["Who led Russia's delegation?", "Medinsky led the Russian team.", "Rain in Spain."])
    assert vectors.shape == (3, 384) and vectors.dtype == np.float32
    assert np.allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)
    assert vectors[0] @ vectors[1] > vectors[0] @ vectors[2] + 0.2


class Counting(Embedder):
    def __init__(self) -> None:
        super().__init__()
        self.encoded: list[str] = []

    def encode(self, texts, progress=False):
        self.encoded += texts
        return super().encode(texts, progress)


def test_remembered_vectors_are_encoded_once() -> None:
    embedder = Counting()
    texts = [
        "A ferry ran aground near Split on Sunday.",
        "The port reopened.",
        "A ferry ran aground near Split on Sunday.",
    ]
    first = embedder.encode_remembered(texts)
    again = embedder.encode_remembered(texts[:2])
    assert embedder.encoded == texts[:2]
    assert np.allclose(first, embedder.encode(texts), atol=1e-5) and np.allclose(again, first[:2])


def test_a_missing_model_is_one_line_naming_it(tmp_path) -> None:
    with pytest.raises(RagError) as err:
        Embedder(str(tmp_path / "no-such-model")).encode(["x"])
    assert "no-such-model" in str(err.value) and "RAG_EMBEDDING_MODEL" in str(err.value) and "\n" not in str(err.value)
