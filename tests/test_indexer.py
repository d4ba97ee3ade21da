"""Bringing the index up to date, through the commands as a user runs them: the article size limit."""

from __future__ import annotations

from pathlib import Path

from rag import store
from rag.index import main as index_main

SEED = Path(__file__).resolve().parent.parent / "seeds" / "000_681fe9c43916d851.txt"


def run(main, capsys, *args: object) -> tuple[int, str, str]:
    """Runs a command's `main` in this process: exit code, stdout, stderr."""
    code = main([str(a) for a in args])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def test_a_file_over_the_size_limit_is_skipped_with_a_warning(docs, tmp_path, capsys, monkeypatch) -> None:
    monkeypatch.setenv("RAG_MAX_FILE_MB", "0.05")
    sentence = "The harbour of Quillan logged another quiet day without ships. "
    (docs / "dump.txt").write_text("Harbour log\n\n" + sentence * 2000)  # 130 kB
    code, out, err = run(index_main, capsys, "--docs", docs, "--index-dir", tmp_path / "index")
    assert code == 0 and "Indexed 1 files" in out
    assert "warning: skipped dump.txt: dump.txt is 0.1 MB; the limit is 0.05 MB per article file" in err
    assert set(store.load(tmp_path / "index").files) == {SEED.name}
