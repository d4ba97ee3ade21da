"""Reading the eval's JSON inputs (a SQuAD file, a split file, the gate's thresholds) with one-line errors.

A name ending in `.gz` is read through gzip (the SQuAD training set ships that way)."""

from __future__ import annotations

import gzip
import json
from pathlib import Path

from rag.errors import RagError


def read_json(path: Path, missing: str, unreadable: str) -> object:
    """The JSON value in `path`. A missing file raises `RagError(missing)`; a file that cannot be read
    as JSON raises `RagError` with `unreadable` followed by the reason in brackets."""
    try:
        raw = path.read_bytes()
        return json.loads(gzip.decompress(raw) if path.name.endswith(".gz") else raw)
    except FileNotFoundError:
        raise RagError(missing) from None
    except (OSError, EOFError, ValueError) as err:  # EOFError: a cut-off .gz
        raise RagError(f"{unreadable} ({err}).") from None
