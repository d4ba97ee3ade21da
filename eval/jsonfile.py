"""Reading the eval's JSON inputs (a SQuAD file, a split file, the gate's thresholds) with one-line errors."""

from __future__ import annotations

import json
from pathlib import Path

from rag.errors import RagError


def read_json(path: Path, missing: str, unreadable: str) -> object:
    """The JSON value in `path`. A missing file raises `RagError(missing)`; a file that cannot be read
    as JSON raises `RagError` with `unreadable` followed by the reason in brackets."""
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise RagError(missing) from None
    except (OSError, ValueError) as err:
        raise RagError(f"{unreadable} ({err}).") from None
