"""The reader network, its three losses, and the training loop that checkpoints and resumes.

The network is all-MiniLM-L6-v2 with a score on [CLS] (a logit: does this sentence answer the
question?) and start/end logits over every token. Per batch the loss is:
- binary cross-entropy on each pair's score, so the score is a probability that can be thresholded;
- listwise: for each question, cross-entropy over its pairs' scores plus a null choice of fixed
  logit 0, the positive being the target of an answerable question and the null that of an
  unanswerable one, so "not found" is learned rather than left to a threshold alone;
- cross-entropy of the answer's first and last token among the sentence's tokens (positives only).
`fit` walks the epochs' batch orders (drawn from the seed and the epoch number, so none needs
saving), saves a checkpoint every few minutes, at the end and on Ctrl-C or SIGTERM, resumes from
the run folder's checkpoint, and measures the learning curve every `curve_every` steps.
It does not mine or tokenise pairs, export or choose thresholds.
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import torch
from torch.nn import functional

from eval.reader_batches import Collated, Tokenised, collate, token_batches
from eval.reader_checkpoint import CHECKPOINT, Progress, StopSignal, load_checkpoint, save_checkpoint
from rag.errors import RagError

if TYPE_CHECKING:
    from eval.train_reader import TrainSettings

#: Seconds between progress lines.
LOG_EVERY = 30.0
#: Sub-batches of similar length the model reads a batch in (see `forward`).
PIECES = 4


class ReaderNet(torch.nn.Module):
    """MiniLM with a score head on [CLS] and a start/end head on every token."""

    def __init__(self, base_dir: Path) -> None:
        from transformers import BertModel

        super().__init__()
        self.encoder = BertModel.from_pretrained(str(base_dir), add_pooling_layer=False)
        hidden = self.encoder.config.hidden_size
        self.score = torch.nn.Linear(hidden, 1)
        self.span = torch.nn.Linear(hidden, 2)

    def forward(self, input_ids, attention_mask, token_type_ids):
        states = self.encoder(
            input_ids=input_ids, attention_mask=attention_mask, token_type_ids=token_type_ids
        ).last_hidden_state
        span = self.span(states)
        return self.score(states[:, 0]).squeeze(-1), span[..., 0], span[..., 1]


class Interrupted(RagError):
    """Training stopped on a signal after saving a checkpoint."""

    exit_code = 130


def listwise_loss(score: torch.Tensor, group: torch.Tensor, label: torch.Tensor) -> torch.Tensor:
    """Mean over the questions in the batch (runs of equal `group`) of the cross-entropy over that
    question's scores and a null logit of 0: the target is the question's positive (label 1), or
    the null when it has none."""
    change = torch.nonzero(group[1:] != group[:-1]).flatten() + 1
    bounds = [0, *change.tolist(), len(group)]
    losses = []
    for first, end in zip(bounds[:-1], bounds[1:]):
        logits = torch.cat([score[first:end], score.new_zeros(1)])
        positive = torch.nonzero(label[first:end] == 1).flatten()
        target = int(positive[0]) if len(positive) else end - first
        losses.append(torch.logsumexp(logits, 0) - logits[target])
    return torch.stack(losses).mean()


def span_loss(
    start: torch.Tensor, end: torch.Tensor, sentence_mask: torch.Tensor, answer: torch.Tensor
) -> torch.Tensor | None:
    """Mean cross-entropy of the answer's first and last token among each positive's sentence
    tokens; None when no pair of the batch has an answer (`answer` row -1)."""
    rows = answer[:, 0] >= 0
    if not bool(rows.any()):
        return None
    outside = ~sentence_mask[rows]
    first = functional.cross_entropy(start[rows].masked_fill(outside, -1e4), answer[rows, 0])
    last = functional.cross_entropy(end[rows].masked_fill(outside, -1e4), answer[rows, 1])
    return (first + last) / 2


def forward(
    model, pairs: Tokenised, rows: np.ndarray
) -> tuple[Collated, torch.Tensor, torch.Tensor, torch.Tensor, int]:
    """(the batch of `rows`, score, start and end logits in the order of `rows`, padded tokens read).

    The model reads the batch as `PIECES` sub-batches of similar length, each padded to its own
    longest: a question's pairs must share a batch, but their sentences differ in length, and one
    padded tensor spent a quarter of its tokens on padding. Start and end logits are padded back
    to the batch's width with -1e4 (outside every sentence)."""
    batch = collate(pairs, rows)
    lengths = pairs.lengths[rows]
    order = np.argsort(lengths, kind="stable")
    outputs, padded = [], 0
    for part in np.array_split(order, min(PIECES, len(order))):
        width = int(lengths[part].max())
        inputs = (batch.input_ids, batch.attention_mask, batch.token_type_ids)
        score, start, end = model(*(torch.from_numpy(np.ascontiguousarray(a[part, :width])) for a in inputs))
        rest = (0, batch.input_ids.shape[1] - width)
        outputs.append((score, functional.pad(start, rest, value=-1e4), functional.pad(end, rest, value=-1e4)))
        padded += len(part) * width
    back = torch.from_numpy(np.argsort(order))
    score, start, end = (torch.cat(parts)[back] for parts in zip(*outputs))
    return batch, score, start, end, padded


