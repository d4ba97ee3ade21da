"""Bringing the index up to date without losing it, through the commands as a user runs them: the docs
folder an index belongs to, a damaged index, folders that cannot be written, the article size limit."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest
from stores import held_ids, load_index

from rag import disk
from rag.ask import main as ask_main
from rag.index import main as index_main

REPO = Path(__file__).resolve().parent.parent
SEED = REPO / "seeds" / "000_681fe9c43916d851.txt"
QUESTION = "Who led Russia's delegation?"


def article(headline: str, *sentences: str) -> str:
    return headline + "\n\n" + " ".join(sentences) + "\n"


def run(main, capsys, *args: object) -> tuple[int, str, str]:
    """Runs a command's `main` in this process: exit code, stdout, stderr."""
    code = main([str(a) for a in args])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def pointer(index_dir: Path) -> str:
    return (index_dir / "CURRENT").read_text()


@pytest.fixture
def bbc(tmp_path: Path) -> Path:
    """A second articles folder, as a user with two corpora has."""
    folder = tmp_path / "bbc"
    folder.mkdir()
    (folder / "harbour.txt").write_text(article("Harbour reopens", "The harbour in Gdańsk reopened on Monday."))
    (folder / "mayor.txt").write_text(article("New mayor", "The mayor of Quillan is Bo Renn, elected in May."))
    return folder


# --- the docs folder an index belongs to ----------------------------------------------------------


@pytest.mark.usefixtures("each_store")
def test_a_command_naming_another_folder_refuses_and_removes_nothing(bbc, docs, tmp_path, capsys) -> None:
    index = tmp_path / "bbc_index"
    assert run(index_main, capsys, "--docs", bbc, "--index-dir", index)[0] == 0
    before, files = pointer(index), set(load_index(index).files)

    code, out, err = run(ask_main, capsys, "--docs", docs, "--index-dir", index, QUESTION)
    assert code == 1 and out == ""
    [line] = err.splitlines()
    assert line.startswith("error: ") and str(bbc.resolve()) in line and str(docs.resolve()) in line
    assert f"--docs {bbc.resolve()}" in line and "--rebuild" in line
    assert pointer(index) == before and set(load_index(index).files) == files == {"harbour.txt", "mayor.txt"}
    assert run(index_main, capsys, "--docs", docs, "--index-dir", index)[0] == 1  # rag.index refuses alike

    # The two ways out: name the index's folder, or rebuild from the other one.
    code, out, _ = run(ask_main, capsys, "--docs", bbc, "--index-dir", index, "Who is the mayor of Quillan?")
    assert code == 0 and "Bo Renn" in out
    code, out, _ = run(ask_main, capsys, "--docs", docs, "--index-dir", index, "--rebuild", QUESTION)
    assert code == 0 and "Medinsky" in out and set(load_index(index).files) == {SEED.name}


def strip_docs_dir(index: Path) -> None:
    """Makes the index look as one saved before the docs folder was recorded."""
    manifest = index / pointer(index).strip() / "manifest.json"
    manifest.write_text(json.dumps({k: v for k, v in json.loads(manifest.read_text()).items() if k != "docs_dir"}))


@pytest.mark.usefixtures("each_store")
def test_an_older_index_adopts_a_folder_holding_all_its_files_and_refuses_any_other(bbc, docs, tmp_path, capsys):
    index = tmp_path / "index"
    assert run(index_main, capsys, "--docs", bbc, "--index-dir", index)[0] == 0
    strip_docs_dir(index)
    before = pointer(index)

    code, _, err = run(ask_main, capsys, "--docs", docs, "--index-dir", index, QUESTION)
    [line] = err.splitlines()
    assert code == 1 and str(docs.resolve()) in line and "--docs THAT_FOLDER" in line and "--rebuild" in line
    assert pointer(index) == before

    copy = tmp_path / "bbc-copy"  # the same files elsewhere, and one more: nothing would be lost
    shutil.copytree(bbc, copy)
    (copy / "extra.txt").write_text(article("Ferry", "A ferry ran aground near Split on Sunday."))
    code, out, err = run(ask_main, capsys, "--docs", copy, "--index-dir", index, "Where did the ferry run aground?")
    assert code == 0 and "Split" in out and "error" not in err
    assert load_index(index).docs_dir == copy.resolve()  # recorded with the save that added extra.txt


