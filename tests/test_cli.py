"""`python -m rag.ask` as a user runs it: answers with exact citations, abstains, and bad inputs."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from rag.ask import main, printable, source_label
from rag.prompts import NOT_FOUND
from rag.records import Passage

REPO = Path(__file__).resolve().parent.parent


def run(*args: str | bytes, cwd: Path = REPO) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if not k.startswith("RAG_")}
    return subprocess.run(
        [sys.executable, "-m", "rag.ask", *args], capture_output=True, text=True, cwd=cwd, env=env, timeout=600
    )


@pytest.fixture(scope="module", params=["faiss", "milvus"])
def index_args(request, tmp_path_factory: pytest.TempPathFactory) -> list[str]:
    """The seed articles' index, once per store backend (Milvus: a Milvus Lite file beside it)."""
    root = tmp_path_factory.mktemp("cli")
    return ["--docs", str(REPO / "seeds"), "--index-dir", str(root / "index"), "--store", request.param]


def ask_json(capsys, index_args: list[str], question: str) -> dict:
    assert main([*index_args, "--json", question]) == 0
    return json.loads(capsys.readouterr().out)


def test_first_run_builds_the_index_and_prints_one_json_object(tmp_path: Path) -> None:
    result = run(
        "--docs", str(REPO / "seeds"), "--index-dir", str(tmp_path / "index"), "--json", "Who led Russia's delegation?"
    )
    assert result.returncode == 0, result.stderr
    answer = json.loads(result.stdout)  # exactly one JSON object: json.loads refuses trailing text
    assert set(answer) >= {
        "question",
        "answer",
        "short_answer",
        "abstained",
        "claims",
        "citations",
        "passages",
        "timings_ms",
    }
    assert answer["question"] == "Who led Russia's delegation?" and answer["abstained"] is False
    assert "Medinsky" in answer["answer"]
    for citation in answer["citations"]:
        assert set(citation) >= {"n", "doc_id", "source", "title", "start", "end", "quote", "score"}
    for passage in answer["passages"]:
        assert set(passage) >= {
            "n",
            "doc_id",
            "source",
            "title",
            "start",
            "end",
            "text",
            "score",
            "published",
            "author",
        }
    assert (tmp_path / "index" / "CURRENT").is_file()


@pytest.mark.parametrize(
    ("question", "fact"),
    [
        ("Who led Russia's delegation?", "Medinsky"),
        pytest.param(
            "Who heads Ukraine's delegation?",
            "Umerov",
            marks=pytest.mark.xfail(
                strict=True,
                reason="known miss of the shipped reader: its best sentence (0.89) is Zelenskyy's, on a delegation "
                "'led by the defence ministry', not the one naming Umerov",
            ),
        ),
        ("Where will the talks take place?", "Dolmabahçe Palace"),
        # typed the way people type: lower case, no accents, a short spelling of a name
        ("where is the dolmabahce palace?", "Bosphorus"),
        ("what did medinsky say russia wants to address?", "root causes"),
        pytest.param(
            "when did the kremlin say putin wasn't coming?",
            "Wednesday evening",
            marks=pytest.mark.xfail(
                strict=True,
                reason="known miss of the shipped reader: it finds the Wednesday-evening sentence but reads it "
                "0.13, under the 0.66 it needs to answer, so it says 'not found'",
            ),
        ),
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
        "[1] Harbour news — paragraph 1 (harbour\\nnews.txt, characters 14-81)",
        "    “The harbour master of Port Quillan is Ada Vexley, appointed in May.”",
    ]


def test_a_sentence_asking_the_question_is_never_the_answer(tmp_path: Path, capsys) -> None:
    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "harbour.txt").write_text(
        "Harbour news\n\nWho is the harbour master of Port Quillan? Readers have asked us all week. "
        "The harbour master of Port Quillan is Ada Vexley, appointed in May.\n",
        encoding="utf-8",
    )
    args = ["--docs", str(docs), "--index-dir", str(tmp_path / "index"), "--json"]
    assert main([*args, "Who is the harbour master of Port Quillan?"]) == 0
    answer = json.loads(capsys.readouterr().out)
    assert not answer["abstained"] and "Vexley" in answer["answer"]
    assert all("?" not in c["quote"] for c in answer["citations"])


