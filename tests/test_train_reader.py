"""The pure parts of reader training: reading unanswerables, placing them, mining, batching,
the losses, and saving and resuming a run, on tiny real data and a tiny real torch model."""

from __future__ import annotations

import dataclasses
import gzip
import json
import os
import signal
from pathlib import Path

import numpy as np
import pytest
import torch

from eval.reader_batches import Tokenised, collate, token_batches, tokenise
from eval.reader_checkpoint import CHECKPOINT, Progress, load_checkpoint, run_folder, save_checkpoint
from eval.reader_corpus import Corpus, choose_articles, load_corpus, place_unanswerables
from eval.reader_data import Example, Unanswerable, read_articles, read_unanswerables
from eval.reader_fit import Interrupted, fit, forward, learning_rate_share, listwise_loss, span_loss
from eval.reader_mining import Pool, nearest_elsewhere
from eval.train_reader import TrainSettings
from rag.errors import RagError
from rag.reader_input import Pair, encode, load_tokenizer

PARAGRAPH = "The river  flows north.\nIt reaches the sea at Rotterdam."


def squad_layout() -> dict:
    qas = [
        {
            "id": "a1",
            "question": "Where does it reach the sea?",
            "answers": [{"text": "Rotterdam", "answer_start": 46}],
        },
        {"id": "u1", "question": " Where does it rise? ", "answers": [], "is_impossible": True},
    ]
    return {"version": "v2.0", "data": [{"title": "Rhine", "paragraphs": [{"context": PARAGRAPH, "qas": qas}]}]}


def flat_layout() -> dict:
    rows = [
        {"title": "Rhine", "context": PARAGRAPH, "question": "Where does it rise?", "answers": [], "id": "b1"},
        {"title": "Rhine", "context": PARAGRAPH, "question": "How long is it?", "answers": [], "id": "b2"},
    ]
    return {"version": "v2.0-impossible-only", "data": rows}


@pytest.mark.parametrize(
    ("name", "content", "ids"),
    [
        ("dev.json", squad_layout(), ["u1"]),
        ("flat.json.gz", flat_layout(), ["b1", "b2"]),
        ("squad.json.gz", squad_layout(), ["u1"]),
    ],
)
def test_read_unanswerables_tells_the_layouts_apart(tmp_path: Path, name: str, content: dict, ids: list[str]) -> None:
    path = tmp_path / name
    raw = json.dumps(content).encode()
    path.write_bytes(gzip.compress(raw) if name.endswith(".gz") else raw)
    found = read_unanswerables(path)
    assert [u.qid for u in found] == ids
    assert all(u.title == "Rhine" and u.context == " ".join(PARAGRAPH.split()) for u in found)
    assert found[0].question == "Where does it rise?"


@pytest.mark.parametrize(
    "content", [{"data": []}, {"data": [{"title": "x"}]}, {"data": [{"title": "x", "paragraphs": [{}]}]}, []]
)
def test_read_unanswerables_names_a_file_it_cannot_read(tmp_path: Path, content) -> None:
    path = tmp_path / "bad.json"
    path.write_text(json.dumps(content))
    with pytest.raises(RagError, match="bad.json"):
        read_unanswerables(path)


def tiny_squad() -> list[dict]:
    def article(title: str, text: str) -> dict:
        return {"title": title, "paragraphs": [{"context": text, "qas": []}]}

    return [
        article("Fit", "Fitting text here. More of it."),
        article("Val", "Validation text here. More of it."),
        article("Held", "Held-out text here. More of it."),
        article("Unread", "An article this run did not choose."),
    ]


def test_place_unanswerables_keeps_held_out_and_validation_articles_out_of_fitting() -> None:
    squad = tiny_squad()
    corpus = Corpus(squad, read_articles(squad), dev_train=[0, 1], fit=[0], val=[1], held=[2], train_set=[])
    questions = [
        Unanswerable("f", "Fit", "Fitting text here. More of it.", "q"),
        Unanswerable("v", "Val", "Validation text here. More of it.", "q"),
        Unanswerable("h", "Held", "Held-out text here. More of it.", "q"),
        Unanswerable("x", "Fit", "A paragraph that is not there.", "q"),
        Unanswerable("n", "Unread", "An article this run did not choose.", "q"),
    ]
    placed = place_unanswerables(corpus, questions, None, 0)
    assert [(u.qid, a, p) for u, a, p in placed.fitting] == [("f", 0, 0)]
    assert [u.qid for u, _, _ in placed.validation] == ["v"]
    assert (placed.held_out, placed.elsewhere) == (1, 2)