@pytest.mark.usefixtures("each_store")
def test_an_index_whose_folder_was_moved_follows_it(bbc, tmp_path, capsys) -> None:
    index = tmp_path / "index"
    assert run(index_main, capsys, "--docs", bbc, "--index-dir", index)[0] == 0
    moved = bbc.rename(tmp_path / "bbc-2025")
    code, out, err = run(ask_main, capsys, "--docs", moved, "--index-dir", index, "Who is the mayor of Quillan?")
    assert code == 0 and "Bo Renn" in out
    assert "which is gone; it now follows" in err and "re-embedded" not in err
    assert load_index(index).docs_dir == moved.resolve()  # recorded: the next command says nothing
    code, _, err = run(ask_main, capsys, "--docs", moved, "--index-dir", index, "Who is the mayor of Quillan?")
    assert code == 0 and err == ""


# --- a damaged index ------------------------------------------------------------------------------


def test_rag_index_repairs_a_damaged_index_and_rag_ask_never_answers_from_one(docs, tmp_path, capsys) -> None:
    index = tmp_path / "index"
    harbour = docs / "harbour.txt"
    harbour.write_text(article("Harbour reopens", "The harbour in Gdańsk reopened on Monday."))
    assert run(index_main, capsys, "--docs", docs, "--index-dir", index)[0] == 0
    harbour.write_text(article("Harbour reopens", "The harbour in Gdańsk reopened on Tuesday."))
    assert run(index_main, capsys, "--docs", docs, "--index-dir", index)[0] == 0
    (index / pointer(index).strip() / "chunks.jsonl").write_text("")  # as found in the wild

    code, out, err = run(index_main, capsys, "--docs", docs, "--index-dir", index)
    assert code == 0 and "(1 files re-embedded, 0 removed)" in out
    assert "was damaged (" in err and "repaired it from gen-" in err and "Traceback" not in err

    table = index / pointer(index).strip() / "chunks.jsonl"
    table.write_text("".join(table.read_text().splitlines(keepends=True)[:-1]))  # one line short
    code, out, err = run(
        ask_main, capsys, "--docs", docs, "--index-dir", index, "When did the harbour in Gdańsk reopen?"
    )
    assert code == 0 and "Tuesday" in out and "was damaged (" in err
    assert load_index(index).chunks  # loads cleanly again


# --- index folders that cannot be written ---------------------------------------------------------


def test_an_index_path_that_is_a_file_is_refused_before_embedding(docs, tmp_path, capsys) -> None:
    index = tmp_path / "index"
    index.write_text("not a folder")
    code, out, err = run(ask_main, capsys, "--docs", docs, "--index-dir", index, QUESTION)
    assert (
        code == 1
        and out == ""
        and err == f"error: The index folder {index} is a file; pass --index-dir with a folder, or move the file.\n"
    )
    assert index.read_text() == "not a folder"


def test_a_current_that_is_a_folder_is_refused_before_embedding(docs, tmp_path, capsys) -> None:
    index = tmp_path / "index"
    (index / "CURRENT").mkdir(parents=True)
    code, out, err = run(index_main, capsys, "--docs", docs, "--index-dir", index)
    [line] = err.splitlines()
    assert code == 1 and out == "" and "CURRENT is a folder" in line and "Embedding" not in err


