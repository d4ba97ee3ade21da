"""The llama.cpp answerer: a local GGUF model writes the answer from the numbered passages.

The model loads once per process (per file, n_ctx and thread count) on first use. The prompt is
the system prompt and the numbered, titled passages and question of `rag.prompts`, rendered with the
chat template stored in the GGUF file and counted with the model's own tokenizer. It is kept within
`max_prompt_tokens` (when the context allows) and always within `n_ctx - max_tokens`: passages are
trimmed to their sentences that best match the question, never cut mid-sentence; the question is
never cut. Tokens are yielded as the model makes them. With `strict`, a GBNF grammar makes the
output either the fixed "not found" sentence or sentences each ending in a marker naming a shown
passage. Citations and their support are checked afterwards by `rag.citations`. It does not
download models (see `rag.model`) or keep a conversation.
"""

from __future__ import annotations

import atexit
import os
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from rag.bm25 import TermStats
from rag.citations import SupportChecker, complete_part
from rag.embedding import Embedder
from rag.errors import RagError
from rag.lexical import terms, weighted_overlap
from rag.prompts import ELLIPSIS, NOT_FOUND, PASSAGE_TEMPLATE, SYSTEM_PROMPT, USER_TEMPLATE
from rag.records import Answer, Passage
from rag.sentences import split_sentences
from rag.settings import Settings

if TYPE_CHECKING:
    from llama_cpp import Llama

GGUF_MAGIC = b"GGUF"

#: Passages get at least this many tokens when a long question pushes past max_prompt_tokens.
MIN_PASSAGE_TOKENS = 200

#: Most sentences a strict answer may have.
MAX_SENTENCES = 5

# llama.cpp contexts are not thread-safe; one generation at a time per process.
_GENERATE_LOCK = threading.Lock()
# Loaded models by (path, n_ctx, n_threads), and their chat templates by model id.
_MODELS: dict[tuple[str, int, int], Llama] = {}
_TEMPLATES: dict[int, ChatTemplate] = {}
_LOAD_LOCK = threading.Lock()

Messages = list[dict[str, str]]


def check_model_file(path: Path) -> Path:
    """`path`, resolved, if it is a GGUF file; raises `RagError` naming the problem otherwise."""
    path = Path(path).expanduser()
    if path.is_dir():
        raise RagError(f"{path} is a folder, not a model file; pass the path of a .gguf file (--model PATH.gguf).")
    if not path.is_file():
        raise RagError(
            f"Model file {path} does not exist; pass --model PATH.gguf (or set RAG_MODEL_PATH), "
            "or fetch one with: python -m rag.model download REPO FILE"
        )
    with path.open("rb") as f:
        if f.read(4) != GGUF_MAGIC:
            raise RagError(f"{path} is not a GGUF model file (it does not start with 'GGUF'); pass a .gguf file.")
    return path.resolve()


def load_llama(path: str, n_ctx: int, n_threads: int) -> Llama:
    """The model at `path`, loaded once per process for each (path, n_ctx, n_threads)."""
    key = (path, n_ctx, n_threads)
    with _LOAD_LOCK:
        if key not in _MODELS:
            _MODELS[key] = _load(path, n_ctx, n_threads)
        return _MODELS[key]


def loaded_models() -> int:
    """How many models this process has loaded (and keeps)."""
    return len(_MODELS)


def _load(path: str, n_ctx: int, n_threads: int) -> Llama:
    from llama_cpp import Llama

    try:
        llm = Llama(model_path=path, n_ctx=n_ctx, n_threads=n_threads, n_threads_batch=n_threads, verbose=False)
    except ValueError as err:
        raise RagError(f"llama.cpp could not load {path} ({err}); is it a complete GGUF model file?") from None
    if "tokenizer.chat_template" not in llm.metadata:
        raise RagError(f"{path} has no chat template in its metadata; use an instruct (chat) GGUF model.")
    # Use the template stored in the file rather than a built-in format llama-cpp-python might guess.
    llm.chat_format = "chat_template.default"
    return llm


@atexit.register
def _close_models() -> None:
    """Frees the models before interpreter shutdown, where llama_cpp's own cleanup fails noisily."""
    for llm in _MODELS.values():
        llm.close()
    _MODELS.clear()
    _TEMPLATES.clear()


class ChatTemplate:
    """Renders messages with the model's own chat template and counts tokens with its tokenizer."""

    def __init__(self, llm: Llama) -> None:
        from llama_cpp.llama_chat_format import Jinja2ChatFormatter

        def token_text(token: int) -> str:
            return llm.detokenize([token], special=True).decode("utf-8", "replace") if token >= 0 else ""

        self._llm = llm
        self._formatter = Jinja2ChatFormatter(
            template=llm.metadata["tokenizer.chat_template"],
            eos_token=token_text(llm.token_eos()),
            bos_token=token_text(llm.token_bos()),
        )

    def render(self, messages: Messages) -> str:
        return self._formatter(messages=messages).prompt

    def count(self, text: str) -> int:
        # As llama-cpp-python tokenizes a rendered chat prompt: special tokens parsed, no extra BOS.
        return len(self._llm.tokenize(text.encode("utf-8"), add_bos=False, special=True))


