"""`python -m rag.ask` as a user runs it: answers with exact citations, abstains, and bad inputs."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from rag.ask import main, printable
from rag.prompts import NOT_FOUND

REPO = Path(__file__).resolve().parent.parent


def run(*args: str, cwd: Path = REPO) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if not k.startswith("RAG_")}
    return subprocess.run(
        [sys.executable, "-m", "rag.ask", *args], capture_output=True, text=True, cwd=cwd, env=env, timeout=600
    )


@pytest.fixture(scope="module")
def index_args(tmp_path_factory: pytest.TempPathFactory) -> list[str]:
    root = tmp_path_factory.mktemp("cli")
    return ["--docs", str(REPO / "seeds"), "--index-dir", str(root / "index")]


def ask_json(capsys, index_args: list[str], question: str) -> dict:
    assert main([*index_args, "--json", question]) == 0
    return json.loads(capsys.readouterr().out)


def test_first_run_builds_the_index_and_prints_one_json_object(tmp_path: Path) -> None:
    result = run(
        "--docs", str(REPO / "seeds"), "--index-dir", str(tmp_path / "index"), "--json", "Who led Russia's delegation?"
    )
    assert result.returncode == 0, result.stderr
    answer = json.loads(result.stdout)  # exactly one JSON object: json.loads refuses trailing text
    assert set(answer) >= {"question", "answer", "abstained", "citations", "passages", "timings_ms"}
    assert answer["question"] == "Who led Russia's delegation?" and answer["abstained"] is False
    assert "Medinsky" in answer["answer"]
    for citation in answer["citations"]:
        assert set(citation) >= {"n", "doc_id", "source", "title", "start", "end", "quote"}
    for passage in answer["passages"]:
        assert set(passage) >= {"n", "doc_id", "source", "title", "start", "end", "text", "score"}
    assert (tmp_path / "index" / "CURRENT").is_file()


@pytest.mark.parametrize(
    ("question", "fact"),
    [
        ("Who led Russia's delegation?", "Medinsky"),
        ("Who heads Ukraine's delegation?", "Umerov"),
        ("Where will the talks take place?", "Dolmabahçe Palace"),
        # typed the way people type: lower case, no accents, a short spelling of a name
        ("where is the dolmabahce palace?", "Bosphorus"),
        ("what did medinsky say russia wants to address?", "root causes"),
        ("when did the kremlin say putin wasn't coming?", "Wednesday evening"),
    ],
)
def test_answers_with_a_citation_quoting_the_fact(capsys, index_args, question: str, fact: str) -> None:
    answer = ask_json(capsys, index_args, question)
    assert not answer["abstained"] and fact in answer["answer"]
    quoting = [c for c in answer["citations"] if fact in c["quote"]]
    assert quoting, answer
    file_text = (REPO / "seeds" / quoting[0]["source"]).read_text(encoding="utf-8")
    for c in answer["citations"]:
        assert file_text[c["start"] : c["end"]] == c["quote"]
        assert f"[{c['n']}]" in answer["answer"]
        assert any(p["n"] == c["n"] and p["start"] <= c["start"] and c["end"] <= p["end"] for p in answer["passages"])
    for p in answer["passages"]:
        assert file_text[p["start"] : p["end"]] == p["text"]


@pytest.mark.parametrize(
    "question",
    [
        "What is the capital of Australia?",
        "Who won the 2018 World Cup final?",
        # near misses: the article names Medinsky and Friday, but gives no age and no hour
        "How old is Vladimir Medinsky?",
        "what time on friday do the talks start?",
    ],
)
def test_abstains_when_the_article_does_not_say(capsys, index_args, question: str) -> None:
    answer = ask_json(capsys, index_args, question)
    assert answer["abstained"] is True
    assert answer["answer"] == NOT_FOUND and answer["citations"] == []


def test_text_output_lists_numbered_sources(capsys, index_args) -> None:
    assert main([*index_args, "Who led Russia's delegation?"]) == 0
    out = capsys.readouterr().out
    assert "Medinsky" in out and "Sources:" in out and "[1] Zelenskyy sends team" in out


@pytest.mark.parametrize(
    ("args", "code", "message"),
    [
        ([""], 2, "the question is empty"),
        (["   "], 2, "the question is empty"),
        ([], 2, "the question is empty"),
        (["x" * 2001], 1, "the limit is 2000"),
        (["--no-such-flag", "Who?"], 2, "unrecognized arguments"),
        (["--k", "0", "Who?"], 1, "k must be at least 1"),
    ],
)
def test_bad_input_gets_one_line_and_an_exit_code(args: list[str], code: int, message: str) -> None:
    result = run(*args)
    assert result.returncode == code
    assert message in result.stderr and "Traceback" not in result.stderr
    assert result.stdout == ""


def test_empty_folder_names_the_folder_and_extensions(tmp_path: Path) -> None:
    empty = tmp_path / "articles"
    empty.mkdir()
    result = run("--docs", str(empty), "--index-dir", str(tmp_path / "index"), "Who?")
    assert result.returncode == 1 and "Traceback" not in result.stderr
    [line] = result.stderr.strip().splitlines()
    assert str(empty) in line and "*.txt, *.md, *.html" in line


@pytest.mark.parametrize(
    ("text", "shown"),
    [
        ("plain name.txt", "plain name.txt"),
        ("two\nlines.txt", "two\\nlines.txt"),
        ("tab\there.txt", "tab\\there.txt"),
        ("\x1b[31mred.txt", "\\x1b[31mred.txt"),
        ("line\u2028separator.md", "line\\u2028separator.md"),
        ("Dolmabahçe – “palace”.txt", "Dolmabahçe – “palace”.txt"),
    ],
)
def test_printable_escapes_control_characters_only(text: str, shown: str) -> None:
    assert printable(text) == shown


def test_a_newline_in_a_file_name_stays_inside_its_sources_line(tmp_path: Path, capsys) -> None:
    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "harbour\nnews.txt").write_text(
        "Harbour news\n\nThe harbour master of Port Quillan is Ada Vexley, appointed in May.\n", encoding="utf-8"
    )
    args = ["--docs", str(docs), "--index-dir", str(tmp_path / "index")]
    assert main([*args, "Who is the harbour master of Port Quillan?"]) == 0
    lines = capsys.readouterr().out.splitlines()
    sources = lines[lines.index("Sources:") + 1 :]
    assert sources == [
        "[1] Harbour news (harbour\\nnews.txt, characters 14-81)",
        "    “The harbour master of Port Quillan is Ada Vexley, appointed in May.”",
    ]