@pytest.mark.parametrize(
    ("with_unanswerables", "expected"),
    [
        (frozenset({"A3", "A5", "Held"}), {"A3", "A5"}),  # the two train articles that have them
        (frozenset({"A3"}), None),  # too few: drawn among all train articles
        (frozenset(), None),
    ],
)
def test_the_validation_slice_is_drawn_among_articles_with_unanswerables(
    tmp_path: Path, with_unanswerables: frozenset[str], expected: set[str] | None
) -> None:
    titles = [f"A{i}" for i in range(8)]
    squad = {"data": [{"title": t, "paragraphs": [{"context": f"{t} text.", "qas": []}]} for t in [*titles, "Held"]]}
    (tmp_path / "dev.json").write_text(json.dumps(squad))
    (tmp_path / "split.json").write_text(json.dumps({"train": titles, "held_out": ["Held"]}))
    settings = TrainSettings(val_articles=2)
    corpus = load_corpus(tmp_path / "dev.json", tmp_path / "split.json", None, settings, with_unanswerables)
    chosen = corpus.titles(corpus.val)
    assert len(chosen) == 2 and "Held" not in chosen and not chosen & corpus.titles(corpus.fit)
    if expected is not None:
        assert chosen == expected


@pytest.mark.parametrize(("wanted", "articles"), [(None, 3), (1, 1), (2, 1), (3, 2), (99, 3)])
def test_choose_articles_takes_whole_articles_until_enough_questions(wanted, articles: int) -> None:
    raw = [{"title": t, "paragraphs": [{"context": "x", "qas": [{}, {}]}]} for t in "abc"]
    chosen = choose_articles(raw, wanted, seed=0)
    assert len(chosen) == articles and len({a["title"] for a in chosen}) == articles


def test_nearest_elsewhere_leaves_out_the_own_article() -> None:
    squad = tiny_squad()[:3]
    articles = read_articles(squad)
    vectors = np.eye(6, dtype=np.float32)  # two sentences per article, each its own direction
    pool = Pool.of(articles, [0, 1, 2], lambda texts: vectors[: len(texts)])
    question = np.array([[0.9, 0.8, 0.1, 0.7, 0.0, 0.2]], dtype=np.float32)
    assert nearest_elsewhere(pool, question, [0], k=3).tolist() == [[3, 5, 2]]
    assert nearest_elsewhere(pool, question, [1], k=6).tolist() == [[0, 1, 5, 4, -1, -1]]


@pytest.mark.parametrize(
    ("scores", "groups", "labels", "expected"),
    [
        # an answerable question: its positive against its other pair and the null logit 0
        ([2.0, 0.0], [0, 0], [1, 0], np.log(np.exp(2) + 2) - 2),
        # an unanswerable question: the null is the target
        ([1.0, -1.0], [0, 0], [0, 0], np.log(np.e + np.exp(-1) + 1)),
        # a single pair of each kind, together: the mean of the two
        ([0.0, 0.0], [0, 1], [1, 0], np.log(2)),
    ],
)
def test_listwise_loss_adds_a_null_choice(scores, groups, labels, expected: float) -> None:
    loss = listwise_loss(torch.tensor(scores), torch.tensor(groups), torch.tensor(labels, dtype=torch.float32))
    assert float(loss) == pytest.approx(expected, abs=1e-6)


def test_listwise_loss_pushes_unanswerable_scores_down_and_positives_up() -> None:
    score = torch.tensor([0.5, 0.5, 0.5, 0.5], requires_grad=True)
    listwise_loss(score, torch.tensor([0, 0, 1, 1]), torch.tensor([1.0, 0.0, 0.0, 0.0])).backward()
    assert score.grad[0] < 0 < score.grad[1] and score.grad[2] > 0 and score.grad[3] > 0


def test_span_loss_only_counts_pairs_with_an_answer() -> None:
    logits = torch.zeros(2, 4)
    mask = torch.tensor([[False, True, True, False]] * 2)
    assert span_loss(logits, logits, mask, torch.tensor([[-1, -1], [-1, -1]])) is None
    loss = span_loss(logits, logits, mask, torch.tensor([[1, 2], [-1, -1]]))
    assert float(loss) == pytest.approx(np.log(2), abs=1e-4)  # two sentence tokens, equally likely


