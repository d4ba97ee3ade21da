"""Write a tiny random-weight llama-architecture GGUF model for tests.

`write_tiny_gguf(path, seed)` produces a file of roughly 250 KB that the real llama.cpp (through
`llama_cpp.Llama`) loads in milliseconds and can run for tokenization, chat completion, streaming
and grammar-constrained sampling, so the generation code path can be tested without downloading a
real model.

What the model is:

* architecture ``llama``: 2 blocks, embedding width 64, 4 attention heads (head size 16), a
  feed-forward width of 128, trained-context length 4096 (so ``n_ctx=2048`` with a ~1500-token
  prompt fits); matrices are F16, norm weights F32.
* a byte-level GPT-2-style BPE vocabulary (``tokenizer.ggml.model = "gpt2"``): the 256 byte tokens
  under the GPT-2 byte-to-unicode mapping, a few English merges, and the control tokens ``<s>``
  (BOS) and ``</s>`` (EOS). Any UTF-8 text tokenizes and detokenizes back exactly; most text is
  about one token per byte.
* a ChatML-like Jinja chat template in ``tokenizer.chat_template``; its ``<|im_start|>`` and
  ``<|im_end|>`` markers are plain text (they are not tokens of the vocabulary).

How it behaves: the weights are random, so the output is gibberish. One embedding dimension is a
constant "bias channel" that no block writes to, which lets the output layer add a fixed bias per
token: every token whose text is not printable ASCII (control bytes, bytes >= 0x80, ``<s>``,
``</s>``) gets a logit about 18 lower than the rest. So free generation emits printable ASCII,
always valid UTF-8, and practically never ends by itself: it runs until ``max_tokens`` (finish
reason ``"length"``). A grammar that can end still stops, because once the grammar is complete only
EOS is allowed.

What it does not do: it is not a language model (no meaning, no answer quality), it has no
quantized tensors, no tokenizer other than byte-level BPE, and no special chat tokens.
"""

from __future__ import annotations

from pathlib import Path

import gguf
import numpy as np

# Model shape. Kept tiny so the file stays small and loading/decoding is fast.
N_EMBD = 64
N_HEAD = 4
N_HEAD_KV = 4
HEAD_DIM = N_EMBD // N_HEAD
N_FF = 128
N_LAYER = 2
CONTEXT_LENGTH = 4096
RMS_EPS = 1e-5
ROPE_FREQ_BASE = 10000.0

#: Text of the control tokens; their ids follow the byte and merge tokens.
BOS_TEXT = "<s>"
EOS_TEXT = "</s>"

#: A few GPT-2-style merges (in GPT-2 unicode form, "Ġ" is a space) so the BPE merge path is used.
#: Listed in rank order; each merge's inputs exist before it.
MERGES: tuple[tuple[str, str], ...] = (
    ("Ġ", "t"),
    ("Ġ", "a"),
    ("h", "e"),
    ("i", "n"),
    ("r", "e"),
    ("o", "n"),
    ("Ġt", "he"),
    ("e", "r"),
)

#: ChatML-like template. `bos_token` is rendered as text and tokenized with special=True by
#: llama-cpp-python, so it becomes the BOS id. Deliberately not byte-identical to any template
#: llama-cpp-python recognizes by value, so the "chat_template.default" handler is used.
CHAT_TEMPLATE = (
    "{{ bos_token }}"
    "{% for message in messages %}"
    "<|im_start|>{{ message['role'] }}\n{{ message['content'] }}<|im_end|>\n"
    "{% endfor %}"
    "{% if add_generation_prompt %}<|im_start|>assistant\n{% endif %}"
)

# Index of the embedding dimension used as a constant bias channel (see module docstring).
_BIAS_DIM = 0
# Value of the bias channel in every token embedding; other dimensions are ~N(0, 1).
_BIAS_CHANNEL_VALUE = 4.0
# Output weight on the bias channel for tokens that should (practically) never be sampled.
_SUPPRESS_WEIGHT = -5.0


def _bytes_to_unicode() -> dict[int, str]:
    """The GPT-2 byte-to-unicode table: every byte maps to one printable unicode character.

    Printable Latin-1 bytes map to themselves; the rest (control bytes, space, 0x7F-0xA0, 0xAD) map
    to code points from 256 upwards, in byte order.
    """
    printable = (
        list(range(ord("!"), ord("~") + 1)) + list(range(ord("¡"), ord("¬") + 1)) + list(range(ord("®"), ord("ÿ") + 1))
    )
    table: dict[int, str] = {b: chr(b) for b in printable}
    next_code_point = 256
    for b in range(256):
        if b not in table:
            table[b] = chr(next_code_point)
            next_code_point += 1
    return table


def _vocabulary() -> tuple[list[str], list[int], list[bool], int, int]:
    """Build the token list.

    Returns (tokens, token types, allowed-in-free-generation flags, bos id, eos id).
    """
    byte_to_char = _bytes_to_unicode()
    char_to_byte = {c: b for b, c in byte_to_char.items()}

    tokens: list[str] = [byte_to_char[b] for b in range(256)]
    types: list[int] = [int(gguf.TokenType.NORMAL)] * 256
    # Printable ASCII (space to tilde) may be generated freely; everything else is suppressed.
    allowed: list[bool] = [0x20 <= b <= 0x7E for b in range(256)]

    for left, right in MERGES:
        merged = left + right
        tokens.append(merged)
        types.append(int(gguf.TokenType.NORMAL))
        allowed.append(all(0x20 <= char_to_byte[c] <= 0x7E for c in merged))

    bos_id = len(tokens)
    tokens.append(BOS_TEXT)
    types.append(int(gguf.TokenType.CONTROL))
    allowed.append(False)

    eos_id = len(tokens)
    tokens.append(EOS_TEXT)
    types.append(int(gguf.TokenType.CONTROL))
    allowed.append(False)

    assert len(set(tokens)) == len(tokens), "token texts must be unique"
    return tokens, types, allowed, bos_id, eos_id