DATED = {
    "may.txt": "Quillan names a harbour master\nPublished 3 May 2025\n\n"
    "The harbour master of Port Quillan is Ada Vexley, appointed this week.\n",
    "june.txt": "Quillan replaces its harbour master\nPublished 12 June 2025\n\n"
    "The harbour master of Port Quillan is Tomas Brom, who replaced Ada Vexley.\n",
}


@pytest.mark.parametrize(
    ("dates", "named", "dated"),
    [
        (["--until", "2025-05-31"], "Vexley", "2025-05-03"),
        (["--since", "2025-06-01"], "Brom", "2025-06-12"),
    ],
)
def test_since_and_until_search_only_articles_dated_in_range(
    tmp_path: Path, capsys, dates: list[str], named: str, dated: str
) -> None:
    docs = tmp_path / "docs"
    docs.mkdir()
    for name, text in DATED.items():
        (docs / name).write_text(text, encoding="utf-8")
    args = ["--docs", str(docs), "--index-dir", str(tmp_path / "index"), "--json", *dates]
    assert main([*args, "Who is the harbour master of Port Quillan?"]) == 0
    answer = json.loads(capsys.readouterr().out)
    assert named in answer["answer"]
    assert {p["published"] for p in answer["passages"]} == {dated}


BYLINED = {
    "ferry.txt": "Quillan ferry sails again\nBy Jane Doe\nPublished 3 May 2025\n\n"
    "The ferry to Port Quillan sailed again on Monday after a two-week strike by its crew.\n",
    "harbour.txt": "Quillan names a harbour master\nPublished 12 June 2025\n\n"
    "The harbour master of Port Quillan is Tomas Brom, appointed this week.\n",
}


@pytest.fixture(scope="module")
def bylined_args(tmp_path_factory: pytest.TempPathFactory) -> list[str]:
    root = tmp_path_factory.mktemp("bylines")
    docs = root / "docs"
    docs.mkdir()
    for name, text in BYLINED.items():
        (docs / name).write_text(text, encoding="utf-8")
    return ["--docs", str(docs), "--index-dir", str(root / "index")]


