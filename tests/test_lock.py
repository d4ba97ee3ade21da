"""Readers and writers at once, with real processes: one writer at a time (the second waits, naming
the first), loads that race a save are retried rather than called damage, and two writers both
finish with nothing lost."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from rag import disk

pytestmark = pytest.mark.slow

REPO = Path(__file__).resolve().parent.parent
SEED = REPO / "seeds" / "000_681fe9c43916d851.txt"


def python(script: str, *args: object, **popen) -> subprocess.Popen:
    env = {k: v for k, v in os.environ.items() if not k.startswith("RAG_")} | popen.pop("env", {})
    return subprocess.Popen(
        [sys.executable, "-c", textwrap.dedent(script), *map(str, args)], text=True, env=env, **popen
    )


HOLDER = """
    import sys
    from pathlib import Path
    from rag.lock import writer_lock

    with writer_lock(Path(sys.argv[1]), timeout_s=0):
        print("locked", flush=True)
        sys.stdin.readline()  # hold the lock until told to let go
"""


@pytest.fixture
def holder(tmp_path: Path):
    """A process holding the writer lock of tmp_path/index until a line is written to its stdin."""
    process = python(HOLDER, tmp_path / "index", stdin=subprocess.PIPE, stdout=subprocess.PIPE)
    try:
        assert process.stdout.readline() == "locked\n"
        yield process
    finally:
        process.kill()
        process.wait()


def test_a_second_writer_waits_for_the_first_and_names_it(docs: Path, tmp_path: Path, holder) -> None:
    command = [sys.executable, "-m", "rag.index", "--docs", str(docs), "--index-dir", str(tmp_path / "index")]
    writer = subprocess.Popen(command, stderr=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    try:
        line = writer.stderr.readline()  # the writer says so before it waits
        assert line == (
            f"note: the index in {tmp_path / 'index'}/ is being updated by process {holder.pid}; "
            "waiting for it to finish.\n"
        )
        assert writer.poll() is None  # still waiting
        holder.stdin.write("done\n")
        holder.stdin.flush()
        out, err = writer.communicate(timeout=600)
    finally:
        writer.kill()
    assert writer.returncode == 0, err
    assert "Indexed 1 files" in out and "Traceback" not in err
    assert disk.load(tmp_path / "index").files.keys() == {SEED.name}


def test_a_writer_that_waited_too_long_says_who_holds_the_lock(docs: Path, tmp_path: Path, holder) -> None:
    command = [sys.executable, "-m", "rag.index", "--docs", str(docs), "--index-dir", str(tmp_path / "index")]
    env = {k: v for k, v in os.environ.items() if not k.startswith("RAG_")} | {"RAG_LOCK_TIMEOUT_S": "0"}
    result = subprocess.run(command, capture_output=True, text=True, env=env, timeout=600)
    assert result.returncode == 1 and result.stdout == ""
    assert result.stderr.splitlines()[-1] == (
        f"error: The index in {tmp_path / 'index'}/ is still being updated by process {holder.pid} after 0 s; "
        "try again when it has finished (or raise RAG_LOCK_TIMEOUT_S)."
    )


# A writer that saves a new generation again and again: each round changes its own article and
# refreshes, as `python -m rag.ask` does after a file was edited.
WRITER = """
    import sys
    from pathlib import Path
    from rag.pipeline import Pipeline
    from rag.settings import Settings

    docs, index, name, rounds = Path(sys.argv[1]), Path(sys.argv[2]), sys.argv[3], int(sys.argv[4])
    settings = Settings.from_env(docs_dir=docs, index_dir=index)
    for n in range(rounds):
        (docs / f"{name}.txt").write_text(f"{name} log\\n\\nThe {name} ticker reached round {n}.\\n")
        Pipeline(settings).refresh()
    (index.parent / f"{name}.done").write_text("")
"""

# A reader that loads the index until the writer is done; it prints what went wrong, if anything.
READER = """
    import json, sys
    from pathlib import Path
    from rag import disk
    from rag.errors import RagError

    index, done = Path(sys.argv[1]), Path(sys.argv[2])
    loads, failures, seen = 0, [], set()
    while not done.exists():
        try:
            loaded = disk.load(index)
        except RagError as err:
            failures.append(str(err))
            continue
        loads += 1
        seen.add(tuple(sorted(c.text for c in loaded.chunks.values() if "ticker" in c.text)))
    print(json.dumps({"loads": loads, "failures": failures, "states": len(seen)}))
"""


def test_loads_racing_saves_are_retried_never_called_damage(docs: Path, tmp_path: Path) -> None:
    index = tmp_path / "index"
    first = python(WRITER, docs, index, "alpha", 1)  # an index to read from the start
    assert first.wait(timeout=600) == 0
    reader = python(READER, index, tmp_path / "beta.done", stdout=subprocess.PIPE)
    writer = python(WRITER, docs, index, "beta", 30)
    try:
        assert writer.wait(timeout=900) == 0
        out, _ = reader.communicate(timeout=300)
    finally:
        reader.kill()
        writer.kill()
    result = json.loads(out)
    assert result["failures"] == []
    assert result["loads"] > 0 and result["states"] > 1  # the reader saw the index change under it


def test_two_writers_both_finish_and_nothing_is_lost(docs: Path, tmp_path: Path) -> None:
    index = tmp_path / "index"
    writers = [python(WRITER, docs, index, name, 12, stderr=subprocess.PIPE) for name in ("alpha", "beta")]
    try:
        errors = [w.communicate(timeout=900)[1] for w in writers]
    finally:
        for w in writers:
            w.kill()
    assert [w.returncode for w in writers] == [0, 0], errors
    assert not any("Traceback" in e for e in errors)
    texts = " ".join(c.text for c in disk.load(index).chunks.values())
    assert "The alpha ticker reached round 11." in texts and "The beta ticker reached round 11." in texts
    assert not any(p.name.endswith(".partial") for p in index.iterdir())
