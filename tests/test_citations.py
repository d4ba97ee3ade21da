"""Citation markers: the parser (table tests), claims, and the support check with the real MiniLM."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from rag.citations import (
    SUPPORT_THRESHOLD,
    SupportChecker,
    complete_part,
    find_markers,
    parse_labels,
    split_claims,
)
from rag.embedding import Embedder
from rag.prompts import NOT_FOUND
from rag.records import Claim, Passage, format_claims
from rag.sentences import split_sentences

SEED = Path(__file__).resolve().parent.parent / "seeds" / "000_681fe9c43916d851.txt"


@pytest.mark.parametrize(
    ("marker", "labels"),
    [
        ("[1]", (1,)),
        ("[12]", (12,)),
        ("[1, 3]", (1, 3)),
        ("[1,3]", (1, 3)),
        ("[ 2 ]", (2,)),
        ("[1-3]", (1, 2, 3)),
        ("[1–2]", (1, 2)),  # en dash
        ("[1][2]", (1, 2)),
        ("[1] [2]", (1, 2)),
        ("[2, 1, 2]", (2, 1)),
        ("[1-2, 4]", (1, 2, 4)),
        ("[3-1]", (3, 1)),  # a backwards range names its ends only
        ("[1-500]", (1, 500)),  # absurd ranges are not expanded
    ],
)
def test_parse_labels(marker: str, labels: tuple[int, ...]) -> None:
    assert parse_labels(marker) == labels


@pytest.mark.parametrize(
    ("answer", "k", "claims"),
    [
        ("Medinsky led it. [1]", 5, [Claim("Medinsky led it.", (1,))]),
        ("Medinsky led it [1].", 5, [Claim("Medinsky led it.", (1,))]),
        ("A is true. [1] B is true. [2, 3]", 5, [Claim("A is true.", (1,)), Claim("B is true.", (2, 3))]),
        ("A is true. [1][3]", 5, [Claim("A is true.", (1, 3))]),
        ("A is true. [1-2]", 5, [Claim("A is true.", (1, 2))]),
        # labels that name no passage are dropped
        ("A is true. [7]", 5, [Claim("A is true.", ())]),
        ("A is true. [0, 2, 9]", 3, [Claim("A is true.", (2,))]),
        # a marker belongs to the last sentence before it
        ("First one. Second one. [2]", 5, [Claim("First one.", ()), Claim("Second one.", (2,))]),
        ("Cited. [1] Not cited.", 5, [Claim("Cited.", (1,)), Claim("Not cited.", ())]),
        ("No markers at all", 5, [Claim("No markers at all", ())]),
        ("", 5, []),
        ("[1]", 5, []),
        ("A [x] b. [1]", 5, [Claim("A [x] b.", (1,))]),
    ],
)
def test_split_claims(answer: str, k: int, claims: list[Claim]) -> None:
    assert split_claims(answer, k) == claims


@pytest.mark.parametrize(
    ("answer", "complete"),
    [
        ("A. [1] B is cut of", "A. [1]"),
        ("A [1]. B is cut of", "A [1]."),
        ("A. [1] B. [2]", "A. [1] B. [2]"),
        ("nothing cited yet", "nothing cited yet"),
    ],
)
def test_complete_part(answer: str, complete: str) -> None:
    assert complete_part(answer) == complete


def test_find_markers_gives_each_runs_end_and_labels() -> None:
    text = "A. [1] B. [2, 3] C. [1][4]"
    assert find_markers(text) == [(6, (1,)), (16, (2, 3)), (26, (1, 4))]


@given(
    st.lists(
        st.tuples(
            st.text(alphabet="abcdefgh XYZ,", min_size=1, max_size=30).filter(lambda s: s.strip(" ,")),
            st.lists(st.integers(1, 9), min_size=1, max_size=3, unique=True),
        ),
        min_size=1,
        max_size=4,
    )
)
def test_canonical_text_round_trips(pairs: list[tuple[str, list[int]]]) -> None:
    """Sentences written in canonical form parse back to the same text and labels."""
    claims = [Claim(" ".join(text.split()).strip(" ,") + ".", tuple(labels)) for text, labels in pairs]
    assert split_claims(format_claims(claims), 9) == claims


# --- support, with the real MiniLM --------------------------------------------------------------

# Claims the quoted sentence states, paraphrased.
SUPPORTED = [
    ("Vladimir Medinsky led Russia's delegation.", "led by Vladimir Medinsky"),
    ("Ukraine's delegation is headed by defence minister Rustem Umerov.", "headed by his defence minister"),
    ("The talks will take place at the Dolmabahçe Palace.", "The talks will take place at the Dolmabahçe"),
    ("Kyiv will push for an immediate 30-day ceasefire.", "30-day ceasefire"),
    ("Putin decided not to send Yuri Ushakov and Sergei Lavrov.", "Yuri Ushakov and Sergei Lavrov"),
    ("Medinsky is a former culture minister.", "former culture minister"),
    ("Trump said nothing would happen until he and Putin get together.", "Nothing’s going to happen"),
    ("The Kremlin announced on Wednesday evening that Putin would skip the talks.", "Kremlin had announced"),
    ("Trump stopped in Qatar before heading to the UAE.", "stop in Qatar"),
    ("Zelenskyy held a press conference in Ankara after meeting Erdoğan.", "press conference in the Turkish"),
    ("Russian forces are making slow but steady progress on the battlefield.", "slow but steady"),
    ("Bondarev is a former senior Russian diplomat who resigned.", "Boris Bondarev, a former"),
]
# Claims the quoted sentence does not support: other facts, swapped names, things the article lacks.
UNSUPPORTED = [
    ("Sergei Lavrov led Russia's delegation.", "led by Vladimir Medinsky"),
    ("Vladimir Medinsky led Russia's delegation.", "The talks will take place at the Dolmabahçe"),
    ("The talks ended with a ceasefire agreement.", "30-day ceasefire"),
    ("Russia and Ukraine agreed to a ceasefire.", "immediate 30-day ceasefire"),
    ("The war has caused hundreds of thousands of casualties.", "slow but steady"),
    ("The capital of Australia is Canberra.", "Steve Witkoff"),
    ("Trump and Putin will meet on 20 May.", "Nothing’s going to happen"),
    ("Rustem Umerov is Ukraine's foreign minister.", "Kremlin had announced"),
    ("The Dolmabahçe Palace was built in 1856.", "The talks will take place at the Dolmabahçe"),
    ("Zelenskyy met Putin in Istanbul.", "Zelenskyy had travelled to Ankara"),
    ("Medinsky is a former culture minister.", "stop in Qatar"),
    ("Hundreds of journalists camped out in Ankara.", "Yuri Ushakov"),
]


@pytest.fixture(scope="module")
def article() -> str:
    return SEED.read_text(encoding="utf-8")


@pytest.fixture(scope="module")
def checker() -> SupportChecker:
    return SupportChecker(Embedder())


def sentence_with(text: str, fragment: str) -> str:
    return next(text[s:e] for s, e in split_sentences(text) if fragment in text[s:e])


@pytest.mark.parametrize(("pairs", "expected"), [(SUPPORTED, True), (UNSUPPORTED, False)])
def test_support_threshold_separates_hand_made_pairs(
    checker: SupportChecker, article: str, pairs: list[tuple[str, str]], expected: bool
) -> None:
    scores = np.diag(checker.scores([c for c, _ in pairs], [sentence_with(article, f) for _, f in pairs]))
    for (claim, _), score in zip(pairs, scores):
        print(f"{score:.3f} {expected!s:5} {claim}")  # the figures behind SUPPORT_THRESHOLD (pytest -s)
    wrong = [claim for (claim, _), score in zip(pairs, scores) if (score >= SUPPORT_THRESHOLD) != expected]
    assert not wrong


def passage(article: str, n: int, fragment: str, sentences: int = 3) -> Passage:
    """A passage of `sentences` sentences of the seed article starting at the one holding `fragment`."""
    spans = split_sentences(article)
    i = next(i for i, (s, e) in enumerate(spans) if fragment in article[s:e])
    start, end = spans[i][0], spans[min(i + sentences, len(spans)) - 1][1]
    return Passage(n, "doc", SEED.name, "title", start, end, article[start:end], 1.0 / n)


@pytest.fixture(scope="module")
def passages(article: str) -> tuple[Passage, ...]:
    return (
        passage(article, 1, "The talks will take place at the Dolmabahçe"),
        passage(article, 2, "led by Vladimir Medinsky"),
    )


def test_cite_quotes_the_supporting_sentence_at_its_offsets(
    checker: SupportChecker, article: str, passages: tuple[Passage, ...]
) -> None:
    answer = "Vladimir Medinsky led Russia's delegation [2]. The talks take place at the Dolmabahçe Palace. [1, 7]"
    cited = checker.cite(answer, passages)
    assert not cited.abstained
    assert format_claims(cited.claims) == (
        "Vladimir Medinsky led Russia's delegation. [2] The talks take place at the Dolmabahçe Palace. [1]"
    )
    assert [c.n for c in cited.citations] == [2, 1]
    assert "Medinsky" in cited.citations[0].quote and "Dolmabahçe" in cited.citations[1].quote
    for c in cited.citations:
        assert article[c.start : c.end] == c.quote
        assert c.supported is True and c.support >= SUPPORT_THRESHOLD


def test_a_sentence_without_marker_gets_the_best_passage(
    checker: SupportChecker, passages: tuple[Passage, ...]
) -> None:
    cited = checker.cite("Medinsky led the Russian delegation.", passages)
    assert format_claims(cited.claims) == "Medinsky led the Russian delegation. [2]"
    assert cited.citations[0].n == 2 and cited.citations[0].supported is True


def test_a_sentence_nothing_supports_is_flagged(checker: SupportChecker, passages: tuple[Passage, ...]) -> None:
    cited = checker.cite("The capital of Australia is Canberra. [1]", passages)
    assert [(c.n, c.supported) for c in cited.citations] == [(1, False)]
    cited = checker.cite("q8vf%vfvfv S4S4", passages)  # what the tiny random model writes
    assert [c.supported for c in cited.citations] == [False]


@pytest.mark.parametrize("answer", [NOT_FOUND, f"{NOT_FOUND} [1]", f"  {NOT_FOUND}\n", "", "[3]"])
def test_the_refusal_sentence_abstains(checker: SupportChecker, passages: tuple[Passage, ...], answer: str) -> None:
    cited = checker.cite(answer, passages)
    assert (format_claims(cited.claims), cited.abstained, cited.citations) == (NOT_FOUND, True, ())


def test_a_question_in_the_passage_backs_no_claim(checker: SupportChecker) -> None:
    text = "Who led the delegation to Istanbul? The names were not announced until Friday."
    asked = Passage(1, "doc", "q.txt", "title", 0, len(text), text, 1.0)
    cited = checker.cite("Medinsky led the delegation to Istanbul. [1]", (asked,))
    [citation] = cited.citations
    assert citation.quote == "The names were not announced until Friday." and citation.supported is False


def test_a_sentence_repeating_the_question_backs_no_claim(checker: SupportChecker) -> None:
    text = "Russia's delegation was led. The names were not announced until Friday."
    echo = Passage(1, "doc", "q.txt", "title", 0, len(text), text, 1.0)
    cited = checker.cite("Medinsky led Russia's delegation. [1]", (echo,), "Who led Russia's delegation?")
    assert [c.quote for c in cited.citations] == ["The names were not announced until Friday."]