def groups_of(sizes: list[int], lengths: list[list[int]]) -> tuple[np.ndarray, np.ndarray]:
    group = np.repeat(np.arange(len(sizes)), sizes)
    return np.concatenate(lengths).astype(np.int64), group


def random_groups(seed: int, count: int = 2000) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    sizes = rng.integers(1, 8, count)
    base = rng.integers(15, 110, count)  # a question's pairs share its question, so lengths cluster
    return groups_of(list(sizes), [b + rng.integers(0, 12, s) for b, s in zip(base, sizes)])


@pytest.mark.parametrize(("seed", "budget"), [(0, 512), (1, 2048), (2, 4096), (3, 300)])
def test_token_batches_keep_questions_whole_within_the_budget(seed: int, budget: int) -> None:
    lengths, group = random_groups(seed)
    batches = token_batches(lengths, group, budget, np.random.default_rng(seed))
    rows = np.concatenate(batches)
    assert sorted(rows.tolist()) == list(range(len(group)))
    batch_of = np.empty(len(group), dtype=np.int64)
    for i, b in enumerate(batches):
        batch_of[b] = i
        whole_groups = len(np.unique(group[b])) == 1
        assert len(b) * lengths[b].max() <= budget or whole_groups
    for g in np.unique(group):
        assert len(np.unique(batch_of[group == g])) == 1
    padded = sum(len(b) * int(lengths[b].max()) for b in batches)
    # A question's pairs share its question but not their sentence, so each question pads its own
    # pairs to its longest (`inside`); putting questions of similar length together adds little.
    inside = sum(int(lengths[group == g].max()) * int((group == g).sum()) for g in np.unique(group))
    assert (padded - inside) / lengths.sum() < 0.05


def test_token_batches_without_rng_are_sorted_and_repeatable() -> None:
    lengths, group = random_groups(5, 50)
    first = token_batches(lengths, group, 1024, None)
    assert [b.tolist() for b in first] == [b.tolist() for b in token_batches(lengths, group, 1024, None)]
    widths = [int(lengths[b].max()) for b in first]
    assert widths == sorted(widths)


@pytest.fixture(scope="module")
def tokenizer():
    from rag.embedding import bundled_model_dir

    return load_tokenizer(str(bundled_model_dir() / "tokenizer.json"))


def test_tokenised_pairs_collate_as_encode_lays_them_out(tokenizer) -> None:
    sentence = "The delegation was led by Vladimir Medinsky, an adviser."
    start = sentence.index("Vladimir Medinsky")
    examples = [
        Example(Pair("Who led it?", sentence, "Talks", "Russia sent a team."), 1, (start, start + 17), "q1"),
        Example(Pair("Who led it?", "The talks begin on Friday.", "Talks", ""), 0, None, "q1"),
        Example(Pair("Where are the talks?", "In Istanbul.", "Talks", ""), 0, None, "q2"),
    ]
    pairs = tokenise(tokenizer, examples)
    assert pairs.group.tolist() == [0, 0, 1] and pairs.label.tolist() == [1, 0, 0]
    batch = collate(pairs, np.arange(3))
    expected = encode(tokenizer, [e.pair for e in examples])
    assert np.array_equal(batch.input_ids, expected.input_ids)
    assert np.array_equal(batch.attention_mask, expected.attention_mask)
    assert np.array_equal(batch.token_type_ids, expected.token_type_ids)
    first, last = pairs.answer[0]
    assert tokenizer.decode(batch.input_ids[0, first : last + 1].tolist()) == "vladimir medinsky"
    assert batch.sentence_mask[0].sum() == expected.sentence_length[0]
    assert pairs.answer[1].tolist() == [-1, -1]


class TinyNet(torch.nn.Module):
    """The reader's forward signature on a model small enough to train in milliseconds."""

    def __init__(self) -> None:
        super().__init__()
        self.embed = torch.nn.Embedding(50, 8)
        self.score = torch.nn.Linear(8, 1)
        self.span = torch.nn.Linear(8, 2)

    def forward(self, input_ids, attention_mask, token_type_ids):
        states = self.embed(input_ids) * attention_mask[..., None]
        span = self.span(states)
        return self.score(states.sum(1)).squeeze(-1), span[..., 0], span[..., 1]


