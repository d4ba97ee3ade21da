"""Where a training run stands, saved so that the same command resumes it in another session.

A checkpoint is one file, `checkpoint.pt` in the run's folder, replaced atomically (written beside
it, flushed to disk, then renamed), so a crash or a kill leaves the previous one whole. It holds
the model's, optimizer's and scheduler's states, torch's and numpy's global random states, and
`Progress`: the step, the epoch and how many of that epoch's batches are done, what was seen, the
seconds trained over all sessions and the learning curve so far. `run_folder` names a run by a
short hash of what decides its result, so other data or settings start a new folder.
`StopSignal` turns Ctrl-C or SIGTERM into a request the training loop honours between steps.
It does not decide when to save: the training loop does.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import os
import signal
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch

from rag.errors import RagError

CHECKPOINT = "checkpoint.pt"


@dataclass(frozen=True)
class Progress:
    step: int = 0
    epoch: int = 0
    position: int = 0  # batches of this epoch's order already trained on
    pairs_seen: int = 0
    tokens_seen: int = 0  # real tokens, padding left out
    padded_tokens_seen: int = 0
    seconds: float = 0.0  # training time over all sessions, learning-curve measurements left out
    curve_seconds: float = 0.0
    sessions: int = 0  # runs of the command that trained, the first included
    curve: list[dict] = field(default_factory=list)


def short_hash(key: dict) -> str:
    """The first 12 hex digits of the SHA-256 of `key` as sorted JSON."""
    return hashlib.sha256(json.dumps(key, sort_keys=True).encode()).hexdigest()[:12]


def run_folder(base: Path, key: dict) -> Path:
    """The folder of the run that `key` (its data and settings) describes, under `base`."""
    return base / short_hash(key)


def save_checkpoint(folder: Path, model, optimizer, scheduler, progress: Progress, key: dict) -> Path:
    """Writes `folder/checkpoint.pt` atomically; returns its path."""
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / CHECKPOINT
    state = {
        "key": key,
        "progress": dataclasses.asdict(progress),
        "model": model.state_dict(),
        "optimizer": optimizer.state_dict(),
        "scheduler": scheduler.state_dict(),
        "torch_rng": torch.get_rng_state(),
        "numpy_rng": _numpy_state(),
    }
    partial = path.with_name(path.name + ".partial")
    with open(partial, "wb") as f:
        torch.save(state, f)
        f.flush()
        os.fsync(f.fileno())
    partial.replace(path)
    return path


def load_checkpoint(folder: Path, model, optimizer, scheduler, key: dict) -> Progress | None:
    """Restores the states saved in `folder` into the given objects and returns the progress;
    None when the folder holds no checkpoint. Raises `RagError` when the checkpoint belongs to a
    run with another `key` (other data or settings)."""
    path = folder / CHECKPOINT
    if not path.is_file():
        return None
    state = torch.load(path, map_location="cpu", weights_only=True)
    if state["key"] != key:
        raise RagError(
            f"{path} was saved by a run with other data or settings; pass another --checkpoints folder "
            "(or none, for one named after this run's data and settings)."
        )
    model.load_state_dict(state["model"])
    optimizer.load_state_dict(state["optimizer"])
    scheduler.load_state_dict(state["scheduler"])
    torch.set_rng_state(state["torch_rng"])
    kind, keys, position, has_gauss, gauss = state["numpy_rng"]
    np.random.set_state((kind, np.array(keys, dtype=np.uint32), position, has_gauss, gauss))
    return Progress(**state["progress"])


def _numpy_state() -> list:
    # As plain numbers, so that `torch.load(weights_only=True)` accepts it.
    kind, keys, position, has_gauss, gauss = np.random.get_state()
    return [kind, keys.tolist(), int(position), int(has_gauss), float(gauss)]


class StopSignal:
    """Inside `with StopSignal() as stop:`, the first SIGINT or SIGTERM sets `stop.requested`
    instead of stopping the process; the previous handlers come back with it, so a second signal
    stops at once. The handlers are restored on leaving the block."""

    SIGNALS = (signal.SIGINT, signal.SIGTERM)

    def __init__(self) -> None:
        self.requested: str | None = None
        self._previous: dict[int, object] = {}

    def __enter__(self) -> StopSignal:
        self._previous = {s: signal.signal(s, self._handle) for s in self.SIGNALS}
        return self

    def __exit__(self, *exc) -> None:
        self._restore()

    def _handle(self, number: int, frame) -> None:
        self.requested = signal.Signals(number).name
        self._restore()

    def _restore(self) -> None:
        for number, handler in self._previous.items():
            signal.signal(number, handler)
        self._previous = {}