@pytest.mark.parametrize(
    ("question", "source_line"),
    [
        (
            "When did the ferry to Port Quillan sail again?",
            "[1] Quillan ferry sails again — 3 May 2025, by Jane Doe, paragraphs 1-2 (ferry.txt, characters ",
        ),
        (
            "Who is the harbour master of Port Quillan?",
            "[1] Quillan names a harbour master — 12 June 2025, paragraphs 1-2 (harbour.txt, characters ",
        ),
    ],
)
def test_a_source_names_the_byline_its_article_states(capsys, bylined_args, question: str, source_line: str) -> None:
    assert main([*bylined_args, question]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert any(line.startswith(source_line) for line in lines), lines


def test_json_passages_carry_the_author_or_null(capsys, bylined_args) -> None:
    answer = ask_json(capsys, bylined_args, "Who is the harbour master of Port Quillan?")
    assert {p["source"]: p["author"] for p in answer["passages"]} == {"ferry.txt": "Jane Doe", "harbour.txt": None}


@pytest.mark.parametrize(
    ("fields", "shown"),
    [
        (
            {"published": "2025-05-15", "author": "Jane Doe", "paragraphs": (3, 5)},
            " — 15 May 2025, by Jane Doe, paragraphs 3-5",
        ),
        ({"published": "2025-05-15", "paragraphs": (3, 5)}, " — 15 May 2025, paragraphs 3-5"),
        ({"author": "Jane Doe", "paragraphs": (2, 2)}, " — by Jane Doe, paragraph 2"),
        ({"paragraphs": (2, 2)}, " — paragraph 2"),
        ({"author": "Jane\nDoe", "paragraphs": (2, 2)}, " — by Jane\\nDoe, paragraph 2"),
    ],
)
def test_source_label_joins_date_byline_and_paragraphs(fields: dict, shown: str) -> None:
    assert source_label(Passage(1, "d", "a.txt", "T", 0, 1, "x", 1.0, **fields)) == shown


# --- bad input is never a traceback ---------------------------------------------------------------


def test_a_question_that_is_not_utf8_is_refused_before_any_index_is_loaded(tmp_path: Path) -> None:
    index = tmp_path / "index"
    # A terminal set to Latin-1 sends "Erdoğan" like this; Python hands it on as lone surrogates.
    result = run("--docs", str(REPO / "seeds"), "--index-dir", str(index), b"Who is Erdo\xf0an?")
    assert result.returncode == 2 and result.stdout == ""
    assert result.stderr.splitlines() == [
        "error: The question holds bytes that are not UTF-8 text; type it again in plain text."
    ]
    assert not index.exists()  # refused before the index was touched


@pytest.mark.parametrize(
    ("flag", "make", "message"),
    [
        ("--docs", lambda p: p.write_text("one article"), "is a file, not a folder; pass --docs with the folder"),
        ("--model", lambda p: p.mkdir(), "is a folder, not a model file; pass the path of a .gguf file"),
    ],
)
def test_a_path_of_the_wrong_kind_is_named_for_what_it_is(tmp_path: Path, flag: str, make, message: str) -> None:
    path = tmp_path / "given"
    make(path)
    result = run(flag, str(path), "--index-dir", str(tmp_path / "index"), "Who led Russia's delegation?")
    assert result.returncode == 1 and result.stdout == ""
    [line] = result.stderr.splitlines()
    assert line.startswith(f"error: {path} {message}")
    assert not (tmp_path / "index").exists()


# Ctrl-C, delivered as the real signal from inside the work it interrupts.
INTERRUPTED = """
    import signal, sys
    from rag import bm25, embedding
    from rag.index import main

    def interrupt(*args, **kwargs):
        # raise_signal sends SIGINT to this thread and runs its handler before returning. os.kill
        # sends it to the process, whose other threads (onnxruntime's, torch's) may take it and set
        # the flag only later: on a loaded machine the line below then ran first.
        signal.raise_signal(signal.SIGINT)
        raise AssertionError("SIGINT did not interrupt")

    if sys.argv[1] == "embedding":
        embedding.Embedder.encode_documents = interrupt
    else:
        bm25.Bm25.save = interrupt  # in the middle of writing the new generation
    sys.exit(main(sys.argv[2:]))
"""


@pytest.mark.parametrize("during", ["embedding", "saving"])
def test_ctrl_c_while_indexing_keeps_the_previous_index(docs: Path, tmp_path: Path, during: str) -> None:
    from rag import disk
    from rag.index import main as index_main

    index = tmp_path / "index"
    assert index_main(["--docs", str(docs), "--index-dir", str(index)]) == 0
    before = (index / "CURRENT").read_text()
    (docs / "late.txt").write_text("Late news\n\nA ferry ran aground near Split on Sunday.\n")
    command = [
        sys.executable,
        "-c",
        textwrap.dedent(INTERRUPTED),
        during,
        "--docs",
        str(docs),
        "--index-dir",
        str(index),
    ]
    result = subprocess.run(command, capture_output=True, text=True, timeout=600)
    assert result.returncode == 130
    assert result.stderr.splitlines()[-1] == "interrupted; the previous index is still in use"
    assert "Traceback" not in result.stderr
    assert (index / "CURRENT").read_text() == before
    assert "late.txt" not in disk.load(index).files
    assert not any(p.name.endswith(".partial") for p in index.iterdir())