def tiny_pairs(questions: int = 24) -> Tokenised:
    rng = np.random.default_rng(0)
    ids, lengths, labels, groups, answers = [], [], [], [], []
    for q in range(questions):
        for pair in range(3):
            length = int(rng.integers(6, 14))
            ids.append(rng.integers(1, 50, length))
            lengths.append(length)
            positive = pair == 0 and q % 4 != 0  # every fourth question is unanswerable
            labels.append(int(positive))
            groups.append(q)
            answers.append((3, 4) if positive else (-1, -1))
    return Tokenised(
        ids=np.concatenate(ids).astype(np.uint16),
        offsets=np.concatenate([[0], np.cumsum(lengths)]).astype(np.int64),
        sentence_start=np.full(len(lengths), 2, dtype=np.int16),
        sentence_length=np.full(len(lengths), 4, dtype=np.int16),
        answer=np.array(answers, dtype=np.int16),
        label=np.array(labels, dtype=np.int8),
        group=np.array(groups, dtype=np.int32),
    )


def test_forward_in_pieces_reads_as_one_padded_batch() -> None:
    torch.manual_seed(0)
    model, pairs = TinyNet(), tiny_pairs(5)
    rows = np.arange(3, 15)
    batch, score, start, end, padded = forward(model, pairs, rows)
    whole = model(*(torch.from_numpy(a) for a in (batch.input_ids, batch.attention_mask, batch.token_type_ids)))
    inside = torch.from_numpy(batch.sentence_mask)
    assert torch.allclose(score, whole[0], atol=1e-5)
    assert torch.allclose(start[inside], whole[1][inside], atol=1e-5)
    assert torch.allclose(end[inside], whole[2][inside], atol=1e-5)
    assert pairs.lengths[rows].sum() <= padded < batch.input_ids.size


def test_checkpoint_round_trip_restores_every_state(tmp_path: Path) -> None:
    torch.manual_seed(0)
    model = TinyNet()
    optimizer = torch.optim.AdamW(model.parameters(), lr=0.1)
    scheduler = torch.optim.lr_scheduler.LambdaLR(optimizer, lambda s: 1 / (s + 1))
    model(torch.ones(2, 3, dtype=torch.long), torch.ones(2, 3), torch.zeros(2, 3))[0].sum().backward()
    optimizer.step()
    scheduler.step()
    progress = Progress(step=1, position=1, pairs_seen=2, seconds=1.5, sessions=1, curve=[{"step": 1, "x": 0.5}])
    np.random.seed(7)
    save_checkpoint(tmp_path, model, optimizer, scheduler, progress, {"run": 1})
    assert [p.name for p in tmp_path.iterdir()] == [CHECKPOINT]  # no partial file left behind
    expected_torch, expected_numpy = torch.rand(3), np.random.rand(3)

    other = TinyNet()
    other_optimizer = torch.optim.AdamW(other.parameters(), lr=0.1)
    other_scheduler = torch.optim.lr_scheduler.LambdaLR(other_optimizer, lambda s: 1 / (s + 1))
    assert load_checkpoint(tmp_path, other, other_optimizer, other_scheduler, {"run": 1}) == progress
    assert all(torch.equal(a, b) for a, b in zip(model.state_dict().values(), other.state_dict().values()))
    assert other_scheduler.last_epoch == 1 and other_optimizer.state_dict()["state"][0]["step"] == 1
    assert torch.equal(torch.rand(3), expected_torch) and np.array_equal(np.random.rand(3), expected_numpy)
    with pytest.raises(RagError, match="other data or settings"):
        load_checkpoint(tmp_path, other, other_optimizer, other_scheduler, {"run": 2})
    assert load_checkpoint(tmp_path / "empty", other, other_optimizer, other_scheduler, {"run": 1}) is None


def test_run_folder_changes_with_any_setting(tmp_path: Path) -> None:
    first = run_folder(tmp_path, {"data": {"a": "1"}, "settings": {"epochs": 1.0}})
    assert first == run_folder(tmp_path, {"settings": {"epochs": 1.0}, "data": {"a": "1"}})
    assert first != run_folder(tmp_path, {"data": {"a": "1"}, "settings": {"epochs": 2.0}})


def interrupt_once():
    """A learning-curve callback that sends SIGINT the first time it is called, as Ctrl-C would in
    the middle of training."""
    calls = []

    def curve() -> dict:
        calls.append(1)
        if len(calls) == 1:
            os.kill(os.getpid(), signal.SIGINT)
        return {}

    return curve


