"""`python -m rag.model download REPO FILE` / `check PATH`: get a GGUF model and look at it.

`download` fetches one file of a Hugging Face model repository into `models/` (git-ignored) with
huggingface_hub; it first checks that the hub can be reached, so without internet it fails at
once with one line saying what to do instead. `check` opens a GGUF file with llama.cpp (weights
memory-mapped, not read) and shows its metadata and whether the answerer can use it. Nothing else in the project downloads:
`python -m rag.ask --model PATH` only opens local files.
"""

from __future__ import annotations

import argparse
import socket
import sys
from pathlib import Path
from urllib.parse import urlparse

from rag.errors import RagError
from rag.generate import check_model_file

MODELS_DIR = Path("models")

#: The small instruct model the README recommends (about 1.1 GB at Q4_K_M).
RECOMMENDED = ("Qwen/Qwen2.5-1.5B-Instruct-GGUF", "qwen2.5-1.5b-instruct-q4_k_m.gguf")


def download(repo: str, filename: str, folder: Path = MODELS_DIR) -> Path:
    """Path of `filename` from Hugging Face repository `repo`, downloaded into `folder` if absent."""
    target = folder / filename
    if target.is_file():
        return target
    from huggingface_hub import constants, hf_hub_download
    from huggingface_hub.errors import HfHubHTTPError

    manual = f"download {filename} from https://huggingface.co/{repo} elsewhere and copy it into {folder}/"
    if constants.HF_HUB_OFFLINE:
        raise RagError(f"HF_HUB_OFFLINE is set, so nothing can be downloaded; unset it or {manual}.")
    _check_reachable(constants.ENDPOINT, manual)
    try:
        path = hf_hub_download(repo_id=repo, filename=filename, local_dir=folder)
    except HfHubHTTPError as err:
        first_line = str(err).splitlines()[0] if str(err) else type(err).__name__
        raise RagError(f"Could not download {filename} from {repo}: {first_line}") from None
    except OSError as err:
        raise RagError(f"Could not download {filename} from {repo} ({type(err).__name__}); {manual}.") from None
    return Path(path)


def _check_reachable(endpoint: str, manual: str, timeout: float = 5.0) -> None:
    """Raises `RagError` at once when the hub's host cannot be resolved or connected to."""
    url = urlparse(endpoint)
    host = url.hostname or "huggingface.co"
    port = url.port or (443 if url.scheme == "https" else 80)
    try:
        socket.create_connection((host, port), timeout=timeout).close()
    except OSError as err:
        reason = err.strerror or type(err).__name__
        raise RagError(f"Cannot reach {host} ({reason}); downloading needs internet: {manual}.") from None


def describe(path: Path) -> dict[str, str]:
    """What the GGUF file at `path` is: name, architecture, trained context, chat template, size."""
    path = check_model_file(path)
    from llama_cpp import Llama

    try:
        # Weights are memory-mapped, not read; a small context keeps this quick for any model.
        llm = Llama(model_path=str(path), n_ctx=256, n_threads=1, verbose=False)
    except ValueError as err:
        raise RagError(f"llama.cpp could not read {path} ({err}).") from None
    meta = llm.metadata
    arch = meta.get("general.architecture", "?")
    return {
        "file": str(path),
        "size": f"{path.stat().st_size / 1e6:.1f} MB",
        "name": meta.get("general.name", "?"),
        "architecture": arch,
        "trained context": meta.get(f"{arch}.context_length", "?"),
        "chat template": "yes" if "tokenizer.chat_template" in meta else "no (cannot be used: not a chat model)",
    }


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m rag.model", description="Get or inspect a GGUF model.")
    commands = p.add_subparsers(dest="command", required=True)
    d = commands.add_parser("download", help="fetch a GGUF file from Hugging Face into models/")
    d.add_argument("repo", help=f"repository, e.g. {RECOMMENDED[0]}")
    d.add_argument("file", help=f"file in it, e.g. {RECOMMENDED[1]}")
    d.add_argument("--dir", type=Path, default=MODELS_DIR, help="where to put it (default models/)")
    c = commands.add_parser("check", help="show what a GGUF file is and whether it can answer")
    c.add_argument("path", type=Path)
    return p


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    try:
        if args.command == "download":
            path = download(args.repo, args.file, args.dir)
            print(path)
            print(f'Ask with: python -m rag.ask --model {path} "your question"', file=sys.stderr)
        else:
            for key, value in describe(args.path).items():
                print(f"{key}: {value}")
    except RagError as err:
        print(f"error: {err}", file=sys.stderr)
        return err.exit_code
    return 0


if __name__ == "__main__":
    sys.exit(main())
