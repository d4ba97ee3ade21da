"""The formats table and its readers, on files the tests write: a two-column PDF with running
headers, footers and page numbers, Word documents, RSS and Atom feeds, JSON Lines and CSV exports."""

from __future__ import annotations

import io
import json
import tempfile
import tracemalloc
from pathlib import Path

import pypdf
import pytest
from format_files import (
    ATOM,
    CSV_TEXT,
    FOOTER,
    HEADER,
    JSONL_ROWS,
    LEFT_SENTENCE,
    RIGHT_SENTENCE,
    RSS,
    single_column_pdf,
    two_column_pdf,
    word_document,
)
from fpdf import FPDF
from hypothesis import given, settings
from hypothesis import strategies as st

from rag.articles import list_files, read_article, read_folder
from rag.errors import RagError
from rag.formats import EXTENSIONS, FORMATS, Skipped, file_of, format_for, read_items, spell_extensions
from rag.formats.items import item_key


def write(tmp_path: Path, name: str, data: bytes | str) -> Path:
    path = tmp_path / name
    path.write_bytes(data.encode() if isinstance(data, str) else data)
    return path


def read_all(tmp_path: Path, name: str, data: bytes | str) -> tuple[list, list[Skipped]]:
    path = write(tmp_path, name, data)
    items = list(read_items(name, path))
    return [i for i in items if not isinstance(i, Skipped)], [i for i in items if isinstance(i, Skipped)]


def body_text(article) -> str:
    return "\n".join(article.text[s:e] for s, e in article.body)


# --- the table ------------------------------------------------------------------------------------


def test_every_extension_belongs_to_one_format_and_is_spelled_in_messages() -> None:
    assert len(EXTENSIONS) == len(set(EXTENSIONS))
    assert {f.name for f in FORMATS if f.many} == {"feed", "archive export"}
    spelled = spell_extensions()
    assert spelled.startswith("*.txt, *.md, *.html") and all(f"*{e}" in spelled for e in EXTENSIONS)
    assert spell_extensions(globs=False).endswith(" or .csv")


@pytest.mark.parametrize(
    ("name", "format_name"),
    [
        ("a.txt", "text"),
        ("b.MD", "text"),
        ("c.htm", "HTML page"),
        ("sub/d.pdf", "PDF"),
        ("e.docx", "Word document"),
        ("f.rss", "feed"),
        ("g.atom", "feed"),
        ("h.xml", "feed"),  # by name alone; a Path is looked into
        ("i.jsonl", "archive export"),
        ("j.csv", "archive export"),
        ("k.doc", None),
        ("l.json", None),
        ("noext", None),
    ],
)
def test_format_for_a_source_name(name: str, format_name: str | None) -> None:
    fmt = format_for(name)
    assert (fmt.name if fmt else None) == format_name


@pytest.mark.parametrize(
    ("source", "file"),
    [
        ("feeds/wire.rss#hg-001", "feeds/wire.rss"),
        ("archive.csv#sha-0123456789abcdef", "archive.csv"),
        ("notes#1.txt", "notes#1.txt"),  # a "#" in a file name is not an item
        ("page.html#top", "page.html#top"),  # only many-article formats have items
        ("a.txt", "a.txt"),
    ],
)
def test_file_of_an_item_is_its_feed_or_export(source: str, file: str) -> None:
    assert file_of(source) == file


def test_an_xml_file_is_a_feed_only_when_its_root_says_so(tmp_path: Path) -> None:
    assert format_for(write(tmp_path, "news.xml", RSS)).name == "feed"
    assert format_for(write(tmp_path, "atom.xml", ATOM)).name == "feed"
    assert format_for(write(tmp_path, "sitemap.xml", "<urlset><url/></urlset>")) is None
    assert format_for(write(tmp_path, "broken.xml", "not xml at all")) is None
    write(tmp_path, "a.txt", "Title\n\nText.\n")
    assert [p.name for p in list_files(tmp_path)] == ["a.txt", "atom.xml", "news.xml"]