@pytest.fixture
def unwritable():
    """Runs a command unable to write a folder it can read: as user nobody when the tests run as root
    (root writes anywhere), else after taking the write bits off. Yields (folder, run)."""
    folder = Path(tempfile.mkdtemp(prefix="newsrag-readonly-"))
    os.chmod(folder, 0o755)  # readable by everyone, writable by its owner only
    home = folder / "home"  # a home the other user can write (model libraries look for caches there)
    home.mkdir(mode=0o777)
    os.chmod(home, 0o777)
    as_other = os.geteuid() == 0
    if as_other and shutil.which("setpriv") is None:
        pytest.skip("running as root needs setpriv (util-linux) to run a command as another user")

    def run_command(module: str, *args: object, lock: tuple[Path, ...] = ()) -> subprocess.CompletedProcess:
        for path in lock:
            for p in [path, *path.rglob("*")]:
                if p.is_dir() and not as_other:
                    p.chmod(0o555)
        prefix = ["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups"] if as_other else []
        env = {k: v for k, v in os.environ.items() if not k.startswith("RAG_")} | {"HOME": str(home)}
        return subprocess.run(
            [*prefix, sys.executable, "-m", module, *map(str, args)],
            capture_output=True,
            text=True,
            env=env,
            cwd=folder,
            timeout=600,
        )

    try:
        yield folder, run_command
    finally:
        for p in [folder, *folder.rglob("*")]:
            if p.is_dir():
                p.chmod(0o755)
        shutil.rmtree(folder)


def test_a_read_only_index_still_answers_with_a_note(unwritable, capsys) -> None:
    folder, run_as_reader = unwritable
    docs, index = folder / "docs", folder / "index"
    docs.mkdir()
    shutil.copy(SEED, docs / SEED.name)
    assert run(index_main, capsys, "--docs", docs, "--index-dir", index)[0] == 0
    (docs / "mayor.txt").write_text(article("New mayor", "The mayor of Quillan is Bo Renn, elected in May."))
    before = pointer(index)

    result = run_as_reader("rag.ask", "--docs", docs, "--index-dir", index, QUESTION, lock=(index,))
    assert result.returncode == 0, result.stderr
    assert "Medinsky" in result.stdout
    [line] = result.stderr.splitlines()
    assert line == (
        f"note: the index folder {index}/ is read-only, so 1 changed or deleted files could not be indexed; "
        "using the index as it is."
    )
    # rag.index exists to bring the index up to date: there, not being able to is an error.
    result = run_as_reader("rag.index", "--docs", docs, "--index-dir", index, lock=(index,))
    assert result.returncode == 1 and result.stdout == ""
    assert result.stderr.splitlines() == [
        f"error: The index folder {index}/ is read-only: 1 changed or deleted files could not be indexed."
    ]
    assert pointer(index) == before


@pytest.mark.parametrize("where", ["read-only index folder", "read-only parent folder"])
def test_an_index_that_cannot_be_written_is_refused_before_embedding(unwritable, where: str) -> None:
    folder, run_as_reader = unwritable
    docs = folder / "docs"
    docs.mkdir()
    shutil.copy(SEED, docs / SEED.name)
    if where == "read-only index folder":
        index = folder / "index"
        index.mkdir()
        os.chmod(index, 0o755)
        expected = f"error: The index folder {index} is read-only; pass --index-dir with a folder you can write."
    else:
        index = folder / "parent" / "index"
        index.parent.mkdir()
        os.chmod(index.parent, 0o755)
        expected = (
            f"error: The index folder {index} cannot be created there (the folder above is read-only); "
            "pass --index-dir with a folder you can write."
        )
    result = run_as_reader("rag.ask", "--docs", docs, "--index-dir", index, QUESTION, lock=(index.parent,))
    assert result.returncode == 1 and result.stdout == ""
    assert result.stderr.splitlines() == [expected]  # and no "Embedding chunks" line before it


# --- one size limit for article files -------------------------------------------------------------


