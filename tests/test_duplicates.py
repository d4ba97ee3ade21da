"""Near-duplicate articles: shingles, stable MinHash signatures, and grouping copies but not topics."""

from __future__ import annotations

import random
import time
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from rag.duplicates import NUM_HASHES, Signature, containment, copies, shingles, sign

HERE = Path(__file__).resolve().parent
SEED = (HERE.parent / "seeds" / "000_681fe9c43916d851.txt").read_text(encoding="utf-8")
UNRELATED = (HERE / "fixtures" / "duplicates" / "unrelated_same_topic.txt").read_text(encoding="utf-8")

# The seed as another outlet would run it: its own headline and byline, no page furniture, one
# paragraph reworded and one sentence said differently.
REWORDS = {
    "Zelenskyy sends team for peace talks but says Russia ‘not serious enough’": (
        "Ukraine to join Istanbul talks as Zelenskyy accuses Moscow of sending a junior team\n\nBy Jane Doe, Example Wire"
    ),
    "7 hours ago 8\n\n": "",
    "Trump claims ‘nothing’s going to happen’ on Ukraine until he meets Putin – video\n\n": "",
    "Ukraine breakthrough depends on meeting between Trump and Putin, says Rubio – video\n\n": "",
    "Read Entire Article\nBhayangkara | Wisata | | |": "",
    "Trump’s special envoy Steve Witkoff and the secretary of state, Marco Rubio, are expected to be in "
    "Istanbul on Friday, though it remains unclear what role they will play.": (
        "Steve Witkoff, the US special envoy, and Marco Rubio, the secretary of state, were also due in "
        "Istanbul on Friday. What part they would play was not clear."
    ),
    "On Wednesday evening the Kremlin had announced that Putin would skip the talks": (
        "The Kremlin said late on Wednesday that the Russian leader would stay away"
    ),
}
# The seed as its own update: two paragraphs added, the timestamp changed.
UPDATE_ADDS = {
    "7 hours ago 8": "Updated 1 hour ago",
    "The talks are set to begin on Friday and Zelenskyy said that Kyiv would focus on pushing for an immediate "
    "30-day ceasefire.": (
        "The talks are set to begin on Friday and Zelenskyy said that Kyiv would focus on pushing for an immediate "
        "30-day ceasefire.\n\nLate on Thursday Turkish officials said the first session would open at 10.30 on "
        "Friday morning at the palace, with the foreign ministers of Turkey and Ukraine present at the start."
    ),
    "He said: “You have to pressurise the side that does not want to end the war.”": (
        "He said: “You have to pressurise the side that does not want to end the war.”\n\nThis article was amended "
        "on Friday to add the time of the first session and a comment from the Russian consulate, which said "
        "its delegation was ready to meet the Ukrainian team in the morning."
    ),
}


def rewrite(text: str, changes: dict[str, str]) -> str:
    for old, new in changes.items():
        assert old in text, old
        text = text.replace(old, new)
    return text


COPY = rewrite(SEED, REWORDS)
UPDATE = rewrite(SEED, UPDATE_ADDS)


def test_a_syndicated_copy_is_one_group_and_a_story_on_the_same_topic_is_not_in_it() -> None:
    signatures = {"story.txt": sign(SEED), "wire-copy.txt": sign(COPY), "other-story.txt": sign(UNRELATED)}
    assert copies(signatures) == [["story.txt", "wire-copy.txt"]]
    assert containment(signatures["story.txt"], signatures["wire-copy.txt"]) > 0.8
    assert containment(signatures["story.txt"], signatures["other-story.txt"]) < 0.1  # names and a quote shared


def test_a_story_and_its_update_are_one_group() -> None:
    signatures = {"a-story.txt": sign(SEED), "b-update.txt": sign(UPDATE), "c-other.txt": sign(UNRELATED)}
    assert copies(signatures) == [["a-story.txt", "b-update.txt"]]


def test_a_story_its_copy_and_its_update_are_one_group() -> None:
    signatures = {"3": sign(UPDATE), "1": sign(SEED), "2": sign(COPY), "4": sign(UNRELATED)}
    assert copies(signatures) == [["1", "2", "3"]]


def test_an_update_that_doubles_a_story_still_matches_it() -> None:
    lead = "\n\n".join(SEED.split("\n\n")[:10])
    assert containment(sign(lead), sign(SEED)) > 0.9
    assert copies({"lead": sign(lead), "full": sign(SEED)}) == [["full", "lead"]]


@pytest.mark.parametrize(
    ("text", "k", "expected"),
    [
        ("", 5, set()),
        ("  ...  ", 5, set()),
        ("Talks in Istanbul", 5, {"talks in istanbul"}),  # shorter than k: the whole text is one shingle
        ("one two three four five", 5, {"one two three four five"}),
        ("one two three four five six", 5, {"one two three four five", "two three four five six"}),
        ("a b a b a b", 2, {"a b", "b a"}),  # distinct shingles only
        ("Erdoğan met Zelenskyy in Ankara", 5, {"erdogan met zelenskyy in ankara"}),  # accents folded
        ("ERDOGAN Met zelenskyy, in; Ankara!", 5, {"erdogan met zelenskyy in ankara"}),  # case and punctuation
        ("Russia’s team, Russia's team", 2, {"russias team", "team russias"}),  # apostrophes of either shape
        ("30-day ceasefire", 5, {"30 day ceasefire"}),
    ],
)
def test_shingles(text: str, k: int, expected: set[str]) -> None:
    assert shingles(text, k) == expected