@dataclass(frozen=True)
class Prompt:
    messages: tuple[dict[str, str], ...]
    labels: tuple[int, ...]  # labels of the passages shown, in order
    tokens: int  # of the rendered prompt, with the model's tokenizer
    budget: int  # the most tokens the prompt was allowed
    chars_per_token: float  # of the passage text, for sizing the strict grammar


def build_prompt(
    question: str,
    passages: tuple[Passage, ...],
    render: Callable[[Messages], str],
    count: Callable[[str], int],
    budget: int,
    limit: int,
    idf: Callable[[str], float] | None = None,
) -> Prompt:
    """The chat messages for `question`, within `budget` tokens if possible and `limit` tokens always.

    Passages that do not fit whole keep the sentences sharing most (idf-weighted) words with the
    question: first each passage's best sentence in rank order, then the rest by score. Raises
    `RagError` when the question alone does not fit in `limit`.
    """

    def messages(shown: dict[int, str]) -> Messages:
        blocks = [PASSAGE_TEMPLATE.format(n=p.n, title=p.title, text=shown[p.n]) for p in passages if p.n in shown]
        user = USER_TEMPLATE.format(passages="\n\n".join(blocks) or "(none)", question=question)
        return [{"role": "system", "content": SYSTEM_PROMPT}, {"role": "user", "content": user}]

    def result(shown: dict[int, str], tokens: int, text_tokens: int) -> Prompt:
        cpt = sum(map(len, shown.values())) / text_tokens if text_tokens else 1.0
        return Prompt(tuple(messages(shown)), tuple(n for n in labels if n in shown), tokens, budget, cpt)

    labels = tuple(p.n for p in passages)
    base = count(render(messages({})))
    if base > limit:
        raise RagError(
            f"The question needs {base} prompt tokens but only {limit} fit (n_ctx minus max_tokens); "
            "raise --n-ctx, lower --max-tokens, or shorten the question."
        )
    budget = min(limit, max(budget, base + MIN_PASSAGE_TOKENS))
    texts = {p.n: p.text for p in passages}
    spans = {p.n: split_sentences(p.text) for p in passages}
    size = {(n, i): count(texts[n][s:e]) for n in texts for i, (s, e) in enumerate(spans[n])}
    headers = {p.n: count(PASSAGE_TEMPLATE.format(n=p.n, title=p.title, text="")) + 2 for p in passages}
    # Whole passages, when the sum of their parts suggests they fit (the exact count decides).
    if base + sum(size.values()) + sum(headers.values()) <= budget + 2 * len(size):
        tokens = count(render(messages(texts)))
        if tokens <= budget:
            return result(texts, tokens, count("".join(texts.values())))

    # Each passage's sentences as (overlap with the question, index, start, end), best first.
    q_terms = terms(question)
    weights = {t: (idf(t) if idf else 1.0) for t in q_terms}
    by_passage: dict[int, list[tuple[float, int, int, int]]] = {}
    for n, text in texts.items():
        scored = [(weighted_overlap(q_terms, terms(text[s:e]), weights), i, s, e) for i, (s, e) in enumerate(spans[n])]
        by_passage[n] = sorted(scored, key=lambda x: (-x[0], x[1]))
    firsts = [(n, *ranked[0]) for n, ranked in by_passage.items() if ranked]
    rest = sorted(((n, *x) for n, ranked in by_passage.items() for x in ranked[1:]), key=lambda x: (-x[1], x[0], x[2]))
    joiner = count(ELLIPSIS)

    chosen: list[tuple[int, int, int, int]] = []  # (label, index, start, end) in the order added
    sizes: list[int] = []  # tokens of each chosen sentence
    used = base
    for n, _, i, s, e in firsts + rest:
        cost = size[n, i] + joiner + (headers[n] if all(c[0] != n for c in chosen) else 0)
        if used + cost <= budget:
            chosen.append((n, i, s, e))
            sizes.append(size[n, i])
            used += cost
    # The estimate sums pieces; the exact count of the rendered prompt decides. Drop the last added.
    while True:
        shown = _shown(chosen, texts)
        tokens = count(render(messages(shown)))
        if tokens <= budget or not chosen:
            return result(shown, tokens, sum(sizes))
        chosen.pop()
        sizes.pop()


def _shown(chosen: list[tuple[int, int, int, int]], texts: dict[int, str]) -> dict[int, str]:
    """The kept sentences of each passage in text order; runs of neighbours keep their own spacing."""
    shown: dict[int, str] = {}
    for n in dict.fromkeys(c[0] for c in chosen):
        kept = sorted((i, s, e) for m, i, s, e in chosen if m == n)
        runs: list[list[int]] = []  # [last index, start, end]
        for i, s, e in kept:
            if runs and runs[-1][0] == i - 1:
                runs[-1][0], runs[-1][2] = i, e
            else:
                runs.append([i, s, e])
        shown[n] = ELLIPSIS.join(texts[n][s:e] for _, s, e in runs)
    return shown


