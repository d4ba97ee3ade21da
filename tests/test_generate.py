"""The llama.cpp answerer on a tiny random GGUF (real llama-cpp-python) over the seed article.

The tiny model writes printable gibberish, so these tests check structure, never answer quality:
tokens stream, strict output always carries valid markers, prompts stay within budget, the
model loads once, and the refusal and error paths behave.
"""

from __future__ import annotations

import re
from dataclasses import replace
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from tiny_gguf import write_tiny_gguf

from rag import generate
from rag.errors import RagError
from rag.generate import ChatTemplate, LlamaAnswerer, build_prompt, load_llama, strict_grammar
from rag.pipeline import Pipeline, make_answerer
from rag.prompts import ELLIPSIS, NOT_FOUND
from rag.records import Answer, Passage

QUESTION = "Who led Russia's delegation?"
# What strict output must look like, checked without rag.citations: sentences ending in "[n(, n)*]".
SENTENCE = r"[^\[\]\n]+[.!?][\"”’)]? \[(\d+(?:, \d+)*)\]"
STRICT_OUTPUT = re.compile(rf"{SENTENCE}(?: {SENTENCE})*")


@pytest.fixture(scope="module")
def models(tmp_path_factory: pytest.TempPathFactory) -> dict[int, Path]:
    folder = tmp_path_factory.mktemp("models")
    return {seed: write_tiny_gguf(folder / f"tiny{seed}.gguf", seed=seed) for seed in range(4)}


@pytest.fixture(scope="module")
def pipeline(seed_pipeline: Pipeline) -> Pipeline:
    return seed_pipeline


@pytest.fixture(scope="module")
def answerer(pipeline: Pipeline, models: dict[int, Path]) -> LlamaAnswerer:
    # One thread: the suite shares two cores, and llama.cpp slows badly when threads contend.
    return make_answerer(replace(pipeline.settings, model_path=models[0], n_threads=1), pipeline)


@pytest.fixture(scope="module")
def article(seed_pipeline: Pipeline) -> str:
    return (seed_pipeline.settings.docs_dir / "000_681fe9c43916d851.txt").read_text(encoding="utf-8")


def test_stream_yields_tokens_then_the_answer(pipeline: Pipeline, answerer: LlamaAnswerer) -> None:
    events = list(pipeline.stream(QUESTION, answerer))
    pieces, answer = events[:-1], events[-1]
    assert isinstance(answer, Answer)
    assert answer.answerer == "llama.cpp:tiny0.gguf"
    assert len(pieces) > 10 and all(isinstance(p, str) and p for p in pieces)
    assert {"first_token", "generate", "check", "search", "total"} <= set(answer.timings_ms)


def test_without_strict_random_text_is_cited_and_flagged(pipeline: Pipeline, answerer, article: str) -> None:
    """The tiny model writes no markers: each sentence gets its best passage, marked unsupported."""
    answer = pipeline.ask(QUESTION, answerer)
    assert not answer.abstained and answer.citations
    assert all(c.supported is False for c in answer.citations)
    assert all(claim.labels and claim.supported is False for claim in answer.claims)
    for c in answer.citations:
        assert article[c.start : c.end] == c.quote


@settings(max_examples=6, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(seed=st.integers(0, 3), temperature=st.sampled_from([0.0, 0.5, 1.0, 2.0]), k=st.integers(1, 5))
def test_strict_output_always_parses_to_valid_citations(
    pipeline: Pipeline, models: dict[int, Path], article: str, seed: int, temperature: float, k: int
) -> None:
    settings_ = replace(pipeline.settings, model_path=models[seed], temperature=temperature, strict=True, k=k)
    answerer = LlamaAnswerer(settings_, pipeline.embedder, pipeline.term_stats)
    passages = pipeline.passages(QUESTION, k)
    events = list(answerer.stream(QUESTION, passages))
    raw, answer = "".join(events[:-1]), events[-1]
    shown = {p.n for p in passages}
    if raw == NOT_FOUND:
        assert answer.abstained and not answer.citations
        return
    match = STRICT_OUTPUT.fullmatch(raw)
    assert match, raw
    cited = {int(n) for group in re.findall(r"\[([\d, ]+)\]", raw) for n in group.split(", ")}
    assert cited <= shown
    assert {c.n for c in answer.citations} == cited
    for c in answer.citations:
        assert article[c.start : c.end] == c.quote


def test_the_model_loads_once_per_process(pipeline: Pipeline, answerer, models: dict[int, Path]) -> None:
    pipeline.ask(QUESTION, answerer)
    llm = load_llama(str(models[0].resolve()), pipeline.settings.n_ctx, 1)
    loads = generate.loaded_models()
    again = make_answerer(answerer.settings, pipeline)  # another answerer, same settings
    pipeline.ask("Where will the talks take place?", again)
    assert generate.loaded_models() == loads
    assert again.llm is llm
    assert llm.chat_format == "chat_template.default"  # the template stored in the GGUF file


# --- the prompt and its budget -------------------------------------------------------------------


@pytest.fixture(scope="module")
def template(models: dict[int, Path]) -> ChatTemplate:
    return ChatTemplate(load_llama(str(models[0].resolve()), 2048, 1))


def long_passages(article: str, count: int, chars: int) -> tuple[Passage, ...]:
    """`count` passages of about `chars` characters of the seed article's body each."""
    body = article.index("Volodymyr Zelenskyy has sent")
    out = []
    for n in range(1, count + 1):
        start = body + (n - 1) * 300 % 3000
        end = article.rfind(".", start, start + chars) + 1
        out.append(Passage(n, "doc", "seed.txt", f"Title {n}", start, end, article[start:end], 1 / n))
    return tuple(out)


def prompt_tokens_reported_by_llama(template: ChatTemplate, messages: tuple[dict[str, str], ...]) -> int:
    """The prompt length llama-cpp-python itself counts for these messages (one token generated)."""
    result = template._llm.create_chat_completion(list(messages), max_tokens=1)
    return result["usage"]["prompt_tokens"]


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    question_words=st.integers(1, 250),
    count=st.integers(1, 5),
    chars=st.integers(200, 6000),
    budget=st.integers(300, 1500),
    max_tokens=st.sampled_from([64, 256, 512]),
)
def test_prompt_stays_within_budget(
    template: ChatTemplate,
    article: str,
    question_words: int,
    count: int,
    chars: int,
    budget: int,
    max_tokens: int,
) -> None:
    question = " ".join(["delegation"] * question_words) + "?"
    passages = long_passages(article, count, chars)
    limit = 2048 - max_tokens
    try:
        prompt = build_prompt(question, passages, template.render, template.count, budget, limit)
    except RagError as err:
        assert "prompt tokens" in str(err)
        base = build_prompt(question, (), template.render, template.count, 10**6, 10**6)
        assert base.tokens > limit  # it refused only because the question alone does not fit
        return
    assert prompt.tokens <= limit
    assert prompt.tokens <= max(budget, prompt.budget)
    user = prompt.messages[-1]["content"]
    assert user.endswith(f"Question: {question}")  # never cut
    for p in passages:
        if p.n in prompt.labels:
            block = user.split(f"[{p.n}] {p.title}\n", 1)[1].split("\n\n", 1)[0]
            for piece in block.split(ELLIPSIS):
                assert piece in p.text  # whole sentences of the passage, not cut text