def _losses(
    model, pairs: Tokenised, rows: np.ndarray, settings: TrainSettings
) -> tuple[torch.Tensor, dict[str, float], Collated, int]:
    batch, score, start, end, padded = forward(model, pairs, rows)
    label = torch.from_numpy(batch.label)
    parts = {
        "score": functional.binary_cross_entropy_with_logits(score, label),
        "rank": listwise_loss(score, torch.from_numpy(batch.group), label),
    }
    span = span_loss(start, end, torch.from_numpy(batch.sentence_mask), torch.from_numpy(batch.answer))
    loss = parts["score"] + settings.listwise_weight * parts["rank"]
    if span is not None:
        parts["span"] = span
        loss = loss + settings.span_weight * span
    return loss, {name: float(value.detach()) for name, value in parts.items()}, batch, padded


def _optimizer(model, settings: TrainSettings, total_steps: int):
    """AdamW (no decay on biases and layer norms) and linear warm-up then linear decay to 0."""
    named = list(model.named_parameters())
    plain = [p for n, p in named if "bias" in n or "LayerNorm" in n]
    decayed = [p for n, p in named if not ("bias" in n or "LayerNorm" in n)]
    optimizer = torch.optim.AdamW(
        [{"params": decayed, "weight_decay": settings.weight_decay}, {"params": plain, "weight_decay": 0.0}],
        lr=settings.learning_rate,
    )
    scheduler = torch.optim.lr_scheduler.LambdaLR(optimizer, lambda s: learning_rate_share(s, settings, total_steps))
    return optimizer, scheduler


def learning_rate_share(step: int, settings: TrainSettings, total_steps: int) -> float:
    """The share of the peak learning rate at `step`: linear warm-up, then linear decay to 0 at
    `total_steps` (the full schedule's length), cut short when `settings.end_at` is set."""
    warmup = max(1, int(total_steps * settings.warmup_share))
    share = min((step + 1) / warmup, max(0.0, (total_steps - step) / max(1, total_steps - warmup)))
    if settings.end_at is None or step < settings.decay_from:
        return share
    return share * max(0.0, (settings.end_at - step) / (settings.end_at - settings.decay_from))


def epoch_order(pairs: Tokenised, settings: TrainSettings, epoch: int) -> list[np.ndarray]:
    """The batches of `epoch`, in their order: the same for the same seed and epoch."""
    return token_batches(
        pairs.lengths, pairs.group, settings.token_budget, np.random.default_rng([settings.seed, epoch])
    )


class _Window:
    """Losses, counts and training seconds (learning-curve points left out) since the last progress line."""

    def __init__(self) -> None:
        self.started = time.monotonic()
        self.sums: dict[str, float] = {}
        self.counts: dict[str, int] = {}
        self.pairs = self.tokens = self.padded = self.steps = 0
        self.seconds = 0.0

    def add(self, losses: dict[str, float], batch: Collated, padded: int, seconds: float) -> None:
        for name, value in losses.items():
            self.sums[name] = self.sums.get(name, 0.0) + value
            self.counts[name] = self.counts.get(name, 0) + 1
        self.pairs += len(batch.label)
        self.tokens += int(batch.attention_mask.sum())
        self.padded += padded
        self.steps += 1
        self.seconds += seconds

    def line(self, progress: Progress, total: int) -> str:
        seconds = max(self.seconds, 1e-9)
        losses = "  ".join(
            f"{n} loss {self.sums[n] / self.counts[n]:.4f}" for n in ("score", "rank", "span") if n in self.sums
        )
        eta = (total - progress.step) * seconds / max(1, self.steps) / 3600
        return (
            f"step {progress.step}/{total} (epoch {progress.epoch + 1})  {losses}  {self.pairs / seconds:.1f} pairs/s  "
            f"{self.tokens / seconds:.0f} tokens/s ({1 - self.tokens / max(1, self.padded):.1%} padding)  ETA {eta:.2f} h"
        )