def test_an_interrupted_run_resumes_to_the_same_weights(tmp_path: Path) -> None:
    settings = TrainSettings(epochs=2.0, token_budget=120, curve_every=3, learning_rate=0.01, warmup_share=0.1)
    pairs = tiny_pairs()
    torch.manual_seed(1)
    start = TinyNet().state_dict()
    straight = TinyNet()
    straight.load_state_dict(start)
    done = fit(straight, pairs, settings, tmp_path / "straight", {"k": 1}, lambda _: None, lambda: {})

    stop_at_first_point = interrupt_once()
    interrupted = TinyNet()
    interrupted.load_state_dict(start)
    with pytest.raises(Interrupted):
        fit(interrupted, pairs, settings, tmp_path / "resumed", {"k": 1}, lambda _: None, stop_at_first_point)
    resumed = TinyNet()
    lines: list[str] = []
    again = fit(resumed, pairs, settings, tmp_path / "resumed", {"k": 1}, lines.append, stop_at_first_point)
    assert any(line.startswith("resuming from") and "step 3/" in line for line in lines)
    assert again.step == done.step and again.pairs_seen == done.pairs_seen and again.sessions == 2
    assert [p["step"] for p in again.curve] == [p["step"] for p in done.curve]
    assert all(torch.equal(a, b) for a, b in zip(straight.state_dict().values(), resumed.state_dict().values()))
    assert not all(torch.equal(a, b) for a, b in zip(start.values(), resumed.state_dict().values()))


@pytest.mark.parametrize(
    ("step", "decay_from", "end_at", "expected"),
    [
        # The full schedule over 100 steps: 10 of warm-up, then linear decay to 0 at step 100.
        (0, None, None, 0.1),
        (9, None, None, 1.0),
        (55, None, None, 0.5),
        (100, None, None, 0.0),
        # Cut short: the full schedule until step 50, then down to 0 at step 70.
        (40, 50, 70, 60 / 90),
        (50, 50, 70, 50 / 90),
        (60, 50, 70, 40 / 90 * 0.5),
        (70, 50, 70, 0.0),
        (80, 50, 70, 0.0),
    ],
)
def test_learning_rate_share_follows_the_full_or_the_shortened_schedule(step, decay_from, end_at, expected) -> None:
    settings = TrainSettings(warmup_share=0.1, decay_from=decay_from, end_at=end_at)
    assert learning_rate_share(step, settings, 100) == pytest.approx(expected)


def test_a_run_cut_short_stops_at_its_end_step_and_resumes_from_the_same_folder(tmp_path: Path) -> None:
    full = TrainSettings(epochs=2.0, token_budget=120, curve_every=100, learning_rate=0.01, warmup_share=0.1)
    pairs = tiny_pairs()
    with pytest.raises(Interrupted):
        fit(
            TinyNet(),
            pairs,
            dataclasses.replace(full, curve_every=2),
            tmp_path,
            {"k": 1},
            lambda _: None,
            interrupt_once(),
        )
    cut = dataclasses.replace(full, decay_from=2, end_at=5)
    lines: list[str] = []
    done = fit(TinyNet(), pairs, cut, tmp_path, {"k": 1}, lines.append, None)
    assert any(line.startswith("resuming from") and "step 2/5" in line for line in lines)
    assert done.step == 5


def judged(probability: float, right: bool = False):
    from eval.reader_measure import Judged

    return Judged(probability, right, 0.0, 0.0, 0.0, right)


@pytest.mark.parametrize(
    ("unanswerable", "expected"),
    [
        # Right sentences at 0.9 and 0.6, a wrong one at 0.5, an out-of-corpus question at 0.3: the
        # lowest threshold with 85% of answers right and the out-of-corpus question abstained is 0.51.
        (None, 0.51),
        # 70% of unanswerable questions abstained: past both of them.
        ([0.55, 0.7], 0.71),
        ([0.2, 0.3, 0.45], 0.51),
        # None meets all three (0.95 could only be abstained with nothing answered): the best sum of
        # answer accuracy and the abstain recalls, the lowest of its ties (0.31 to 0.60).
        ([0.95, 0.2], 0.31),
    ],
)
def test_the_abstain_threshold_is_the_lowest_that_meets_the_validation_targets(unanswerable, expected: float) -> None:
    from eval.reader_measure import choose_threshold, figures

    in_corpus = [judged(0.9, True), judged(0.6, True), judged(0.5)]
    out_of_corpus = [judged(0.3)]
    extra = [judged(p) for p in unanswerable] if unanswerable else None
    threshold = choose_threshold(in_corpus, out_of_corpus, extra)
    assert threshold == pytest.approx(expected)
    shown = figures(in_corpus, out_of_corpus, threshold, 0.5, extra)
    answered = [j for j in in_corpus if j.probability >= threshold]
    assert shown["answered_right"] == pytest.approx(sum(j.sentence_right for j in answered) / len(answered), abs=1e-4)
    assert shown["questions_unanswerable"] == len(unanswerable or [])
    if unanswerable:
        expected_recall = sum(p < threshold for p in unanswerable) / len(unanswerable)
        assert shown["abstain_recall_unanswerable"] == pytest.approx(expected_recall, abs=1e-4)