@pytest.mark.usefixtures("each_store")
def test_a_file_over_the_size_limit_is_skipped_with_a_warning(docs, tmp_path, capsys, monkeypatch) -> None:
    monkeypatch.setenv("RAG_MAX_FILE_MB", "0.05")
    sentence = "The harbour of Quillan logged another quiet day without ships. "
    (docs / "dump.txt").write_text("Harbour log\n\n" + sentence * 2000)  # 130 kB
    code, out, err = run(index_main, capsys, "--docs", docs, "--index-dir", tmp_path / "index")
    assert code == 0 and "Indexed 1 files" in out
    assert "warning: skipped dump.txt: dump.txt is 0.1 MB; the limit is 0.05 MB per article file" in err
    assert set(load_index(tmp_path / "index").files) == {SEED.name}


# --- what shaped the index ------------------------------------------------------------------------


@pytest.mark.usefixtures("each_store")
@pytest.mark.parametrize(
    ("env", "note"),
    [
        ({"RAG_CHUNK_WORDS": "120"}, "note: chunk size changed from 160 to 120 words: rebuilding the index."),
        ({"RAG_CHUNK_OVERLAP_WORDS": "20"}, "note: chunk overlap changed from 40 to 20 words: rebuilding the index."),
    ],
)
def test_a_changed_chunking_setting_rebuilds_the_whole_index_with_one_line(
    docs, tmp_path, capsys, monkeypatch, env: dict, note: str
) -> None:
    index = tmp_path / "index"
    (docs / "harbour.txt").write_text(article("Harbour reopens", "The harbour in Gdańsk reopened on Monday."))
    assert run(index_main, capsys, "--docs", docs, "--index-dir", index)[0] == 0
    before = held_ids(load_index(index))  # Milvus changes in place: keep the ids, not the store
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    code, out, err = run(index_main, capsys, "--docs", docs, "--index-dir", index)
    assert code == 0 and err.splitlines()[0] == note
    after = load_index(index)
    assert after.manifest["shape"]["chunk_words"] == int(env.get("RAG_CHUNK_WORDS", 160))
    assert "(2 files re-embedded, 0 removed)" in out  # both files, not only changed ones
    assert held_ids(after) != before  # every chunk cut again with the new size


def test_an_index_of_an_older_format_is_rebuilt_with_one_line(docs, tmp_path, capsys) -> None:
    index = tmp_path / "index"
    assert run(index_main, capsys, "--docs", docs, "--index-dir", index)[0] == 0
    manifest = index / pointer(index).strip() / "manifest.json"
    manifest.write_text(json.dumps(json.loads(manifest.read_text()) | {"format": 3, "checksums": {}}))
    code, out, err = run(index_main, capsys, "--docs", docs, "--index-dir", index)
    assert code == 0
    assert err.splitlines()[0] == "note: the index format changed from 3 to 4: rebuilding the index."
    assert load_index(index).manifest["format"] == disk.FORMAT_VERSION


def test_the_manifest_records_everything_that_shaped_the_index(docs, tmp_path, capsys, each_store) -> None:
    index = tmp_path / "index"
    assert run(index_main, capsys, "--docs", docs, "--index-dir", index)[0] == 0
    manifest = load_index(index).manifest
    assert manifest["shape"] == {
        "chunk_words": 160,
        "chunk_overlap_words": 40,
        "embed_text": "title\\ntext",
        "embedding_model": "all-MiniLM-L6-v2",
        "model_files": manifest["shape"]["model_files"],
        "precision": "float32",
        **(
            {"backend": "faiss-flat-ip"}
            if each_store == "faiss"
            else {"backend": "milvus", "milvus_uri": str(index / "milvus.db")}
        ),
    }
    assert len(manifest["shape"]["model_files"]) == 16
    assert manifest["format"] == disk.FORMAT_VERSION and manifest["dimension"] == 384
    graph = manifest["encoder"]["file"]
    assert (index / graph).is_file() and manifest["encoder"]["sha256"] == disk.sha256(index / graph)
