"""What a question asks for, and whether a short answer holds it: table tests."""

from __future__ import annotations

import pytest

from rag.answer_types import AGE, CLOCK, COUNT, DATE, DURATION, PERSON, PLACE, answer_type, has_answer_type


@pytest.mark.parametrize(
    ("question", "expected"),
    [
        ("Who led Russia's delegation?", PERSON),
        ("who's heading up ukraine's team?", PERSON),
        ("Where will the talks take place?", PLACE),
        ("Where was Trump when he told reporters that?", PLACE),  # the first question word decides
        ("When do the talks begin?", DATE),
        ("What day do the talks kick off?", DATE),
        ("How old is Vladimir Medinsky?", AGE),
        ("What time on Friday do the talks start?", CLOCK),
        ("How long are the talks supposed to last?", DURATION),
        ("How many journalists waited in Istanbul?", COUNT),
        ("Which palace hosts the negotiations?", PLACE),
        ("Why did Zelenskyy send a delegation?", None),
        ("During what time period did inequality fall?", None),
        ("When the vote gave a majority, what was it the first of?", None),
        ("What did Trump say about the talks?", None),
    ],
)
def test_answer_type(question: str, expected: str | None) -> None:
    assert answer_type(question) == expected


@pytest.mark.parametrize(
    ("sentence", "wanted", "expected"),
    [
        ("The talks are set to begin on Friday.", DATE, True),
        ("The talks took place in 2022.", DATE, True),
        ("The talks will happen later.", DATE, False),
        ("Trade grew in the 1970s.", DATE, True),
        ("It was built in the 9th century.", DATE, True),
        ("Medinsky, 54, led the team.", AGE, True),
        ("Medinsky led hundreds of officials.", AGE, False),
        ("The talks start at 10am.", CLOCK, True),
        ("On Wednesday evening the Kremlin announced it.", CLOCK, True),
        ("The talks start on Friday.", CLOCK, False),
        ("Kyiv wants an immediate 30-day ceasefire.", DURATION, True),
        ("Journalists camped out for hours.", DURATION, True),
        ("The talks will be short.", DURATION, False),
        ("Hundreds of journalists waited.", COUNT, True),
        ("The talks failed.", COUNT, False),
        ("The route is 2000 km long.", COUNT, True),
        ("The laws reduce to one law.", COUNT, True),
        ("No one can claim Ukraine is responsible.", COUNT, False),
        ("The section is 86 km long.", DURATION, True),  # "how long" asks for lengths too
        ("Putin met Trump.", PERSON, True),
        ("the talks went on.", PERSON, False),
        ("Anything at all.", None, False),
    ],
)
def test_has_answer_type(sentence: str, wanted: str | None, expected: bool) -> None:
    assert has_answer_type(sentence, wanted, set()) is expected


def test_has_answer_type_ignores_what_the_question_already_names() -> None:
    assert not has_answer_type("The talks begin on Friday.", DATE, {"friday"})
