"""The model commands as a user runs them: `rag.ask --model` end to end, and `rag.model`.

Subprocesses, the real MiniLM and the real llama.cpp on the tiny random GGUF; the index is built
once in a temporary folder from a copy of the seed article.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from tiny_gguf import write_tiny_gguf

from rag.articles import read_article

pytestmark = pytest.mark.slow

REPO = Path(__file__).resolve().parent.parent
QUESTION = "Who led Russia's delegation?"
ANSWER_KEYS = {
    "question",
    "answer",
    "short_answer",
    "abstained",
    "answerer",
    "claims",
    "citations",
    "passages",
    "timings_ms",
}


def run(module: str, *args: str, **env: str) -> subprocess.CompletedProcess:
    # Loading MiniLM in the test process sets HF_HUB_OFFLINE; subprocesses start without it
    # unless a test passes it, so each test decides which offline path it exercises.
    environ = {k: v for k, v in os.environ.items() if not k.startswith("RAG_") and k != "HF_HUB_OFFLINE"}
    # One llama.cpp thread: the test suite shares the machine's cores. Never reach the hub.
    environ |= {"RAG_N_THREADS": "1", "HF_ENDPOINT": "http://127.0.0.1:9"} | env
    return subprocess.run(
        [sys.executable, "-m", module, *args], capture_output=True, text=True, cwd=REPO, env=environ, timeout=600
    )


@pytest.fixture(scope="module")
def folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("model_cli")
    (root / "docs").mkdir()
    seed = REPO / "seeds" / "000_681fe9c43916d851.txt"
    (root / "docs" / seed.name).write_bytes(seed.read_bytes())
    write_tiny_gguf(root / "tiny.gguf")
    return root


def ask(folder: Path, *args: str) -> subprocess.CompletedProcess:
    return run("rag.ask", "--docs", str(folder / "docs"), "--index-dir", str(folder / "index"), *args)


def test_strict_json_answer_has_supported_citations_at_exact_offsets(folder: Path) -> None:
    result = ask(folder, "--model", str(folder / "tiny.gguf"), "--strict", "--json", QUESTION)
    assert result.returncode == 0, result.stderr
    answer = json.loads(result.stdout)
    assert set(answer) == ANSWER_KEYS
    assert answer["answerer"] == "llama.cpp:tiny.gguf"
    assert answer["citations"], answer["answer"]
    labels = {p["n"] for p in answer["passages"]}
    for c in answer["citations"]:
        assert c["n"] in labels
        assert isinstance(c["supported"], bool) and isinstance(c["support"], float)
        path = folder / "docs" / c["source"]
        text = read_article(c["source"], path.read_bytes()).text
        assert text[c["start"] : c["end"]] == c["quote"]
    assert {"first_token", "generate", "check"} <= set(answer["timings_ms"])


def test_streamed_answer_flags_unsupported_sentences(folder: Path) -> None:
    """Without --strict the tiny model writes markerless gibberish: it is printed, then flagged."""
    result = ask(folder, "--model", str(folder / "tiny.gguf"), "--max-tokens", "40", QUESTION)
    assert result.returncode == 0, result.stderr
    streamed, _, rest = result.stdout.partition("\nChecked answer:\n")
    assert len(streamed.strip()) >= 20  # the 40 tokens, as they came
    assert "(unsupported)" in rest
    assert "Sources:" in rest and "(unsupported: best match scores" in rest


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("missing.gguf", None, "does not exist"),
        ("notes.gguf", b"just some text, not a model", "is not a GGUF model file"),
    ],
)
def test_bad_model_file_is_one_line_and_exit_1(
    folder: Path, tmp_path: Path, name: str, content: bytes | None, message: str
) -> None:
    path = tmp_path / name
    if content is not None:
        path.write_bytes(content)
    result = ask(folder, "--model", str(path), QUESTION)
    assert result.returncode == 1
    assert result.stdout == ""
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: ") and message in lines[0]


def test_bad_model_from_the_environment_is_reported_too(folder: Path, tmp_path: Path) -> None:
    result = run("rag.ask", "--docs", str(folder / "docs"), QUESTION, RAG_MODEL_PATH=str(tmp_path / "nope.gguf"))
    assert result.returncode == 1
    assert "does not exist" in result.stderr and "Traceback" not in result.stderr


def test_download_without_network_fails_with_one_line(tmp_path: Path) -> None:
    result = run("rag.model", "download", "Qwen/Qwen2.5-1.5B-Instruct-GGUF", "x.gguf", "--dir", str(tmp_path))
    assert result.returncode == 1
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: Cannot reach")
    assert "copy it into" in lines[0]
    assert not any(tmp_path.iterdir())


def test_download_with_hub_offline_says_so(tmp_path: Path) -> None:
    result = run("rag.model", "download", "some/repo", "x.gguf", "--dir", str(tmp_path), HF_HUB_OFFLINE="1")
    assert result.returncode == 1
    [line] = result.stderr.strip().splitlines()
    assert line.startswith("error: HF_HUB_OFFLINE is set") and "copy it into" in line


def test_download_of_a_file_already_there_does_not_download(tmp_path: Path) -> None:
    write_tiny_gguf(tmp_path / "tiny.gguf")
    result = run("rag.model", "download", "some/repo", "tiny.gguf", "--dir", str(tmp_path))
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == str(tmp_path / "tiny.gguf")


def test_check_describes_a_gguf_and_rejects_other_files(folder: Path, tmp_path: Path) -> None:
    result = run("rag.model", "check", str(folder / "tiny.gguf"))
    assert result.returncode == 0, result.stderr
    assert "architecture: llama" in result.stdout and "chat template: yes" in result.stdout
    (tmp_path / "x.gguf").write_text("hello")
    result = run("rag.model", "check", str(tmp_path / "x.gguf"))
    assert result.returncode == 1 and len(result.stderr.strip().splitlines()) == 1