def test_prompt_token_count_matches_llama_cpp(template: ChatTemplate, article: str) -> None:
    prompt = build_prompt(QUESTION, long_passages(article, 5, 4000), template.render, template.count, 700, 1792)
    # The byte-level tiny tokenizer makes the system prompt and question ~600 tokens, so the
    # passages get their minimum on top of them instead of what is left of 700.
    assert prompt.tokens <= prompt.budget == max(700, prompt.budget)
    assert prompt_tokens_reported_by_llama(template, prompt.messages) == prompt.tokens


def test_trimming_keeps_the_sentence_that_answers(template: ChatTemplate, article: str) -> None:
    passages = long_passages(article, 1, 6000)
    prompt = build_prompt(QUESTION, passages, template.render, template.count, 1100, 1792)
    assert "led by Vladimir Medinsky" in prompt.messages[-1]["content"]
    assert len(prompt.messages[-1]["content"]) < len(passages[0].text)


def test_short_passages_are_sent_whole(template: ChatTemplate, article: str) -> None:
    passages = long_passages(article, 2, 300)
    prompt = build_prompt(QUESTION, passages, template.render, template.count, 1500, 1792)
    assert prompt.labels == (1, 2)
    assert all(p.text in prompt.messages[-1]["content"] for p in passages)


def test_n_ctx_too_small_for_the_question_is_a_one_line_error(pipeline: Pipeline, answerer) -> None:
    small = make_answerer(replace(answerer.settings, n_ctx=512, max_tokens=256), pipeline)
    with pytest.raises(RagError, match=r"raise --n-ctx") as err:
        pipeline.ask("Who led Russia's delegation? " + "Please explain in detail. " * 20, small)
    assert "\n" not in str(err.value)


@pytest.mark.parametrize(
    ("content", "message"),
    [(None, "does not exist"), (b"not a model at all", "is not a GGUF model file"), (b"", "is not a GGUF")],
)
def test_bad_model_files_are_one_line_errors(tmp_path: Path, content: bytes | None, message: str) -> None:
    path = tmp_path / "model.gguf"
    if content is not None:
        path.write_bytes(content)
    with pytest.raises(RagError, match=message) as err:
        generate.check_model_file(path)
    assert "\n" not in str(err.value)


def test_a_truncated_gguf_is_a_one_line_error(tmp_path: Path, models: dict[int, Path]) -> None:
    path = tmp_path / "cut.gguf"
    path.write_bytes(models[0].read_bytes()[:5000])
    with pytest.raises(RagError, match="could not load") as err:
        load_llama(str(path), 2048, 1)
    assert "\n" not in str(err.value)


# --- the strict grammar --------------------------------------------------------------------------


def test_strict_grammar_names_only_the_shown_labels() -> None:
    grammar = strict_grammar((1, 2, 4), 400)
    assert 'label ::= "1" | "2" | "4"' in grammar
    assert NOT_FOUND in grammar


def test_strict_grammar_fits_the_character_budget() -> None:
    grammar = strict_grammar((1, 2, 3), 250)
    assert 'answer ::= sentence (" " sentence){0,1}' in grammar  # two sentences ...
    # ... of at most 1 + 111 body + 1 end + 1 quote + 1 space + 9 marker + 1 separator = 125 characters
    assert "[^\\[\\]\\n\\t]{0,111}" in grammar


def test_no_room_even_for_the_refusal_is_an_error() -> None:
    with pytest.raises(RagError, match="max_tokens is too small"):
        strict_grammar((1,), 20)


def test_no_passages_shown_allows_only_the_refusal() -> None:
    assert strict_grammar((), 500) == f'root ::= "{NOT_FOUND}"\n'
