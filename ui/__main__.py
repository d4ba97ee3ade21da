"""`python -m ui`: serve the chat on http://127.0.0.1:7860 (localhost only unless --host says otherwise).

Parses the flags into `Settings` (env `RAG_*` first, as for the CLI) and serves until Ctrl+C: the
page is up at once, while the docs folder is indexed and the models load in the background. A
public share link is made only with `--share`. Bad settings print one line and exit non-zero.
"""

from __future__ import annotations

import argparse
import logging
import os
import signal
import sys
from pathlib import Path

from rag.errors import RagError
from rag.settings import Settings


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m ui", description="Chat with the articles in your browser.")
    p.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1: this machine only)")
    p.add_argument("--port", type=int, default=7860, help="port to listen on (default 7860)")
    p.add_argument("--model", type=Path, dest="model_path", help="a .gguf model file for the llama.cpp answerer")
    p.add_argument(
        "--models-dir", type=Path, help="folder whose .gguf files the page offers (default models/, env RAG_MODELS_DIR)"
    )
    p.add_argument("--docs", type=Path, dest="docs_dir", help="articles folder (default seeds/, env RAG_DOCS_DIR)")
    p.add_argument("--index-dir", type=Path, help="index folder (default index/, env RAG_INDEX_DIR)")
    p.add_argument(
        "--store", choices=("faiss", "milvus"), help="where chunks are kept and searched (default faiss, env RAG_STORE)"
    )
    p.add_argument("--k", type=int, help="passages to retrieve (default 5, env RAG_K)")
    p.add_argument("--rebuild", action="store_true", help="re-embed every file before serving")
    p.add_argument("--share", action="store_true", help="also make a public gradio.live link (off by default)")
    return p


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")
    try:
        settings = Settings.from_env(
            docs_dir=args.docs_dir,
            index_dir=args.index_dir,
            store=args.store,
            k=args.k,
            model_path=args.model_path,
            models_dir=args.models_dir,
        )
        if settings.model_path is not None:
            from rag.generate import check_model_file

            check_model_file(settings.model_path)
        from ui.app import serve

        # A terminated server (kill, a test's teardown) unwinds like Ctrl+C, removing its upload folder.
        signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
        serve(settings, host=args.host, port=args.port, share=args.share, rebuild=args.rebuild)
    except RagError as err:
        print(f"error: {err}", file=sys.stderr)
        return err.exit_code
    except KeyboardInterrupt:
        return 0
    return 0


if __name__ == "__main__":
    sys.exit(main())
