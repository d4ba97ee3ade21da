"""`python -m eval.squad`: SQuAD v1.1 and v2.0 shapes → docs/*.txt and a Q&A file, on tiny hand-written files."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from eval.pairs import load_pairs
from eval.squad import article_title, convert, file_name, main
from rag.articles import read_article

V1 = {
    "version": "1.1",
    "data": [
        {
            "title": "Caf%C3%A9_du_Monde",
            "paragraphs": [
                {
                    "context": "Café du Monde is a coffee shop in New Orleans.\nIt opened in 1862.",
                    "qas": [
                        {
                            "id": "q1",
                            "question": "When did it open? ",
                            "answers": [
                                {"text": "1862", "answer_start": 60},
                                {"text": "1862", "answer_start": 60},
                                {"text": "in 1862", "answer_start": 57},
                            ],
                        }
                    ],
                },
                {
                    "context": "It is known for beignets.",
                    "qas": [{"id": "q2", "question": "What is it known for?", "answers": [{"text": "beignets"}]}],
                },
            ],
        },
        {
            "title": "Sky_(United_Kingdom)",
            "paragraphs": [
                {
                    "context": "Sky is a broadcaster.",
                    "qas": [{"id": "q3", "question": "What is Sky?", "answers": [{"text": "a broadcaster"}]}],
                }
            ],
        },
    ],
}

V2 = {
    "version": "v2.0",
    "data": [
        {
            "title": "Normans",
            "paragraphs": [
                {
                    "context": "The Normans gave their name to Normandy.",
                    "qas": [
                        {
                            "id": "a",
                            "question": "What region?",
                            "answers": [{"text": "Normandy"}],
                            "is_impossible": False,
                        },
                        {
                            "id": "b",
                            "question": "Who named Denmark?",
                            "answers": [],
                            "plausible_answers": [{"text": "Normans"}],
                            "is_impossible": True,
                        },
                    ],
                }
            ],
        }
    ],
}


def write(tmp_path: Path, data: dict) -> Path:
    path = tmp_path / "squad.json"
    path.write_text(json.dumps(data), encoding="utf-8")
    return path


def test_v1_articles_are_title_then_blank_line_separated_paragraphs(tmp_path: Path) -> None:
    result = convert(write(tmp_path, V1), tmp_path / "out")
    assert (result.articles, result.held_out, result.questions, result.unanswerable) == (2, 0, 3, 0)
    docs = sorted((tmp_path / "out" / "docs").iterdir())
    assert [d.name for d in docs] == ["000_Café_du_Monde.txt", "001_Sky_United_Kingdom.txt"]
    text = docs[0].read_text(encoding="utf-8")
    assert text == (
        "Café du Monde\n\nCafé du Monde is a coffee shop in New Orleans. It opened in 1862.\n\n"
        "It is known for beignets.\n"
    )
    assert read_article(docs[0].name, docs[0].read_bytes()).title == "Café du Monde"


def test_v1_questions_keep_distinct_answers_and_their_doc(tmp_path: Path) -> None:
    convert(write(tmp_path, V1), tmp_path / "out")
    pairs = load_pairs(tmp_path / "out" / "qa.jsonl")
    assert [(p.id, p.question, p.answers, p.doc) for p in pairs] == [
        ("q1", "When did it open?", ("1862", "in 1862"), "000_Café_du_Monde.txt"),
        ("q2", "What is it known for?", ("beignets",), "000_Café_du_Monde.txt"),
        ("q3", "What is Sky?", ("a broadcaster",), "001_Sky_United_Kingdom.txt"),
    ]


def test_v2_impossible_questions_have_no_answers(tmp_path: Path) -> None:
    result = convert(write(tmp_path, V2), tmp_path / "out")
    assert result.unanswerable == 1
    pairs = {p.id: p for p in load_pairs(tmp_path / "out" / "qa.jsonl")}
    assert pairs["a"].answers == ("Normandy",) and pairs["b"].answers == ()


def test_hold_out_drops_every_second_article_and_its_answers(tmp_path: Path) -> None:
    out = tmp_path / "out"
    convert(write(tmp_path, V1), out)  # a full conversion first: the held-out run must remove its files
    result = convert(write(tmp_path, V1), out, hold_out=True)
    assert (result.articles, result.held_out, result.unanswerable) == (1, 1, 1)
    assert [d.name for d in (out / "docs").iterdir()] == ["000_Café_du_Monde.txt"]
    q3 = {p.id: p for p in load_pairs(out / "qa.jsonl")}["q3"]
    assert q3.answers == () and q3.doc is None


@pytest.mark.parametrize(
    ("raw", "title", "name"),
    [
        ("Super_Bowl_50", "Super Bowl 50", "007_Super_Bowl_50.txt"),
        ("Fresno,_California", "Fresno, California", "007_Fresno_California.txt"),
        ("a/b", "a/b", "007_a_b.txt"),
        ("???", "???", "007_article.txt"),
    ],
)
def test_titles_and_file_names(raw: str, title: str, name: str) -> None:
    assert article_title(raw) == title and file_name(7, raw) == name


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (None, "does not exist"),
        ("{nope", "Cannot read"),
        ('{"data": [{"paragraphs": []}]}', "is not a SQuAD file"),
        ('{"data": [{"title": "T", "paragraphs": [{"qas": []}]}]}', "lacks 'context'"),
    ],
)
def test_bad_input_is_one_line_error(tmp_path: Path, capsys, content: str | None, message: str) -> None:
    path = tmp_path / "squad.json"
    if content is not None:
        path.write_text(content, encoding="utf-8")
    assert main([str(path), "--out", str(tmp_path / "out")]) == 1
    err = capsys.readouterr().err
    assert message in err and err.count("\n") == 1


def test_a_split_part_keeps_every_article_but_only_its_questions(tmp_path: Path) -> None:
    split = tmp_path / "split.json"
    split.write_text(json.dumps({"train": ["Caf%C3%A9_du_Monde"], "held_out": ["Sky_(United_Kingdom)"]}))
    assert (
        main([str(write(tmp_path, V1)), "--out", str(tmp_path / "out"), "--split", str(split), "--part", "held_out"])
        == 0
    )
    assert len(list((tmp_path / "out" / "docs").iterdir())) == 2
    assert [p.id for p in load_pairs(tmp_path / "out" / "qa.jsonl")] == ["q3"]


@pytest.mark.parametrize(
    ("split", "part", "message"),
    [
        ({"train": ["x"]}, "held_out", "has no list of titles named 'held_out' (it has: train)"),
        ({"held_out": ["Not_In_The_File"]}, "held_out", "None of the split's articles"),
    ],
)
def test_a_bad_split_is_one_line_error(tmp_path: Path, capsys, split: dict, part: str, message: str) -> None:
    path = tmp_path / "split.json"
    path.write_text(json.dumps(split))
    assert main([str(write(tmp_path, V1)), "--out", str(tmp_path / "out"), "--split", str(path), "--part", part]) == 1
    err = capsys.readouterr().err
    assert message in err and err.count("\n") == 1
