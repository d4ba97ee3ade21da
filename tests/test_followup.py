"""Follow-up rewriting: the rule, table-driven, and the model path with a real completion function."""

from __future__ import annotations

import pytest

from rag.followup import rewrite, rewrite_rule

RUSSIA = "Who led Russia's delegation?"


@pytest.mark.parametrize(
    "previous, question, expected",
    [
        # a dangling possessive takes the noun it owned in the previous question
        (RUSSIA, "And who led Ukraine's?", "Who led Ukraine's delegation?"),
        (RUSSIA, "who led Ukraine’s?", "Who led Ukraine’s delegation?"),
        # a bare name, or "what about" a name, replaces the previous question's focus
        (RUSSIA, "What about Ukraine?", "Who led Ukraine's delegation?"),
        (RUSSIA, "And Ukraine's?", "Who led Ukraine's delegation?"),
        (RUSSIA, "Ukraine?", "Who led Ukraine's delegation?"),
        (
            "Where was Steve Witkoff expected to be on Friday?",
            "How about Marco Rubio?",
            "Where was Marco Rubio expected to be on Friday?",
        ),
        # a lone question word swaps the previous question's
        ("When do the talks begin?", "And where?", "Where do the talks begin?"),
        # "what about the X" swaps the previous "the ..." phrase
        ("When do the talks begin?", "What about the ceasefire?", "When do the ceasefire begin?"),
        # nothing to swap: the new name is added
        ("When do the talks begin?", "What about Ukraine?", "When do the talks begin (Ukraine)?"),
        # a pronoun after a connective stands for the previous subject
        (RUSSIA, "And when did they arrive?", "When did Russia's delegation arrive?"),
        (RUSSIA, "and where did it arrive in Turkey?", "Where did Russia's delegation arrive in Turkey?"),
        (RUSSIA, "Where did their plane land?", "Where did Russia's delegation's plane land?"),
        # standalone questions are left alone
        (RUSSIA, "Who led Ukraine's delegation?", "Who led Ukraine's delegation?"),
        (RUSSIA, "Where will the talks take place?", "Where will the talks take place?"),
        (RUSSIA, "When did it arrive in Istanbul?", "When did it arrive in Istanbul?"),
        # a connective before a complete question is just dropped
        (RUSSIA, "and what did Zelenskyy say?", "What did Zelenskyy say?"),
        # no previous question: unchanged
        (None, "And who led Ukraine's?", "And who led Ukraine's?"),
    ],
)
def test_rule(previous, question, expected):
    assert rewrite_rule(question, previous) == expected


def test_rewrite_carries_the_subject_through_a_chain_of_follow_ups():
    history = [RUSSIA, "What about Ukraine?"]
    assert rewrite("And when did they arrive?", history) == "When did Ukraine's delegation arrive?"


def test_rewrite_without_history_returns_the_question():
    assert rewrite("  Who led Russia's delegation?  ", []) == RUSSIA


@pytest.mark.parametrize(
    "reply, expected",
    [
        # a usable reply: the first line, quotes removed
        ('"Who led Ukraine\'s delegation to Istanbul?"\nextra', "Who led Ukraine's delegation to Istanbul?"),
        # not a question, or empty: the rule's rewrite instead
        ("Rustem Umerov led it.", "Who led Ukraine's delegation?"),
        ("", "Who led Ukraine's delegation?"),
        ("4S4Smv[O.{mv[O.{mv[Smv[G?", "Who led Ukraine's delegation?"),
        ("Why do bananas glow purple at night?", "Who led Ukraine's delegation?"),
    ],
)
def test_model_rewrite_falls_back_to_the_rule(reply, expected):
    prompts = []

    def complete(prompt: str) -> str:
        prompts.append(prompt)
        return reply

    assert rewrite("And who led Ukraine's?", [RUSSIA], complete) == expected
    assert RUSSIA in prompts[0] and "And who led Ukraine's?" in prompts[0]


def test_model_is_not_asked_about_a_self_contained_question():
    def complete(prompt: str) -> str:
        raise AssertionError("the model should not be called")

    assert rewrite("Where will the peace talks take place?", [RUSSIA], complete) == (
        "Where will the peace talks take place?"
    )


def test_a_failing_model_falls_back_to_the_rule():
    def complete(prompt: str) -> str:
        raise RuntimeError("llama_decode returned -1")

    assert rewrite("What about Ukraine?", [RUSSIA], complete) == "Who led Ukraine's delegation?"
