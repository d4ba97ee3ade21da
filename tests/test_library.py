"""The docs folder as a library: safe names, upload checks, listing and deleting, on a real index."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from format_files import JSONL_ROWS, RSS, single_column_pdf, two_column_pdf, word_document

from rag.articles import MB
from rag.errors import RagError
from rag.library import delete_article, list_articles, sanitise_name, save_upload
from rag.pipeline import Pipeline, make_answerer
from rag.settings import Settings

REPO = Path(__file__).resolve().parent.parent
SEED = REPO / "seeds" / "000_681fe9c43916d851.txt"
LIMIT = 5  # MB, the default max_file_mb
ARTICLE = (
    b"Lighthouse keepers meet\n\nThe keepers of the Orlen lighthouse elected Mira Tesk as their chair on Tuesday.\n"
)


@pytest.mark.parametrize(
    "name, expected",
    [
        ("story.txt", "story.txt"),
        ("Story One.MD", "Story_One.md"),
        ("../../etc/passwd.txt", "passwd.txt"),
        ("..\\..\\windows\\evil.html", "evil.html"),
        ("/abs/path/a.txt", "a.txt"),
        (".hidden.txt", "hidden.txt"),
        ("....txt", "article.txt"),
        ("café crème.txt", "cafe_creme.txt"),
        ("a<script>b.html", "a_script_b.html"),
        ("x" * 300 + ".txt", "x" * 96 + ".txt"),
    ],
)
def test_sanitise_name(name, expected):
    assert sanitise_name(name) == expected


@pytest.mark.parametrize("name", ["notes", "archive.txt.zip", "../secret", "slides.pptx", "data.json", "old.doc"])
def test_sanitise_name_refuses_other_extensions(name):
    with pytest.raises(RagError, match=r"upload \.txt, \.md, \.html, .*\.pdf, \.docx, .* or \.csv files only\.$"):
        sanitise_name(name)


@pytest.mark.parametrize(
    "name", ["report.PDF", "page.htm", "memo.docx", "wire.rss", "feed.atom", "news.xml", "a.jsonl", "b.csv"]
)
def test_sanitise_name_accepts_every_format_of_the_table(name):
    assert sanitise_name(name) == name.lower()


def test_save_upload_writes_inside_the_docs_folder(tmp_path):
    docs = tmp_path / "docs"
    path = save_upload(docs, "../../outside.txt", ARTICLE, LIMIT)
    assert path == docs / "outside.txt" and path.read_bytes() == ARTICLE
    assert not (tmp_path / "outside.txt").exists()
    assert sorted(p.name for p in docs.iterdir()) == ["outside.txt"]  # no partial file left behind


def test_save_upload_does_not_overwrite_unless_asked(tmp_path):
    save_upload(tmp_path, "a.txt", ARTICLE, LIMIT)
    with pytest.raises(RagError, match="already exists; choose to replace it"):
        save_upload(tmp_path, "a.txt", ARTICLE.replace(b"Tuesday", b"Monday"), LIMIT)
    assert (tmp_path / "a.txt").read_bytes() == ARTICLE
    save_upload(tmp_path, "a.txt", ARTICLE.replace(b"Tuesday", b"Monday"), LIMIT, overwrite=True)
    assert b"Monday" in (tmp_path / "a.txt").read_bytes()


@pytest.mark.parametrize(
    "data, message",
    [
        (b"x" * (LIMIT * MB + 1), r"big.txt is 5.0 MB; the limit is 5 MB per article file"),
        (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(range(256)), r"looks like a binary file"),
        (b"", r"has no article text"),
    ],
)
def test_save_upload_refuses_bad_files(tmp_path, data, message):
    with pytest.raises(RagError, match=message):
        save_upload(tmp_path, "big.txt", data, LIMIT)
    assert not list(tmp_path.iterdir())


def test_upload_is_answerable_at_once_and_delete_removes_it(tmp_path):
    docs = tmp_path / "docs"
    docs.mkdir()
    shutil.copy(SEED, docs / SEED.name)
    pipeline = Pipeline(Settings.from_env(env={}, docs_dir=docs, index_dir=tmp_path / "index"))
    pipeline.refresh()
    assert [r.source for r in list_articles(pipeline.store)] == [SEED.name]

    save_upload(docs, "lighthouse.txt", ARTICLE, LIMIT)
    report = pipeline.refresh()
    assert report.embedded_files == 1  # only the new file was embedded
    rows = {r.source: r for r in list_articles(pipeline.store)}
    assert rows["lighthouse.txt"].title == "Lighthouse keepers meet" and rows["lighthouse.txt"].chunks == 1
    answerer = make_answerer(pipeline.settings, pipeline)
    answer = pipeline.ask("Who did the Orlen lighthouse keepers elect as chair?", answerer)
    assert "Mira Tesk" in answer.text and answer.citations[0].source == "lighthouse.txt"

    delete_article(docs, "lighthouse.txt")
    pipeline.refresh()
    assert [r.source for r in list_articles(pipeline.store)] == [SEED.name]
    assert "Mira Tesk" not in pipeline.ask("Who did the Orlen lighthouse keepers elect as chair?", answerer).text


@pytest.mark.parametrize(
    "source, message",
    [
        ("../outside.txt", "is not a file in"),
        ("", "is not a file in"),
        ("missing.txt", "is no longer in"),
        ("notes.json", "is not an article file"),
        ("wire.rss#hg-001", r"is one item of wire\.rss; delete wire\.rss to remove all its items"),
    ],
)
def test_delete_refuses_what_is_not_an_article_of_the_folder(tmp_path, source, message):
    docs = tmp_path / "docs"
    docs.mkdir()
    (tmp_path / "outside.txt").write_text("keep me")
    (docs / "notes.json").write_text("{}")
    with pytest.raises(RagError, match=message):
        delete_article(docs, source)
    assert (tmp_path / "outside.txt").exists() and (docs / "notes.json").exists()


@pytest.mark.parametrize(
    "name, data, message",
    [
        ("memo.docx", word_document(), None),
        ("paper.pdf", two_column_pdf(), None),
        ("wire.rss", RSS.encode(), None),
        ("news.xml", RSS.encode(), None),
        ("archive.jsonl", ("\n".join(JSONL_ROWS) + "\n").encode(), None),
        ("scan.pdf", single_column_pdf([], drawing=True), r"^scan\.pdf has no text layer"),
        ("sitemap.xml", b"<urlset><url/></urlset>", r"^sitemap\.xml is not an RSS 2\.0 or Atom feed"),
        ("bad.jsonl", b"not json\n", r"^bad\.jsonl holds no readable article \(bad\.jsonl line 1: not valid JSON"),
        ("old.docx", b"\xd0\xcf\x11\xe0 not a zip", r"^old\.docx is not a readable Word \.docx file"),
    ],
)
def test_save_upload_reads_every_format_before_keeping_it(tmp_path, name, data, message):
    if message is None:
        assert save_upload(tmp_path, name, data, LIMIT).read_bytes() == data
        delete_article(tmp_path, name)
    else:
        with pytest.raises(RagError, match=message):
            save_upload(tmp_path, name, data, LIMIT)
    assert not list(tmp_path.iterdir())  # nothing kept, no partial file left behind