def _tensors(rng: np.random.Generator, allowed: list[bool]) -> dict[str, np.ndarray]:
    """Random weights for every tensor llama.cpp's llama architecture requires.

    NumPy shapes are (rows, columns); GGUF stores dimensions reversed, so a NumPy (out, in) matrix
    is the ggml {in, out} tensor llama.cpp expects (e.g. token_embd is ggml {n_embd, n_vocab}).
    """
    n_vocab = len(allowed)
    names = gguf.TENSOR_NAMES
    t = gguf.MODEL_TENSOR

    def normal(shape: tuple[int, ...], std: float) -> np.ndarray:
        return rng.normal(0.0, std, size=shape).astype(np.float32)

    def norm_weight() -> np.ndarray:
        # RMS-norm gains near 1 (1-D tensors stay F32, like in converted models).
        return (1.0 + normal((N_EMBD,), 0.05)).astype(np.float32)

    tensors: dict[str, np.ndarray] = {}

    token_embd = normal((n_vocab, N_EMBD), 1.0)
    token_embd[:, _BIAS_DIM] = _BIAS_CHANNEL_VALUE
    tensors[names[t.TOKEN_EMBD] + ".weight"] = token_embd

    in_std = 1.0 / np.sqrt(N_EMBD)
    ff_std = 1.0 / np.sqrt(N_FF)
    for bid in range(N_LAYER):

        def name(kind: gguf.MODEL_TENSOR, bid: int = bid) -> str:
            return names[kind].format(bid=bid) + ".weight"

        attn_out = normal((N_EMBD, N_HEAD * HEAD_DIM), in_std)
        ffn_down = normal((N_EMBD, N_FF), ff_std)
        # Blocks never write the bias channel, so it stays constant in the residual stream.
        attn_out[_BIAS_DIM, :] = 0.0
        ffn_down[_BIAS_DIM, :] = 0.0

        tensors[name(t.ATTN_NORM)] = norm_weight()
        tensors[name(t.ATTN_Q)] = normal((N_HEAD * HEAD_DIM, N_EMBD), in_std)
        tensors[name(t.ATTN_K)] = normal((N_HEAD_KV * HEAD_DIM, N_EMBD), in_std)
        tensors[name(t.ATTN_V)] = normal((N_HEAD_KV * HEAD_DIM, N_EMBD), in_std)
        tensors[name(t.ATTN_OUT)] = attn_out
        tensors[name(t.FFN_NORM)] = norm_weight()
        tensors[name(t.FFN_GATE)] = normal((N_FF, N_EMBD), in_std)
        tensors[name(t.FFN_UP)] = normal((N_FF, N_EMBD), in_std)
        tensors[name(t.FFN_DOWN)] = ffn_down

    tensors[names[t.OUTPUT_NORM] + ".weight"] = np.ones((N_EMBD,), dtype=np.float32)

    # Logits spread of a few units among allowed tokens; the bias channel pushes the rest down.
    output = normal((n_vocab, N_EMBD), 0.3)
    output[:, _BIAS_DIM] = np.where(np.array(allowed), 0.0, _SUPPRESS_WEIGHT)
    tensors[names[t.OUTPUT] + ".weight"] = output

    # Matrices as F16 (halves the file); 1-D norm weights stay F32.
    return {k: (v.astype(np.float16) if v.ndim == 2 else v) for k, v in tensors.items()}


def write_tiny_gguf(path: Path, seed: int = 0) -> Path:
    """Write the tiny random llama model to `path` and return `path`.

    The same `seed` always gives a byte-identical file. Parent directories are created.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed)

    tokens, types, allowed, bos_id, eos_id = _vocabulary()
    tensors = _tensors(rng, allowed)

    arch = gguf.MODEL_ARCH_NAMES[gguf.MODEL_ARCH.LLAMA]
    writer = gguf.GGUFWriter(path, arch)
    try:
        writer.add_name(f"tiny-random-llama-seed{seed}")
        writer.add_file_type(int(gguf.LlamaFileType.MOSTLY_F16))

        # Hyperparameters (written as "llama.*" keys).
        writer.add_vocab_size(len(tokens))
        writer.add_context_length(CONTEXT_LENGTH)
        writer.add_embedding_length(N_EMBD)
        writer.add_block_count(N_LAYER)
        writer.add_feed_forward_length(N_FF)
        writer.add_head_count(N_HEAD)
        writer.add_head_count_kv(N_HEAD_KV)
        writer.add_rope_dimension_count(HEAD_DIM)
        writer.add_rope_freq_base(ROPE_FREQ_BASE)
        writer.add_layer_norm_rms_eps(RMS_EPS)

        # Tokenizer: byte-level BPE.
        writer.add_tokenizer_model("gpt2")
        writer.add_tokenizer_pre("default")
        writer.add_token_list(tokens)
        writer.add_token_types(types)
        writer.add_token_merges([f"{left} {right}" for left, right in MERGES])
        writer.add_bos_token_id(bos_id)
        writer.add_eos_token_id(eos_id)
        writer.add_add_bos_token(True)
        writer.add_add_eos_token(False)
        writer.add_chat_template(CHAT_TEMPLATE)

        for name, array in tensors.items():
            writer.add_tensor(name, array)

        writer.write_header_to_file()
        writer.write_kv_data_to_file()
        writer.write_tensors_to_file()
    finally:
        writer.close()
    return path
