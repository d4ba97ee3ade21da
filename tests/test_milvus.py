"""The Milvus store through the commands, on a real Milvus Lite engine: the same answers as the
default store, a crash at any point repaired by the next update, and one line for a Milvus that
cannot be used, with nothing local lost."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest
from stores import held_chunks, held_ids

from rag import disk, ingest
from rag.ask import main as ask_main
from rag.settings import Settings

REPO = Path(__file__).resolve().parent.parent
QUESTIONS = ["Who led Russia's delegation?", "Where will the talks take place?", "What is the capital of Australia?"]


def article(headline: str, *sentences: str) -> str:
    return headline + "\n\n" + " ".join(sentences) + "\n"


def milvus(docs: Path, index: Path) -> Settings:
    return Settings.from_env(env={}, docs_dir=docs, index_dir=index, store="milvus")


def ask(capsys, *args: object) -> tuple[int, str, str]:
    code = ask_main([str(a) for a in args])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def test_milvus_gives_the_same_answers_and_citations_as_the_default(tmp_path: Path, capsys) -> None:
    seeds = ["--docs", REPO / "seeds"]
    for question in QUESTIONS:
        answers = []
        for store, index in (("faiss", "faiss-index"), ("milvus", "milvus-index")):
            code, out, _ = ask(capsys, *seeds, "--index-dir", tmp_path / index, "--store", store, "--json", question)
            assert code == 0
            answers.append(json.loads(out))
        faiss_answer, milvus_answer = answers
        for key in ("answer", "abstained", "citations"):
            assert faiss_answer[key] == milvus_answer[key], (question, key)
        assert [p["text"] for p in faiss_answer["passages"][:3]] == [p["text"] for p in milvus_answer["passages"][:3]]


def test_switching_the_store_rebuilds_with_one_line(docs: Path, tmp_path: Path, capsys) -> None:
    index = tmp_path / "index"
    assert ask(capsys, "--docs", docs, "--index-dir", index, QUESTIONS[0])[0] == 0
    code, out, err = ask(capsys, "--docs", docs, "--index-dir", index, "--store", "milvus", QUESTIONS[0])
    assert code == 0 and "Medinsky" in out
    assert err.splitlines()[0] == "note: the vector store changed from faiss-flat-ip to milvus: rebuilding the index."


@pytest.mark.parametrize("store", ["faiss", "milvus"])
def test_an_update_embeds_only_changed_files_and_drops_deleted_ones(docs: Path, tmp_path: Path, store: str) -> None:
    settings = Settings.from_env(env={}, docs_dir=docs, index_dir=tmp_path / "index", store=store)
    (docs / "harbour.txt").write_text(article("Harbour reopens", "The harbour in Gdańsk reopened on Monday."))
    (docs / "mayor.txt").write_text(article("New mayor", "The mayor of Quillan is Bo Renn, elected in May."))
    first, report = ingest.update(settings)
    assert report.embedded_files == 3
    before = held_chunks(first)
    assert len(before) == len(first) == sum(e["chunks"] for e in first.files.values())

    (docs / "harbour.txt").write_text(article("Harbour reopens", "The harbour in Gdańsk reopened on Tuesday."))
    (docs / "mayor.txt").unlink()
    index, report = ingest.update(settings)
    assert (report.embedded_files, report.embedded_chunks, report.removed_files) == (1, 1, 1)
    after = held_chunks(index)
    assert {c.source for c in after.values()} == {"000_681fe9c43916d851.txt", "harbour.txt"}
    assert {i for i, c in before.items() if c.source not in ("harbour.txt", "mayor.txt")} <= set(after)
    texts = " ".join(c.text for c in after.values())
    assert "Tuesday" in texts and "Monday" not in texts and "Quillan" not in texts
    assert index.stale() == set() and len(index) == len(after)


# The points where a writer can die: after old chunks left Milvus, after new ones arrived, and
# after Milvus was flushed but before the manifest naming the change became current.
KILL_POINTS = {
    "after removing": "remove",
    "after putting": "put",
    "while saving": "write",
}


@pytest.mark.parametrize("point", KILL_POINTS)
def test_a_writer_killed_at_any_point_is_repaired_by_the_next_update(docs: Path, tmp_path: Path, point: str) -> None:
    index = tmp_path / "index"
    (docs / "harbour.txt").write_text(article("Harbour reopens", "The harbour in Gdańsk reopened on Monday."))
    settings = milvus(docs, index)
    # Built in a process of its own: Milvus Lite serves one process at a time, and holds the file
    # until that process ends.
    build = [sys.executable, "-m", "rag.index", "--docs", str(docs), "--index-dir", str(index), "--store", "milvus"]
    assert subprocess.run(build, capture_output=True, timeout=300).returncode == 0
    (docs / "harbour.txt").write_text(article("Harbour closes", "The harbour in Gdańsk closed on Friday for dredging."))
    (docs / "late.txt").write_text(article("Late news", "A ferry ran aground near Split on Sunday."))
    script = textwrap.dedent(
        f"""
        import os
        from pathlib import Path
        from rag import ingest
        from rag.settings import Settings
        from rag.store.milvus import MilvusStore

        method = getattr(MilvusStore, {KILL_POINTS[point]!r})

        def die(self, *args):
            method(self, *args)
            os._exit(9)  # no cleanup, no flush: as kill -9

        setattr(MilvusStore, {KILL_POINTS[point]!r}, die)
        ingest.update(Settings.from_env(env={{}}, docs_dir=Path({str(docs)!r}), index_dir=Path({str(index)!r}),
                                        store="milvus"))
        """
    )
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=300)
    assert result.returncode == 9, result.stderr

    crashed = disk.load(index, settings)
    assert crashed.stale(), "the crash left the journal, so the store is checked row by row"
    store, report = ingest.update(settings)
    assert report.embedded_files >= 2 and {"harbour.txt", "late.txt"} <= set(store.files)
    assert store.stale() == set() and not (index / "milvus.journal").exists()
    # Exactly the chunks of the current files, each once: nothing of the old version, nothing twice.
    found = held_chunks(store)
    assert len(found) == len(store) == sum(e["chunks"] for e in store.files.values())
    assert {c.doc_id for c in found.values()} == {e["doc_id"] for e in store.files.values()}
    texts = " ".join(c.text for c in found.values())
    assert "dredging" in texts and "Split" in texts and "reopened" not in texts


def test_an_unreachable_server_is_one_line_and_the_local_index_stays(docs: Path, tmp_path: Path, capsys) -> None:
    index = tmp_path / "index"
    assert ask(capsys, "--docs", docs, "--index-dir", index, QUESTIONS[0])[0] == 0
    before = (index / "CURRENT").read_text()
    env = {k: v for k, v in os.environ.items() if not k.startswith("RAG_")}
    env |= {"RAG_STORE": "milvus", "RAG_MILVUS_URI": "http://127.0.0.1:9"}  # the discard port: nothing listens
    result = subprocess.run(
        [sys.executable, "-m", "rag.ask", "--docs", str(docs), "--index-dir", str(index), QUESTIONS[0]],
        capture_output=True,
        text=True,
        env=env,
        timeout=300,
    )
    assert result.returncode == 1 and result.stdout == ""
    [line] = result.stderr.splitlines()
    assert line.startswith("error: Cannot use Milvus at http://127.0.0.1:9") and "RAG_MILVUS_URI" in line
    assert (index / "CURRENT").read_text() == before
    assert held_ids(disk.load(index)) and ask(capsys, "--docs", docs, "--index-dir", index, QUESTIONS[0])[0] == 0


@pytest.mark.parametrize(
    ("uri", "message"),
    [
        ("index.txt", "is neither a Milvus Lite file (a path ending in .db) nor a server address"),
        ("held.db", "is open in another process"),
    ],
)
def test_a_milvus_address_that_cannot_be_used_is_named_in_one_line(
    docs, tmp_path, capsys, monkeypatch, uri, message
) -> None:
    holder = None
    if uri == "held.db":  # another process has the Milvus Lite file open, as a running chat server does
        holder = subprocess.Popen(
            [
                sys.executable,
                "-c",
                f"from pymilvus import MilvusClient; MilvusClient({str(tmp_path / uri)!r}); input()",
            ],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
        )
        for _ in range(600):
            if (tmp_path / uri / "LOCK").exists():
                break
            time.sleep(0.1)
    monkeypatch.setenv("RAG_MILVUS_URI", str(tmp_path / uri))
    try:
        code, out, err = ask(
            capsys, "--docs", docs, "--index-dir", tmp_path / "index", "--store", "milvus", QUESTIONS[0]
        )
    finally:
        if holder is not None:
            holder.kill()
            holder.wait()
    assert code == 1 and out == ""
    [line] = err.splitlines()
    assert line.startswith("error: ") and message in line