# --- what each format reads -----------------------------------------------------------------------

# name, contents, then per article: (title, date, author, url); then the skipped reasons.
CASES = [
    (
        "paper.pdf",
        two_column_pdf,
        [("Harbour budget row deepens", "2025-05-15", "Jane Doe", None)],
        [],
    ),
    (
        "nometa.pdf",
        lambda: two_column_pdf(metadata=False),
        [("Harbour budget row deepens", None, None, None)],
        [],
    ),
    (
        "dated.pdf",
        lambda: single_column_pdf(
            [
                "Ferry strike ends",
                "Published 3 April 2025",
                "By Ann Poe",
                "Ferry crews agreed on Wednesday to end a strike that had stranded islanders",
                "for a week, after the operator offered a raise of four per cent.",
            ]
        ),
        [("Ferry strike ends", "2025-04-03", "Ann Poe", None)],
        [],
    ),
    ("library.docx", word_document, [("Mayor opens the new library", "2025-03-02", "Jane Doe", None)], []),
    ("ferry.docx", lambda: word_document(properties=False), [("Ferry service resumes", "2025-04-04", None, None)], []),
    (
        "wire.rss",
        lambda: RSS,
        [
            ("Port strike ends", "2025-05-15", "Jane Doe", "https://harbour.example/news/port-strike-ends"),
            ("Ferry timetable changes", "2025-05-16", "John Roe", "https://harbour.example/news/ferry?id=7&lang=en"),
        ],
        ["wire.rss item 3: no text; skipped it"],
    ),
    (
        "coast.atom",
        lambda: ATOM,
        [
            ("Storm closes coast road", "2025-05-20", "Ann Poe and Carlos Ruiz", "https://coast.example/storm"),
            ("Lighthouse keepers elect a chair", "2025-05-22", None, "https://coast.example/keepers"),
        ],
        [],
    ),
    (
        "archive.jsonl",
        lambda: "\n".join(JSONL_ROWS) + "\n",
        [
            ("Council backs audit", "2025-05-15", "Jane Doe", "https://harbour.example/audit"),
            ("Quotas fall", "2025-05-16", "Ann Poe, John Roe", "https://harbour.example/quotas"),
            ("First paragraph here.", None, None, None),
        ],
        ["archive.jsonl line 3: not valid JSON (Expecting ',' delimiter); skipped it"],
    ),
    (
        "archive.csv",
        lambda: CSV_TEXT,
        [
            ("Dredging paused", "2025-05-10", "Jane Doe", "https://harbour.example/dredge"),
            ("Berths sold", "2025-05-12", "Ann Poe", None),
        ],
        ["archive.csv line 5: 3 fields where the header has 6; skipped it"],
    ),
]


@pytest.fixture(scope="module")
def read_cases(tmp_path_factory) -> dict[str, tuple[list, list[Skipped]]]:
    folder = tmp_path_factory.mktemp("formats")
    return {name: read_all(folder, name, make()) for name, make, _, _ in CASES}


@pytest.mark.parametrize(
    ("name", "expected", "skipped"), [(c[0], c[2], c[3]) for c in CASES], ids=[c[0] for c in CASES]
)
def test_each_format_reads_its_articles(read_cases, name, expected, skipped) -> None:
    articles, skips = read_cases[name]
    assert [(a.title, a.published, a.author, a.url) for a in articles] == expected
    assert [s.reason for s in skips] == skipped
    assert all(s.source == name and "\n" not in s.reason for s in skips)


@pytest.mark.parametrize("name", [c[0] for c in CASES])
def test_body_spans_are_sorted_nonempty_and_inside_the_text(read_cases, name) -> None:
    for article in read_cases[name][0]:
        assert article.body
        previous_end = 0
        for start, end in article.body:
            assert previous_end <= start < end <= len(article.text)
            assert article.text[start:end].strip()
            previous_end = end


