"""Reading articles: decoding, headline, page furniture, HTML, refusing binary files."""

from __future__ import annotations

from pathlib import Path

import pytest

from rag.articles import decode, html_to_text, is_furniture, list_files, read_article, read_folder
from rag.errors import RagError

SEED = Path(__file__).resolve().parent.parent / "seeds" / "000_681fe9c43916d851.txt"


@pytest.fixture(scope="module")
def seed():
    return read_article(SEED.name, SEED.read_bytes())


def body_text(article) -> str:
    return "\n".join(article.text[s:e] for s, e in article.body)


def test_seed_headline_is_the_title(seed) -> None:
    assert seed.title == "Zelenskyy sends team for peace talks but says Russia ‘not serious enough’"
    assert seed.title not in body_text(seed)


@pytest.mark.parametrize(
    "furniture",
    [
        "7 hours ago 8",
        "Read Entire Article",
        "Bhayangkara | Wisata | | |",
        "Trump claims ‘nothing’s going to happen’ on Ukraine until he meets Putin – video",
        "Ukraine breakthrough depends on meeting between Trump and Putin, says Rubio – video",
        "Four men in suits face members of the media",
        "Photograph: Vladimir Soldatkin/Reuters",
    ],
)
def test_seed_furniture_is_not_in_the_body(seed, furniture: str) -> None:
    assert furniture in seed.text  # kept in the text, so offsets stay true to the file
    assert furniture not in body_text(seed)


@pytest.mark.parametrize(
    "sentence",
    [
        "Volodymyr Zelenskyy has sent a delegation to Istanbul",
        "Russia’s mid-level delegation, led by Vladimir Medinsky",
        "The talks will take place at the Dolmabahçe Palace",
        "You have to pressurise the side that does not want to end the war.",
    ],
)
def test_seed_article_text_is_in_the_body(seed, sentence: str) -> None:
    assert sentence in body_text(seed)


def test_offsets_point_into_the_file_text(seed) -> None:
    file_text = SEED.read_text(encoding="utf-8")
    assert seed.text == file_text
    for s, e in seed.body:
        assert file_text[s:e] == seed.text[s:e] and file_text[s:e].strip() == file_text[s:e]


@pytest.mark.parametrize(
    ("line", "furniture"),
    [
        ("2 days ago", True),
        ("45 minutes ago 12", True),
        ("Read more", True),
        ("Share this article", True),
        ("Home | World | Politics", True),
        ("Talks stall – video", True),
        ("A protester in Kyiv. Photograph: AP", True),
        ("The meeting ended two days ago in Kyiv, officials said.", False),
        ("He read the entire article aloud.", False),
        ("Scores: 3 | 4 were recorded by the team in the second half of play", False),
    ],
)
def test_is_furniture(line: str, furniture: bool) -> None:
    assert is_furniture(line) is furniture


@pytest.mark.parametrize(
    ("data", "text"),
    [
        (b"Plain ASCII.", "Plain ASCII."),
        ("Dolmabahçe".encode(), "Dolmabahçe"),
        ("\ufeffWith BOM".encode(), "With BOM"),
        ("Erdoğan says".encode("utf-16"), "Erdoğan says"),
        ("café – crème".encode("cp1252"), "café – crème"),
        (b"line one\r\nline two\r", "line one\nline two\n"),
    ],
)
def test_decode(data: bytes, text: str) -> None:
    assert decode(data, "x.txt") == text


def test_binary_file_is_refused_by_name() -> None:
    with pytest.raises(RagError, match=r"photo\.txt looks like a binary file"):
        read_article("photo.txt", b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(range(256)))


@pytest.mark.parametrize(
    "data",
    [
        b"Headline\n\n" + b"The minister resigned on Monday. " * 400 + b"\x00\x00secret\x00 tail.",  # NUL past 8 KB
        b"Headline\n\nOne NUL\x00 early.",
        "Headline\n\nA NUL\u0000 in UTF-16.".encode("utf-16"),
    ],
    ids=["past the first 8 KB", "early", "in UTF-16"],
)
def test_a_file_holding_nul_bytes_anywhere_is_binary(data: bytes) -> None:
    with pytest.raises(RagError, match=r"dump\.txt looks like a binary file"):
        read_article("dump.txt", data)


def test_docs_that_is_a_file_is_named_a_file(tmp_path: Path) -> None:
    path = tmp_path / "articles.txt"
    path.write_text("Title\n\nText.\n")
    with pytest.raises(RagError, match=r"articles\.txt is a file, not a folder; pass --docs with the folder"):
        list_files(path)


def test_binary_file_is_skipped_from_a_folder(tmp_path: Path) -> None:
    (tmp_path / "good.txt").write_text("A headline\n\nThe minister resigned on Monday.\n")
    (tmp_path / "bad.txt").write_bytes(bytes(range(256)) * 4)
    corpus = read_folder(tmp_path)
    assert [a.source for a in corpus.articles] == ["good.txt"]
    assert [s for s, _ in corpus.skipped] == ["bad.txt"]


def test_html_is_reduced_to_its_text() -> None:
    html = """<html><head><title>Port strike ends | Daily</title><style>p{}</style></head>
    <body><nav><a href="/">Home</a> <a href="/w">World</a></nav>
    <h1>Port strike ends</h1><p>Dock workers in Rotterdam returned to work on <b>Tuesday</b>.</p>
    <script>alert("x")</script><p>The union accepted a 5% raise.</p><footer>© Daily</footer></body></html>"""
    text = html_to_text(html)
    assert text.splitlines()[0] == "Port strike ends"
    assert "Dock workers in Rotterdam returned to work on Tuesday." in text
    assert "alert" not in text and "Home" not in text and "©" not in text and "p{}" not in text
    article = read_article("strike.html", html.encode())
    assert article.title == "Port strike ends"


def test_folder_lists_only_article_files(tmp_path: Path) -> None:
    for name in ["a.txt", "b.md", "c.html", "d.json", "not_a_feed.xml", ".hidden.txt", "sub/e.txt"]:
        path = tmp_path / name
        path.parent.mkdir(exist_ok=True)
        path.write_text("Title\n\nSome text here.\n")
    assert [p.relative_to(tmp_path).as_posix() for p in list_files(tmp_path)] == [
        "a.txt",
        "b.md",
        "c.html",
        "sub/e.txt",
    ]


def test_empty_folder_error_names_folder_and_extensions(tmp_path: Path) -> None:
    with pytest.raises(RagError) as err:
        list_files(tmp_path)
    message = str(err.value)
    assert str(tmp_path) in message and "*.txt, *.md, *.html" in message and "\n" not in message