def fit(
    model,
    pairs: Tokenised,
    settings: TrainSettings,
    folder: Path,
    key: dict,
    log: Callable[[str], None],
    curve: Callable[[], dict] | None = None,
) -> Progress:
    """Trains `model` on `pairs` for `settings.epochs`, resuming from `folder`'s checkpoint when it
    has one; returns the progress at the end. Raises `Interrupted` after saving when a signal
    asked to stop."""
    torch.manual_seed(settings.seed)
    full = max(1, int(len(epoch_order(pairs, settings, 0)) * settings.epochs))
    optimizer, scheduler = _optimizer(model, settings, full)
    total = full if settings.end_at is None else min(full, settings.end_at)
    progress = load_checkpoint(folder, model, optimizer, scheduler, key)
    if progress is None:
        progress = Progress()
        log(f"training from the start: {total} steps; checkpoints in {folder}")
    else:
        log(
            f"resuming from {folder / CHECKPOINT}: step {progress.step}/{total}, epoch {progress.epoch + 1}, "
            f"{progress.seconds / 3600:.2f} h trained over {progress.sessions} earlier session(s)"
        )
    if progress.step >= total:
        log("training had finished; nothing to resume")
        return progress
    progress = dataclasses.replace(progress, sessions=progress.sessions + 1)
    model.train()

    def save(progress: Progress) -> None:
        save_checkpoint(folder, model, optimizer, scheduler, progress, key)

    with StopSignal() as stop:
        progress = _loop(model, optimizer, scheduler, pairs, settings, progress, total, stop, save, log, curve)
    if curve is not None and (not progress.curve or progress.curve[-1]["step"] != progress.step):
        progress = _curve_point(progress, curve, log)
    save(progress)
    model.eval()
    return progress


def _loop(model, optimizer, scheduler, pairs, settings, progress, total, stop, save, log, curve) -> Progress:
    last_save = time.monotonic()
    window = _Window()
    while progress.step < total:
        batches = epoch_order(pairs, settings, progress.epoch)
        for position in range(progress.position, len(batches)):
            began = time.monotonic()
            loss, losses, batch, padded = _losses(model, pairs, batches[position], settings)
            loss.backward()
            torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
            optimizer.step()
            scheduler.step()
            optimizer.zero_grad()
            spent = time.monotonic() - began
            window.add(losses, batch, padded, spent)
            progress = dataclasses.replace(
                progress,
                step=progress.step + 1,
                position=position + 1,
                pairs_seen=progress.pairs_seen + len(batch.label),
                tokens_seen=progress.tokens_seen + int(batch.attention_mask.sum()),
                padded_tokens_seen=progress.padded_tokens_seen + padded,
                seconds=progress.seconds + spent,
            )
            if time.monotonic() - window.started >= LOG_EVERY or progress.step == total:
                log(window.line(progress, total))
                window = _Window()
            if curve is not None and progress.step % settings.curve_every == 0:
                progress = _curve_point(progress, curve, log)
                model.train()
            if stop.requested or time.monotonic() - last_save >= settings.checkpoint_minutes * 60:
                save(progress)
                last_save = time.monotonic()
                log(f"checkpoint saved at step {progress.step}")
            if stop.requested:
                raise Interrupted(
                    f"stopped by {stop.requested} at step {progress.step}/{total}; the checkpoint is saved: "
                    "run the same command again to resume."
                )
            if progress.step >= total:
                break
        else:
            progress = dataclasses.replace(progress, epoch=progress.epoch + 1, position=0)
    return progress


def _curve_point(progress: Progress, curve: Callable[[], dict], log: Callable[[str], None]) -> Progress:
    began = time.monotonic()
    point = {"step": progress.step, "pairs_seen": progress.pairs_seen, **curve()}
    log(f"learning curve: {point}")
    return dataclasses.replace(
        progress,
        curve=[*progress.curve, point],
        curve_seconds=progress.curve_seconds + time.monotonic() - began,
    )