@pytest.mark.parametrize("name", [c[0] for c in CASES if c[0].endswith((".rss", ".atom", ".jsonl", ".csv"))])
def test_items_are_sources_of_their_own(read_cases, name) -> None:
    articles = read_cases[name][0]
    assert all(a.source.startswith(f"{name}#") and "/" not in a.source.split("#", 1)[1] for a in articles)
    assert len({a.source for a in articles}) == len({a.file_hash for a in articles}) == len(articles)


def test_an_html_page_states_its_address_and_a_text_file_none() -> None:
    page = (
        b'<html><head><link rel="canonical" href="https://harbour.example/strike">'
        b'<meta property="og:url" content="https://m.harbour.example/strike"></head>'
        b"<body><h1>Port strike ends</h1><p>Dock workers returned to work.</p></body></html>"
    )
    assert read_article("strike.html", page).url == "https://harbour.example/strike"
    assert read_article("strike.txt", b"Port strike ends\n\nDock workers returned to work.\n").url is None


# --- PDF ------------------------------------------------------------------------------------------


def test_pdf_columns_are_read_one_after_the_other(read_cases) -> None:
    (article,), _ = read_cases["paper.pdf"]
    plain = "".join(p.extract_text() for p in pypdf.PdfReader(io.BytesIO(two_column_pdf())).pages)
    assert LEFT_SENTENCE not in " ".join(plain.split())  # drawn row by row: read naively, they interleave
    text = article.text
    assert LEFT_SENTENCE in text and RIGHT_SENTENCE in text
    assert text.index("asked for an audit.") < text.index(RIGHT_SENTENCE)
    assert text.index("price of diesel") < text.index("The audit will start in June")  # page 1, then page 2
    assert text.index("no new berths will be dredged.") < text.index("Tourism on the waterfront")


def test_pdf_running_headers_footers_and_page_numbers_are_not_in_the_body(read_cases) -> None:
    for name in ("paper.pdf", "nometa.pdf"):
        (article,), _ = read_cases[name]
        body = body_text(article)
        for furniture in (HEADER, "Thursday edition", FOOTER, "Page 1", "Page 2", "of 2"):
            assert furniture not in body
        assert article.title not in body


def test_pdf_lines_join_into_paragraphs_and_hyphenated_words_are_whole(read_cases) -> None:
    (article,), _ = read_cases["paper.pdf"]
    assert "argued for hours about the information the port authority gave them." in article.text
    assert "infor-" not in article.text
    paragraphs = article.text.strip().split("\n\n")
    assert paragraphs[0] == "Harbour budget row deepens"
    assert "Councillor Mira Tesk said the figures did not add up and asked for an audit." in paragraphs
    assert "Tourism on the waterfront grew by ten per cent, helped by the new ferry line to the islands." in paragraphs


def test_a_pdf_without_a_text_layer_is_refused_in_one_line() -> None:
    with pytest.raises(RagError) as err:
        read_article("scan.pdf", single_column_pdf([], drawing=True))
    assert str(err.value) == "scan.pdf has no text layer (a scanned PDF?); skipped it: OCR is not done here."


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (single_column_pdf(["Secret talks"], password="pw"), r"^locked\.pdf is encrypted and cannot be read without"),
        (b"%PDF-1.4\nnot really a pdf", r"^locked\.pdf is not a readable PDF \("),
    ],
    ids=["password", "broken"],
)
def test_a_pdf_that_cannot_be_opened_is_refused_in_one_line(data: bytes, message: str) -> None:
    with pytest.raises(RagError, match=message) as err:
        read_article("locked.pdf", data)
    assert "\n" not in str(err.value)


def test_a_pdf_needing_no_password_to_open_is_read() -> None:
    pdf = FPDF()
    pdf.set_encryption(owner_password="owner")  # restricts printing, not reading
    pdf.add_page()
    pdf.set_font("Helvetica", size=11)
    pdf.cell(100, 6, "Ferry strike ends")
    pdf.set_xy(10, 30)
    pdf.cell(100, 6, "Crews returned to work on Monday.")
    assert "Crews returned to work on Monday." in read_article("open.pdf", bytes(pdf.output())).text