@pytest.mark.parametrize(
    ("spans", "threshold", "given", "of_answered"),
    [
        ([0.9, 0.1, 0.8], 0.5, 2 / 3, 2 / 3),
        ([0.9, 0.1, 0.8], 0.95, 0.0, 0.0),
        ([0.9, 0.1, 0.8], 0.0, 1.0, 1.0),
    ],
)
def test_short_answer_shares_count_all_and_answered_questions(spans, threshold, given, of_answered) -> None:
    from eval.reader_measure import Judged, figures

    answered = [Judged(0.9, True, s, 1.0, 1.0, True) for s in spans]
    shown = figures([*answered, Judged(0.1, False, 0.99, 0.0, 0.0, False)], [], 0.5, threshold)
    assert shown["short_answers_of_answered"] == pytest.approx(of_answered, abs=1e-4)
    assert shown["short_answers_given"] == pytest.approx(given * 3 / 4, abs=1e-4)


def short(probability: float, span: float, right: bool):
    from eval.reader_measure import Judged

    return Judged(probability, right, span, float(right), float(right), right)


@pytest.mark.parametrize(
    ("precision", "expected"),
    [
        # A sure span in an unsure sentence (0.55, span 0.9) is the wrong one: the span alone never
        # reaches 85% right; weighting the sentence by its probability cubed shows three of four
        # (0.55³ × 0.9 = 0.150 stays under 0.15; higher exponents show as many: the smallest wins).
        (0.85, (3.0, 0.15)),
        # Any 3 right of 4 will do: the span alone, shown for all.
        (0.5, (0.0, 0.0)),
        # Never reachable: the first exponent, and a threshold nothing meets.
        (1.01, (0.0, 1.0)),
    ],
)
def test_the_short_answer_rule_shows_the_most_short_answers_at_the_precision(precision, expected) -> None:
    from eval.reader_measure import choose_short_answer_rule, figures

    in_corpus = [short(0.95, 0.6, True), short(0.95, 0.5, True), short(0.55, 0.9, False), short(0.9, 0.3, True)]
    in_corpus.append(short(0.2, 0.99, False))  # below the abstain threshold: never shown
    exponent, threshold = choose_short_answer_rule(in_corpus, 0.5, precision)
    assert (exponent, threshold) == pytest.approx(expected)
    shown = figures(in_corpus, [], 0.5, threshold, span_exponent=exponent)
    assert shown["short_answer_exponent"] == exponent
    if precision <= 1:
        assert shown["short_answers_right"] >= precision


def test_judgments_are_kept_per_graph_settings_and_questions(tmp_path: Path) -> None:
    from eval.reader_measure import judgments_key, read_judgments, write_judgments

    graph = tmp_path / "reader.onnx"
    graph.write_bytes(b"graph one")
    asked = [Pair("Who?", "", "", ""), Pair("Where?", "", "", "")]
    key = judgments_key(graph, "k=5", asked, [])
    store = tmp_path / "judged.json"
    assert read_judgments(store, key) is None
    made = ([judged(0.7, True), judged(0.2)], [])
    write_judgments(store, key, made)
    assert read_judgments(store, key) == made
    assert judgments_key(graph, "k=5", list(reversed(asked)), []) != key
    assert judgments_key(graph, "k=3", asked, []) != key
    graph.write_bytes(b"graph two")
    assert judgments_key(graph, "k=5", asked, []) != key
    store.write_text("{not json")
    assert read_judgments(store, key) is None


@pytest.mark.parametrize(
    ("change", "same"),
    [
        ({"abstain_threshold": 0.3}, True),
        ({"short_answer_threshold": 0.1, "short_answer_exponent": 4.0}, True),
        ({"rerank_depth": 3}, False),
        ({"k": 7}, False),
    ],
)
def test_judgments_depend_on_the_pipeline_not_on_the_thresholds(change: dict, same: bool) -> None:
    from eval.reader_measure import judged_settings
    from rag.settings import Settings

    base = Settings()
    assert (judged_settings(dataclasses.replace(base, **change)) == judged_settings(base)) is same
