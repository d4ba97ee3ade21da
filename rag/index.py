"""`python -m rag.index`: build or update the on-disk index from the articles folder.

Only files whose bytes changed since the last run are read and embedded; deleted files leave the
index; a damaged index is repaired from its previous generation; `--rebuild` starts over. Ends
with a one-line summary, or one `error:` line (exit 1) when the index could not be brought up to
date; Ctrl-C leaves the previous index in use (exit 130). It does not answer questions.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from rag.errors import RagError
from rag.settings import Settings


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m rag.index", description="Build or update the article index.")
    p.add_argument("--docs", type=Path, dest="docs_dir", help="articles folder (default seeds/, env RAG_DOCS_DIR)")
    p.add_argument("--index-dir", type=Path, help="index folder (default index/, env RAG_INDEX_DIR)")
    p.add_argument(
        "--store", choices=("faiss", "milvus"), help="where chunks are kept and searched (default faiss, env RAG_STORE)"
    )
    p.add_argument("--embedding-model", help="sentence-transformers model name or folder (env RAG_EMBEDDING_MODEL)")
    p.add_argument("--rebuild", action="store_true", help="re-embed every file")
    args = p.parse_args(argv)
    settings = None
    try:
        settings = Settings.from_env(
            docs_dir=args.docs_dir, index_dir=args.index_dir, store=args.store, embedding_model=args.embedding_model
        )
        from rag.ask import note, print_report
        from rag.pipeline import Pipeline
        from rag.progress import indexing

        pipeline = Pipeline(settings, reranker=None)
        report = pipeline.refresh(rebuild=args.rebuild, progress=indexing(), notify=note)
        held_in = pipeline.store.describe()
    except RagError as err:
        print(f"error: {err}", file=sys.stderr)
        return err.exit_code
    except KeyboardInterrupt:
        from rag.ask import interrupted

        return interrupted(settings.index_dir if settings else None)
    if report.unsaved:
        # rag.ask answers from such an index, with a note; this command's one job is to update it.
        print(
            f"error: The index folder {settings.index_dir}/ is read-only: {report.unsaved} changed or deleted "
            "files could not be indexed.",
            file=sys.stderr,
        )
        return 1
    print_report(report, quiet=True)
    print(report.summary())
    print(f"Store: {held_in}.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
