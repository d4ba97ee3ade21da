"""Feeds and archive exports through an update: one article per item, each with its own id, so adding,
changing or deleting an item re-embeds only that item; a bad row is skipped in one line naming the
file and the item; a PDF and an export answer with a link back to the story. Real model and both
stores."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from format_files import RSS, two_column_pdf
from stores import held_chunks

from rag import ingest
from rag.articles import read_article
from rag.ask import main as ask_main
from rag.settings import Settings


def row(n: int, text: str | None = None, **more) -> dict:
    return {
        "id": f"story-{n}",
        "title": f"Harbour report {n}",
        "date": f"2025-05-{n:02d}",
        "author": f"Reporter {n}",
        "url": f"https://gazette.example/story-{n}",
        "text": text or f"The harbour of Quillan handled {n * 100} ships in week {n}, the port authority said.",
        **more,
    }


def write_export(path: Path, rows: list[dict], bad_line: bool = False) -> None:
    lines = [json.dumps(r) for r in rows]
    if bad_line:
        lines.insert(1, "{not json")
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


@pytest.mark.parametrize("store", ["faiss", "milvus"])
def test_an_export_indexes_one_article_per_item_and_re_embeds_only_what_changed(docs, tmp_path, store) -> None:
    settings = Settings.from_env(env={}, docs_dir=docs, index_dir=tmp_path / "index", store=store)
    export = docs / "archive.jsonl"
    write_export(export, [row(n) for n in range(1, 6)], bad_line=True)
    index, report = ingest.update(settings)
    items = {s: e for s, e in index.files.items() if s.startswith("archive.jsonl#")}
    assert len(items) == 5 and report.embedded_files == 6  # the seed and five items
    assert report.files == 2 and report.articles == 6 and "2 files (6 articles)" in report.summary()
    assert dict(report.skipped) == {"archive.jsonl line 2": next(iter(dict(report.skipped).values()))}
    assert items["archive.jsonl#story-3"]["url"] == "https://gazette.example/story-3"
    assert items["archive.jsonl#story-3"]["published"] == "2025-05-03"
    assert items["archive.jsonl#story-3"]["author"] == "Reporter 3"

    # One item changed, one deleted, one added: only two are embedded, one removed, the rest kept.
    rows = [row(n) for n in (1, 2, 4, 5, 6)]
    rows[2] = row(4, "The harbour of Quillan closed on Friday for dredging, the port authority said.")
    write_export(export, rows)
    index, report = ingest.update(settings)
    assert (report.embedded_files, report.removed_files) == (2, 0)  # its file is still here
    assert "archive.jsonl#story-3" not in index.files and "archive.jsonl#story-6" in index.files
    held = held_chunks(index)
    assert len(held) == len(index) == sum(e["chunks"] for e in index.files.values())
    texts = " ".join(c.text for c in held.values())
    assert "dredging" in texts and "400 ships" not in texts and "300 ships" not in texts

    _, report = ingest.update(settings)
    assert not report.changed  # the export's bytes did not change: nothing is read again
    export.unlink()
    index, report = ingest.update(settings)
    assert report.removed_files == 5 and not any(s.startswith("archive.jsonl") for s in index.files)
    assert "item_files" in index.manifest and "archive.jsonl" not in index.manifest["item_files"]


def test_a_feed_indexes_its_items_with_dates_bylines_and_links(docs, tmp_path, capsys) -> None:
    (docs / "wire.rss").write_text(RSS, encoding="utf-8")
    settings = Settings.from_env(env={}, docs_dir=docs, index_dir=tmp_path / "index")
    index, report = ingest.update(settings)
    items = {s: e for s, e in index.files.items() if s.startswith("wire.rss#")}
    assert len(items) == 2  # the third item has no text: skipped in one line naming the feed and the item
    assert [reason for source, reason in report.skipped if source.startswith("wire.rss")] == ["no text; skipped it"]
    strike = items["wire.rss#hg-2025-0515-001"]
    assert (strike["published"], strike["author"]) == ("2025-05-15", "Jane Doe")
    assert strike["url"] == "https://harbour.example/news/port-strike-ends"
    args = ["--docs", str(docs), "--index-dir", str(tmp_path / "index")]
    assert ask_main([*args, "When did the dock workers return to work?"]) == 0
    out = capsys.readouterr().out
    assert "Tuesday" in out and "— 15 May 2025, by Jane Doe" in out
    assert "    link: https://harbour.example/news/port-strike-ends" in out


def test_a_pdf_and_an_export_answer_with_their_quotes_and_a_link_back(docs, tmp_path, capsys) -> None:
    (docs / "gazette.pdf").write_bytes(two_column_pdf())
    write_export(docs / "archive.jsonl", [row(7, "The ferry Saint Brendan ran aground off Quillan on 7 May.")])
    args = ["--docs", str(docs), "--index-dir", str(tmp_path / "index"), "--json"]
    assert ask_main([*args, "Which ferry ran aground off Quillan?"]) == 0
    answer = json.loads(capsys.readouterr().out)
    assert "Saint Brendan" in answer["answer"]
    [cited] = [p for p in answer["passages"] if p["n"] == answer["citations"][0]["n"]]
    assert cited["url"] == "https://gazette.example/story-7" and cited["source"] == "archive.jsonl#story-7"
    assert ask_main([*args[:-1], "Which ferry ran aground off Quillan?"]) == 0
    assert "    link: https://gazette.example/story-7" in capsys.readouterr().out

    # A question only the PDF answers: cited with offsets into the PDF's extracted text.
    assert ask_main([*args, "When did the council meet to discuss the harbour budget?"]) == 0
    answer = json.loads(capsys.readouterr().out)
    assert "Monday" in answer["answer"]
    pdf_text = read_article("gazette.pdf", (docs / "gazette.pdf").read_bytes()).text
    cited = [c for c in answer["citations"] if c["source"] == "gazette.pdf"]
    assert cited and all(pdf_text[c["start"] : c["end"]] == c["quote"] for c in cited)