def strict_grammar(labels: tuple[int, ...], max_chars: int) -> str:
    """GBNF: exactly NOT_FOUND, or up to MAX_SENTENCES sentences each ending "<.!?> [n(, n)*]".

    Only `labels` may be cited, at most three per marker. The whole output is at most `max_chars`
    characters, so a model making at least one character per token finishes within its budget.
    """
    refusal = NOT_FOUND.replace("\\", "\\\\").replace('"', '\\"')
    if len(NOT_FOUND) > max_chars:
        raise RagError(f"max_tokens is too small for --strict: the refusal sentence alone needs {len(NOT_FOUND)}.")
    if not labels:
        return f'root ::= "{refusal}"\n'
    digits = max(len(str(n)) for n in labels)
    marker_chars = 2 + 3 * digits + 2 * 2  # "[" n ", " n ", " n "]"
    # About 100 characters per sentence; since max_chars >= len(NOT_FOUND), a body has room for 20+.
    sentences = max(1, min(MAX_SENTENCES, max_chars // 100))
    body = max_chars // sentences - marker_chars - 4  # minus end punctuation, quote, space, separator
    label_rule = " | ".join(f'"{n}"' for n in labels)
    return "\n".join(
        [
            "root ::= refusal | answer",
            f'refusal ::= "{refusal}"',
            f'answer ::= sentence (" " sentence){{0,{sentences - 1}}}',
            'sentence ::= body [.!?] ["”’)]? " " marker',
            # No brackets or line breaks inside a sentence; it starts with a visible character.
            f"body ::= [^\\[\\]\\n\\t ] [^\\[\\]\\n\\t]{{0,{body - 1}}}",
            'marker ::= "[" label (", " label){0,2} "]"',
            f"label ::= {label_rule}",
            "",
        ]
    )


class LlamaAnswerer:
    """Writes a cited answer with a local GGUF model; construction is cheap, the model loads on use."""

    def __init__(self, settings: Settings, embedder: Embedder, term_stats: TermStats | None = None) -> None:
        if settings.model_path is None:
            raise ValueError("LlamaAnswerer needs settings.model_path")
        self.settings = settings
        self.path = check_model_file(settings.model_path)
        self.name = f"llama.cpp:{self.path.name}"
        self.idf = term_stats.idf if term_stats is not None else None
        self.checker = SupportChecker(embedder, self.idf, settings.support_threshold)

    @property
    def llm(self) -> Llama:
        return load_llama(str(self.path), self.settings.n_ctx, self.settings.n_threads or os.cpu_count() or 1)

    def prompt(self, question: str, passages: tuple[Passage, ...]) -> Prompt:
        llm = self.llm
        template = _TEMPLATES.get(id(llm)) or _TEMPLATES.setdefault(id(llm), ChatTemplate(llm))
        s = self.settings
        limit = s.n_ctx - s.max_tokens
        return build_prompt(question, passages, template.render, template.count, s.max_prompt_tokens, limit, self.idf)

    def stream(self, question: str, passages: tuple[Passage, ...]) -> Iterator[str | Answer]:
        """Yields the model's text pieces as they come, then the checked `Answer`."""
        from llama_cpp import LlamaGrammar

        s = self.settings
        started = time.perf_counter()
        llm = self.llm
        loaded = time.perf_counter()
        prompt = self.prompt(question, passages)
        options: dict = {"max_tokens": s.max_tokens, "temperature": s.temperature, "stream": True}
        if s.strict:
            # At least one character per token (byte-level tokenizers), more for real vocabularies.
            max_chars = int((s.max_tokens - 1) * max(1.0, 0.8 * prompt.chars_per_token))
            options["grammar"] = LlamaGrammar.from_string(strict_grammar(prompt.labels, max_chars), verbose=False)
        prompted = time.perf_counter()
        pieces: list[str] = []
        first = finish = None
        with _GENERATE_LOCK:
            try:
                for chunk in llm.create_chat_completion(list(prompt.messages), **options):
                    choice = chunk["choices"][0]
                    piece = choice["delta"].get("content")
                    if piece:
                        first = first or time.perf_counter()
                        pieces.append(piece)
                        yield piece
                    finish = choice.get("finish_reason") or finish
            except ValueError as err:  # llama-cpp-python reports a prompt over n_ctx this way
                raise RagError(f"llama.cpp refused the prompt: {err}; raise --n-ctx or lower --max-tokens.") from None
        generated = time.perf_counter()
        text = "".join(pieces)
        if finish == "length":
            text = complete_part(text)  # cut at max_tokens: keep the sentences that got their marker
        shown = tuple(p for p in passages if p.n in prompt.labels)
        cited = self.checker.cite(text, shown, question)
        done = time.perf_counter()
        timings = {
            "model_load": loaded - started,
            "prompt": prompted - loaded,
            "first_token": (first or generated) - prompted,
            "generate": generated - prompted,
            "check": done - generated,
        }
        yield Answer(
            question=question,
            claims=cited.claims,
            abstained=cited.abstained,
            citations=cited.citations,
            passages=passages,
            answerer=self.name,
            timings_ms={k: round(v * 1000, 1) for k, v in timings.items()},
        )
