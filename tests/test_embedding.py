"""The embedder: the bundled MiniLM, query and document roles, prompts, both backends, a wrong path."""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import numpy as np
import pytest

from rag.embedding import Embedder, bundled_model_dir, export_graph, model_fingerprint, prompts, resolve_model
from rag.errors import RagError
from rag.onnx_encoder import EXPORT_VERSION


def test_default_model_is_the_bundled_minilm() -> None:
    folder = bundled_model_dir()
    assert (folder / "config_sentence_transformers.json").is_file()
    assert resolve_model("all-MiniLM-L6-v2") == resolve_model("sentence-transformers/all-MiniLM-L6-v2") == str(folder)


@pytest.fixture(scope="module")
def graph(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return export_graph("all-MiniLM-L6-v2", tmp_path_factory.mktemp("index"))


@pytest.mark.parametrize("backend", ["onnx", "torch"])
def test_vectors_are_unit_length_and_mean_something(graph: Path, backend: str) -> None:
    embedder = Embedder(graph=graph if backend == "onnx" else None)
    assert embedder.backend == ("onnx" if backend == "onnx" else "sentence-transformers")
    q = embedder.encode_query("Who led Russia's delegation?")
    docs = embedder.encode_documents(["Medinsky led the Russian team.", "Rain in Spain."])
    assert q.shape == (384,) and docs.shape == (2, 384) and docs.dtype == np.float32
    assert np.allclose(np.linalg.norm(docs, axis=1), 1.0, atol=1e-5)
    assert q @ docs[0] > q @ docs[1] + 0.2
    assert embedder.dimension == 384


def test_the_two_backends_agree(graph: Path) -> None:
    texts = ["Zelenskyy travelled to Ankara.", "The talks at the Dolmabahçe Palace were delayed."]
    onnx = Embedder(graph=graph).encode_documents(texts)
    torch = Embedder().encode_documents(texts)
    assert ((onnx * torch).sum(axis=1) >= 0.999).all()


def test_the_graph_is_named_by_the_model_files_and_copied_from_the_cache(tmp_path: Path, graph: Path) -> None:
    assert graph.name == f"encoder-{model_fingerprint('all-MiniLM-L6-v2')}-v{EXPORT_VERSION}.onnx"
    again = export_graph("all-MiniLM-L6-v2", tmp_path / "other-index")  # from the cache: no torch export
    assert again.read_bytes() == graph.read_bytes()


class Counting(Embedder):
    def __init__(self) -> None:
        super().__init__()
        self.encoded: list[str] = []

    def _encode(self, texts, role):
        self.encoded += texts
        return super()._encode(texts, role)


def test_sentence_vectors_are_remembered_and_encoded_once() -> None:
    embedder = Counting()
    texts = [
        "A ferry ran aground near Split on Sunday.",
        "The port reopened.",
        "A ferry ran aground near Split on Sunday.",
    ]
    first = embedder.encode_sentences(texts)
    again = embedder.encode_sentences(texts[:2])
    assert embedder.encoded == texts[:2]
    assert np.allclose(first, embedder.encode_documents(texts), atol=1e-5) and np.allclose(again, first[:2])


def test_a_model_with_prompts_gets_them_by_role(tmp_path: Path, graph: Path) -> None:
    folder = tmp_path / "prompted"
    shutil.copytree(bundled_model_dir(), folder)
    config = folder / "config_sentence_transformers.json"
    config.write_text(
        json.dumps(json.loads(config.read_text()) | {"prompts": {"query": "query: ", "passage": "passage: "}})
    )
    assert prompts(str(folder)) == {"query": "query: ", "document": "passage: "}
    plain = Embedder(graph=graph)
    prompted = Embedder(str(folder), graph=graph)
    assert np.allclose(
        prompted.encode_query("Who led it?"), plain.encode_documents(["query: Who led it?"])[0], atol=1e-5
    )
    assert np.allclose(
        prompted.encode_documents(["He led it."]), plain.encode_documents(["passage: He led it."]), atol=1e-5
    )


def test_loading_changes_nothing_in_the_environment() -> None:
    before = dict(os.environ)
    Embedder().encode_documents(["x"])
    assert dict(os.environ) == before


def test_a_missing_model_is_one_line_naming_it(tmp_path) -> None:
    with pytest.raises(RagError) as err:
        Embedder(str(tmp_path / "no-such-model")).encode_documents(["x"])
    assert "no-such-model" in str(err.value) and "RAG_EMBEDDING_MODEL" in str(err.value) and "\n" not in str(err.value)
