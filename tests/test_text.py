"""Sentence splitting, chunk windows and article offsets: table tests and properties."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from rag.articles import read_article
from rag.chunking import cap_words, chunk_article, sentence_windows
from rag.sentences import count_words, split_sentences, word_spans


def sentences_of(text: str) -> list[str]:
    return [text[s:e] for s, e in split_sentences(text)]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("One. Two.", ["One.", "Two."]),
        ("Is it? Yes! Fine.", ["Is it?", "Yes!", "Fine."]),
        ("Mr. Smith went to Washington. He left.", ["Mr. Smith went to Washington.", "He left."]),
        ("The U.S. Senate met. It voted.", ["The U.S. Senate met.", "It voted."]),
        ("J. K. Rowling wrote it. Then more.", ["J. K. Rowling wrote it.", "Then more."]),
        ("He said: “Go now.” Then he left.", ["He said: “Go now.”", "Then he left."]),
        ("Prices rose 3.5 percent. Markets fell.", ["Prices rose 3.5 percent.", "Markets fell."]),
        ("no capital after. the dot", ["no capital after. the dot"]),
        ("First paragraph without stop\n\nSecond one.", ["First paragraph without stop", "Second one."]),
        ("  padded.  ", ["padded."]),
        ("", []),
    ],
)
def test_split_sentences(text: str, expected: list[str]) -> None:
    assert sentences_of(text) == expected


@pytest.mark.parametrize(
    ("lengths", "max_words", "overlap", "expected"),
    [
        ([10, 10, 10], 100, 20, [(0, 2)]),
        ([50, 50, 50], 100, 0, [(0, 1), (2, 2)]),
        ([50, 50, 50], 100, 50, [(0, 1), (1, 2)]),
        ([200, 10], 100, 40, [(0, 0), (1, 1)]),
        ([], 100, 10, []),
    ],
)
def test_sentence_windows(lengths, max_words, overlap, expected) -> None:
    assert sentence_windows(lengths, max_words, overlap) == expected


@given(
    lengths=st.lists(st.integers(1, 80), max_size=40),
    max_words=st.integers(20, 200),
    overlap=st.integers(0, 19),
)
def test_windows_cover_overlap_and_progress(lengths: list[int], max_words: int, overlap: int) -> None:
    windows = sentence_windows(lengths, max_words, overlap)
    covered = {i for first, last in windows for i in range(first, last + 1)}
    assert covered == set(range(len(lengths)))
    for (f1, l1), (f2, _) in zip(windows, windows[1:]):
        assert f1 < f2 <= l1 + 1
    for first, last in windows:
        assert last == first or sum(lengths[first : last + 1]) <= max_words


_word = st.text(alphabet="abcdefghijklmnopqrstuvwxyzçğé", min_size=1, max_size=9)
_sentence = st.builds(
    lambda ws, end: " ".join([ws[0].capitalize(), *ws[1:]]) + end,
    st.lists(_word, min_size=1, max_size=25),
    st.sampled_from([".", "!", "?", ".”"]),
)
# A line that never ends a sentence (a table row, a list, a dump), up to 300 words.
_run_on = st.lists(_word, min_size=1, max_size=300).map(lambda ws: " ".join([ws[0].capitalize(), *ws[1:]]))
_paragraph = st.lists(st.one_of(_sentence, _sentence, _run_on), min_size=1, max_size=6).map(" ".join)
_furniture = st.sampled_from(["3 hours ago 2", "Read Entire Article", "News | Sport | | |", "A clip – video"])
_block = st.one_of(_paragraph, _paragraph, _furniture)


@settings(max_examples=150, deadline=None)
@given(
    title=st.lists(_word, min_size=1, max_size=8).map(" ".join),
    blocks=st.lists(_block, min_size=1, max_size=12),
    newline=st.sampled_from(["\n", "\r\n"]),
    max_words=st.integers(15, 120),
)
def test_chunk_offsets_round_trip(title: str, blocks: list[str], newline: str, max_words: int) -> None:
    raw = (title + newline * 2 + (newline * 2).join(blocks) + newline).encode("utf-8")
    try:
        article = read_article("generated.txt", raw)
    except Exception as err:  # only an article that is all furniture may be refused
        assert all(
            b in {"3 hours ago 2", "Read Entire Article", "News | Sport | | |", "A clip – video"} for b in blocks
        )
        assert "no article text" in str(err)
        return
    chunks = chunk_article(article, max_words=max_words, overlap_words=max_words // 4)
    assert chunks
    for chunk in chunks:
        assert article.text[chunk.start : chunk.end] == chunk.text
        assert any(s <= chunk.start and chunk.end <= e for s, e in article.body)
        assert "Read Entire Article" not in chunk.text and "ago 2" not in chunk.text
        assert count_words(chunk.text) <= max_words  # even when a sentence is longer
    # Every body sentence short enough lands whole in some chunk, and every word in one.
    for s, e in article.body:
        for a, b in split_sentences(article.text, s, e):
            if count_words(article.text, a, b) <= max_words:
                assert any(c.start <= a and b <= c.end for c in chunks)
        for a, b in word_spans(article.text, s, e):
            assert any(c.start <= a and b <= c.end for c in chunks)
    # Same bytes, same ids.
    again = chunk_article(read_article("generated.txt", raw), max_words=max_words, overlap_words=max_words // 4)
    assert [c.chunk_id for c in again] == [c.chunk_id for c in chunks]


@pytest.mark.parametrize(
    ("text", "max_words", "expected"),
    [
        ("one two three", 5, ["one two three"]),
        ("one two three four five", 2, ["one two", "three four", "five"]),
        ("“one, two; three four.”", 2, ["“one, two", "three four.”"]),  # the ends keep their punctuation
        ("a b c d", 2, ["a b", "c d"]),
        ("Russia’s delegation", 1, ["Russia’s", "delegation"]),  # an apostrophe keeps a word whole
    ],
)
def test_cap_words(text: str, max_words: int, expected: list[str]) -> None:
    assert [text[s:e] for s, e in cap_words(text, [(0, len(text))], max_words)] == expected


def test_a_line_without_sentence_ends_becomes_chunks_of_bounded_length() -> None:
    line = " ".join(f"cell{i}" for i in range(20_000))  # about 200 kB, no full stop anywhere
    article = read_article("table.txt", f"Price table\n\n{line}\n".encode())
    chunks = chunk_article(article, max_words=160, overlap_words=40)
    assert max(count_words(c.text) for c in chunks) == 160
    assert chunks[0].text.startswith("cell0 ") and chunks[-1].text.endswith("cell19999")
    assert all(article.text[c.start : c.end] == c.text for c in chunks)


@pytest.mark.parametrize(
    ("text", "spans"),
    [
        ("Title\n\nOne. Two.\n\nThree.\n\nFour five.\n", [(1, 3)]),
        (
            "Title\n\n" + "Alpha beta gamma. " * 6 + "\n\n" + "Delta epsilon. " * 6 + "\n\nZeta.\n",
            [(1, 1), (1, 2), (2, 3)],
        ),
    ],
)
def test_chunks_know_which_body_paragraphs_they_cover(text: str, spans: list[tuple[int, int]]) -> None:
    article = read_article("p.txt", text.encode())
    max_words = 60 if len(spans) == 1 else 14
    chunks = chunk_article(article, max_words=max_words, overlap_words=3)
    assert [c.paragraphs for c in chunks] == spans
