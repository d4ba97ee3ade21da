"""Settings: defaults, then RAG_* environment variables, then flags."""

from __future__ import annotations

from pathlib import Path

import pytest

from rag.errors import RagError
from rag.settings import Settings


@pytest.mark.parametrize(
    ("env", "flags", "field", "value"),
    [
        ({}, {}, "k", 5),
        ({"RAG_K": "8"}, {}, "k", 8),
        ({"RAG_K": "8"}, {"k": 3}, "k", 3),
        ({"RAG_K": "8"}, {"k": None}, "k", 8),
        ({"RAG_DOCS_DIR": "articles"}, {}, "docs_dir", Path("articles")),
        ({"RAG_DOCS": "articles"}, {}, "docs_dir", Path("articles")),
        ({"RAG_MODEL": "m.gguf"}, {}, "model_path", Path("m.gguf")),
        ({"RAG_MODEL": "a.gguf", "RAG_MODEL_PATH": "b.gguf"}, {}, "model_path", Path("b.gguf")),
        ({"RAG_STRICT": "yes"}, {}, "strict", True),
        ({"RAG_STRICT": "0"}, {}, "strict", False),
        ({"RAG_TEMPERATURE": "0.7"}, {}, "temperature", 0.7),
        ({"RAG_EMBEDDING_MODEL": "/models/e5"}, {}, "embedding_model", "/models/e5"),
        ({"RAG_K": "  "}, {}, "k", 5),
    ],
)
def test_sources_in_order_of_precedence(env, flags, field: str, value) -> None:
    assert getattr(Settings.from_env(env=env, **flags), field) == value


@pytest.mark.parametrize(
    ("env", "flags", "message"),
    [
        ({"RAG_K": "five"}, {}, "RAG_K='five' is not a valid int"),
        ({"RAG_STRICT": "maybe"}, {}, "RAG_STRICT='maybe' is not a valid bool"),
        ({}, {"k": 0}, "k must be at least 1"),
        ({"RAG_SHORT_ANSWER_EXPONENT": "-1"}, {}, "short_answer_exponent must be 0 or more, got -1.0"),
        ({}, {"chunk_words": 20, "chunk_overlap_words": 20}, "chunk_overlap_words must be smaller"),
    ],
)
def test_bad_values_are_one_line_errors(env, flags, message: str) -> None:
    with pytest.raises(RagError, match=message) as err:
        Settings.from_env(env=env, **flags)
    assert "\n" not in str(err.value)


def test_unknown_flag_is_a_programming_error() -> None:
    with pytest.raises(TypeError):
        Settings.from_env(env={}, colour="blue")


@pytest.mark.parametrize(
    ("env", "address"),
    [
        ({}, "index/milvus.db"),
        ({"RAG_INDEX_DIR": "/srv/news-index"}, "/srv/news-index/milvus.db"),
        ({"RAG_MILVUS_URI": "./index/milvus.db"}, "index/milvus.db"),
        ({"RAG_MILVUS_URI": "http://milvus.newsroom:19530"}, "http://milvus.newsroom:19530"),
    ],
)
def test_the_milvus_address_defaults_to_a_lite_file_in_the_index_folder(env: dict, address: str) -> None:
    assert Settings.from_env(env=env).milvus_address == address


def test_an_unknown_store_is_refused_in_one_line() -> None:
    with pytest.raises(RagError, match="store must be faiss or milvus, got 'chroma'"):
        Settings.from_env(env={"RAG_STORE": "chroma"})