# --- Word -----------------------------------------------------------------------------------------


def test_docx_paragraphs_are_a_blank_line_apart(read_cases) -> None:
    (article,), _ = read_cases["library.docx"]
    assert article.text == (
        "Library opens\n\nThe mayor cut the ribbon on Saturday morning.\n\nSome 2,000 books were donated by residents.\n"
    )
    assert body_text(article).startswith("The mayor cut the ribbon")


def test_a_file_that_is_not_a_docx_is_refused_in_one_line() -> None:
    with pytest.raises(RagError, match=r"^old\.docx is not a readable Word \.docx file"):
        read_article("old.docx", b"\xd0\xcf\x11\xe0 an OLE file, as .doc and locked files are")


# --- feeds and exports ----------------------------------------------------------------------------


def test_feed_html_is_reduced_like_an_html_file(read_cases) -> None:
    strike, ferry = read_cases["wire.rss"][0]
    assert (
        strike.text
        == "Port strike ends\n\nDock workers returned to work on Tuesday.\n\nThe union accepted a 5% raise & shorter shifts.\n"
    )
    assert "x()" not in ferry.text and "The island ferry will leave at 7:15 from June." in body_text(ferry)
    storm, keepers = read_cases["coast.atom"][0]
    assert body_text(storm) == "The coast road was closed after a landslide.\n\nIt reopens on Friday."
    assert (
        keepers.source
        == "coast.atom#tag_coast.example_2025_keepers-" + item_key("tag:coast.example,2025:keepers", content=b"")[-8:]
    )


def test_item_keys_come_from_ids_then_links() -> None:
    assert item_key("hg-2025-0515-001", "https://x.example/a", content=b"") == "hg-2025-0515-001"
    assert item_key(None, " ", "https://x.example/a", content=b"").startswith("https_x.example_a-")
    assert item_key("a/b", content=b"") != item_key("a?b", content=b"")
    assert item_key("../../etc", content=b"").startswith("etc-")
    assert item_key(None, content=b"row").startswith("sha-")
    assert len(item_key("x" * 500, content=b"")) <= 80


@pytest.mark.parametrize(
    ("name", "data", "reason"),
    [
        ("a.jsonl", '["a", "list"]\n', "a.jsonl line 1: not a JSON object; skipped it"),
        ("a.jsonl", '\n{"title": "No text here"}\n', "a.jsonl line 2: no text; skipped it"),
        ("a.jsonl", '{"text": "ok"\n', "a.jsonl line 1: not valid JSON (Expecting ',' delimiter); skipped it"),
        ("a.csv", "title,text\nA,\n", "a.csv line 2: no text; skipped it"),
        ("a.csv", 'title,text\n"A\nB",x,y\n', "a.csv line 2: 3 fields where the header has 2; skipped it"),
        ("a.rss", "<rss><channel><item><title>T</title><description>Text.</description></item><item>", None),
    ],
)
def test_a_bad_item_is_skipped_with_one_line_naming_file_and_item(tmp_path, name, data, reason) -> None:
    _, skips = read_all(tmp_path, name, data)
    if reason is None:  # XML that breaks off: what came before is read, the rest is skipped
        (skip,) = skips
        assert skip.reason.startswith("a.rss line 1: the XML breaks (") and skip.reason.endswith("the rest of the file")
    else:
        assert [s.reason for s in skips] == [reason]