def test_signatures_are_the_same_in_every_process() -> None:
    # Python's hash() is salted per process; blake2b is not. These values must never change, or
    # signatures stored in an index stop matching the ones computed at the next run.
    signature = sign("The quick brown fox jumps over the lazy dog near the river bank")
    assert signature.size == 9  # 13 words, 5 at a time
    assert signature.mins[:4] == (235130991, 145358338, 183903177, 40424081)


def test_signatures_round_trip_through_bytes_and_lists() -> None:
    signature = sign(SEED)
    data = signature.to_bytes()
    assert len(data) == 4 * (NUM_HASHES + 1)
    assert Signature.from_bytes(data) == signature
    assert Signature.from_list(signature.to_list()) == signature
    with pytest.raises(ValueError, match="129 values"):
        Signature.from_list([1, 2, 3])


def test_empty_articles_are_never_copies() -> None:
    assert copies({}) == [] and copies({"only": sign(SEED)}) == []
    assert copies({"a": sign(""), "b": sign(""), "c": sign("...")}) == []
    assert containment(sign(""), sign(SEED)) == 0.0


def test_a_long_article_is_signed_over_all_its_shingles() -> None:
    rnd = random.Random(5)
    tokens = [f"w{rnd.randrange(50_000)}" for _ in range(12_000)]  # ~12,000 shingles: three blocks
    whole, second_half = " ".join(tokens), " ".join(tokens[6_000:])
    assert containment(sign(second_half), sign(whole)) > 0.9


# --- properties -----------------------------------------------------------------------------------

PARAGRAPHS = [p for p in (SEED + "\n\n" + UNRELATED).split("\n\n") if len(p.split()) > 12]
ARTICLES = st.lists(st.lists(st.sampled_from(PARAGRAPHS), min_size=1, max_size=6).map("\n\n".join), max_size=8)


@settings(max_examples=60, deadline=None)
@given(ARTICLES, st.randoms(use_true_random=False))
def test_grouping_does_not_depend_on_order_or_names(texts: list[str], rnd: random.Random) -> None:
    signatures = {f"doc{i}": sign(t) for i, t in enumerate(texts)}
    groups = copies(signatures)
    names = list(signatures)
    renamed = dict(zip(names, rnd.sample([f"x{i}" for i in range(len(names))], len(names))))
    shuffled = list(signatures.items())
    rnd.shuffle(shuffled)
    back = {new: old for old, new in renamed.items()}
    regrouped = copies({renamed[name]: s for name, s in shuffled})
    assert sorted(sorted(back[n] for n in g) for g in regrouped) == groups
    members = [n for g in groups for n in g]
    assert len(members) == len(set(members))  # an article is in one group at most
    assert all(len(g) >= 2 for g in groups)  # never a group of one
    for a in names:
        for b in names:
            assert containment(signatures[a], signatures[b]) == containment(signatures[b], signatures[a])


@settings(max_examples=40, deadline=None)
@given(ARTICLES.filter(bool), st.integers(0, 7))
def test_the_same_text_twice_is_always_grouped(texts: list[str], pick: int) -> None:
    text = texts[pick % len(texts)]
    signatures = {f"doc{i}": sign(t) for i, t in enumerate(texts)} | {"again": sign(text)}
    assert any("again" in g and f"doc{pick % len(texts)}" in g for g in copies(signatures))


# --- scale -----------------------------------------------------------------------------------------


def generated_corpus(n: int, n_copies: int, seed: int = 13) -> tuple[dict[str, str], list[list[str]]]:
    """`n` distinct articles of Zipf-distributed words (so common phrases recur across them), plus
    `n_copies` edited copies of some: a sentence dropped, a few words changed, a line added on top."""
    rnd = random.Random(seed)
    vocabulary = [f"w{i}" for i in range(4000)]
    weights = [1 / (rank + 1) for rank in range(len(vocabulary))]
    texts = {}
    for i in range(n):
        sentences = [
            " ".join(rnd.choices(vocabulary, weights, k=rnd.randint(10, 25))) + "." for _ in range(rnd.randint(12, 30))
        ]
        texts[f"a{i:04d}"] = "\n\n".join(sentences)
    expected = []
    for i in rnd.sample(range(n), n_copies):
        sentences = texts[f"a{i:04d}"].split("\n\n")
        del sentences[rnd.randrange(len(sentences))]
        edited = [" ".join(w if rnd.random() > 0.02 else "changed" for w in s.split()) for s in sentences]
        texts[f"c{i:04d}"] = "Another headline\n\n" + "\n\n".join(edited)
        expected.append([f"a{i:04d}", f"c{i:04d}"])
    return texts, sorted(expected)


def test_two_thousand_articles_group_quickly_and_exactly() -> None:
    texts, expected = generated_corpus(2000, 40)
    started = time.perf_counter()
    signatures = {name: sign(text) for name, text in texts.items()}
    signed = time.perf_counter()
    groups = copies(signatures)
    grouped = time.perf_counter()
    words = sum(len(t.split()) for t in texts.values())
    print(
        f"\n{len(texts)} articles ({words} words): signed in {signed - started:.2f} s, "
        f"grouped in {grouped - signed:.3f} s"
    )
    assert groups == expected