@pytest.mark.parametrize(
    ("name", "data", "message"),
    [
        ("a.csv", "title,summary\nA,B\n", r"^a\.csv has no text column \(its header is title, summary\); name"),
        (
            "a.rss",
            "<urlset><url/></urlset>",
            r"^a\.rss is not an RSS 2\.0 or Atom feed \(its root element is <urlset>\)",
        ),
        ("a.atom", "plain words", r"^a\.atom is not readable XML"),
        ("a.jsonl", "", None),
    ],
)
def test_a_file_that_is_no_feed_or_export_at_all_raises(tmp_path, name, data, message) -> None:
    path = write(tmp_path, name, data)
    if message is None:
        assert list(read_items(name, path)) == []
        return
    with pytest.raises(RagError, match=message):
        list(read_items(name, path))


def test_read_article_refuses_many_article_files_and_read_folder_reads_their_items(tmp_path) -> None:
    with pytest.raises(RagError, match=r"^wire\.rss is a feed of many articles"):
        read_article("wire.rss", RSS.encode())
    write(tmp_path, "wire.rss", RSS)
    write(tmp_path, "memo.docx", word_document())
    corpus = read_folder(tmp_path)
    assert [a.source.split("#")[0] for a in corpus.articles] == ["memo.docx", "wire.rss", "wire.rss"]
    assert corpus.skipped == [("wire.rss", "wire.rss item 3: no text; skipped it")]


ITEMS = st.lists(
    st.tuples(
        st.from_regex(r"[A-Za-z0-9:/?=&._ -]{1,30}", fullmatch=True).filter(str.strip),
        st.from_regex(r"[A-Z][a-z]{2,8}( [a-z]{2,8}){2,8}\.", fullmatch=True),
    ),
    min_size=2,
    max_size=6,
    unique_by=lambda item: item[0].strip(),
)


def _export(kind: str, items: list[tuple[str, str]]) -> str:
    if kind == "jsonl":
        return "".join(
            json.dumps({"id": key, "title": f"Item {i}", "text": text}) + "\n" for i, (key, text) in enumerate(items)
        )
    if kind == "csv":
        rows = "".join(f'"{key}",Item {i},"{text}"\n' for i, (key, text) in enumerate(items))
        return "id,title,text\n" + rows
    entries = "".join(
        f"<item><guid>{key.replace('&', '&amp;')}</guid><title>Item {i}</title><description>{text}</description></item>"
        for i, (key, text) in enumerate(items)
    )
    return f"<rss><channel>{entries}</channel></rss>"


@pytest.mark.parametrize("kind", ["jsonl", "csv", "rss"])
@settings(max_examples=25, deadline=None)
@given(items=ITEMS, changed=st.integers(min_value=0, max_value=5))
def test_item_keys_are_stable_and_an_edit_changes_only_that_items_hash(kind, items, changed) -> None:
    changed %= len(items)
    edited = [(key, text + " Corrected." if i == changed else text) for i, (key, text) in enumerate(items)]
    with tempfile.TemporaryDirectory() as folder:
        name = f"export.{kind}"
        first, _ = read_all(Path(folder), name, _export(kind, items))
        again, _ = read_all(Path(folder), name, _export(kind, items))
        after, _ = read_all(Path(folder), name, _export(kind, edited))
    assert len(first) == len(items)
    assert [a.source for a in first] == [a.source for a in again] == [a.source for a in after]
    assert [a.file_hash for a in first] == [a.file_hash for a in again]
    differs = [a.file_hash != b.file_hash for a, b in zip(first, after)]
    assert differs == [i == changed for i in range(len(items))]


def test_a_100000_row_export_is_read_in_flat_memory(tmp_path) -> None:
    path = tmp_path / "big.jsonl"
    row = '{{"id": "n{0}", "title": "Item {0}", "date": "2025-05-15", "author": "Jane Doe", "text": "Short story {0}."}}\n'
    with open(path, "w") as file:
        file.writelines(row.format(i) for i in range(100_000))
    tracemalloc.start()
    try:
        count = sum(1 for item in read_items("big.jsonl", path) if not isinstance(item, Skipped))
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert count == 100_000
    assert peak < 2 * 1024 * 1024  # a few rows' worth, not the file's 10 MB
