"""Follow-up question → standalone question, from the questions asked before it in the chat.

Retrieval sees one question at a time, so "And who led Ukraine's?" must become "Who led Ukraine's
delegation?" first. Without a model a rule does it: it recognises elliptical follow-ups (a leading
"and"/"what about", a dangling possessive, a bare name, a pronoun standing for the earlier subject)
and carries the previous question's subject into them; any other question is left as it is. With a
`complete` function (a short model completion, e.g. `model_completer(settings)` with the llama.cpp
model of `rag.generate`) the model rewrites instead, and the rule is the fallback when the model
fails or its reply is not one short question. It does not resolve "he"/"she" to a person named in an
earlier *answer*: the rule only knows the questions.
"""

from __future__ import annotations

import logging
import os
import re
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from rag.settings import Settings

log = logging.getLogger(__name__)

# Openers that mark a question as continuing the previous one; removed before rewriting.
_CONNECTIVE = re.compile(
    r"^(?:(?:and|but|also|so|then|ok(?:ay)?|well)\b[\s,]*)*(?:(?:what|how)\s+about\b\s*)?", re.IGNORECASE
)
_QUESTION_START = re.compile(
    r"^(?:who|whom|whose|what|when|where|which|why|how|is|are|was|were|do|does|did|will|would|can|could|"
    r"should|has|have|had|tell|name|list|give|describe|explain)\b",
    re.IGNORECASE,
)
_APOS = "['’]"
_DANGLING_POSSESSIVE = re.compile(rf"\b([A-Z][\w-]*(?:\s+[A-Z][\w-]*)*){_APOS}s?\s*\??$")
# A capitalised name with its possessive, then the noun phrase it owns ("Russia's delegation").
_POSSESSIVE_PHRASE = re.compile(rf"\b([A-Z][\w-]*(?:\s+[A-Z][\w-]*)*){_APOS}s?((?:\s+[a-z][\w-]*)+)")
_NAME = re.compile(r"\b[A-Z][\w-]*(?:\s+(?:of\s+|the\s+)?[A-Z][\w-]*)*")
_WH_ONLY = re.compile(r"(?:who|whom|what|when|where|which|why|how)(?:\s+else)?\b", re.IGNORECASE)
_DETERMINED = re.compile(r"\b(?:the|a|an|this|these|those)\s+[a-z][\w-]*", re.IGNORECASE)
_CALENDAR = frozenset(
    "monday tuesday wednesday thursday friday saturday sunday january february march april may june july "
    "august september october november december".split()
)
_PRONOUN = re.compile(r"\b(it|they|them|its|their)\b", re.IGNORECASE)
# Words that end a noun phrase: verbs-to-be, auxiliaries, prepositions, conjunctions.
_PHRASE_END = frozenset(
    "is are was were be been do does did will would can could should has have had in on at to from by for "
    "with about after before during and or but than that which who when where why how".split()
)

Complete = Callable[[str], str]

REWRITE_PROMPT = (
    "Rewrite the last question so that it can be understood without the earlier ones. "
    "Keep its meaning; do not answer it. Reply with the rewritten question only.\n\n"
    "Earlier questions:\n{earlier}\n\nLast question: {question}\nRewritten question:"
)


def rewrite(question: str, previous: Sequence[str], complete: Complete | None = None) -> str:
    """The standalone form of `question`, given the earlier user questions of the chat (oldest first)."""
    question = question.strip()
    if not previous:
        return question
    if complete is not None and looks_like_follow_up(question):
        try:
            rewritten = _model_rewrite(question, previous, complete)
        except (RuntimeError, ValueError, OSError) as err:  # the rule still gives a usable question
            log.warning("the model could not rewrite the follow-up (%s); used the rule", err)
            rewritten = None
        if rewritten:
            return rewritten
    subject: str | None = None
    for earlier in previous:
        subject = rewrite_rule(earlier, subject)
    return rewrite_rule(question, subject)


def looks_like_follow_up(question: str) -> bool:
    """Whether `question` may lean on earlier ones: a connective opener, a pronoun, a dangling
    possessive, or four words or fewer. Only these are worth a model call."""
    opener = _CONNECTIVE.match(question)
    return bool(
        (opener and opener.end() > 0)
        or _PRONOUN.search(question)
        or re.search(r"\b(?:he|she|him|her|his|hers|this|that|those|these)\b", question, re.IGNORECASE)
        or _DANGLING_POSSESSIVE.search(question)
        or len(question.split()) <= 4
    )


def rewrite_rule(question: str, previous: str | None) -> str:
    """Carries the subject of `previous` (a standalone question) into an elliptical `question`."""
    question = question.strip()
    if not previous or not question:
        return question
    previous = previous.strip()
    opener = _CONNECTIVE.match(question)
    rest = question[opener.end() :].strip() if opener else question
    continued = bool(opener and opener.end() > 0)
    if not rest:
        return question
    if _WH_ONLY.fullmatch(_strip_end(rest)) and _WH_ONLY.match(previous):
        # "And where?": the previous question with its question word swapped.
        wh = _WH_ONLY.match(previous)
        return _capitalise(_strip_end(rest).lower()) + previous[wh.end() :]
    bare = not _QUESTION_START.match(rest)
    dangling = _DANGLING_POSSESSIVE.search(rest)
    if bare and (continued or dangling or _is_name(rest)):
        # "What about Ukraine?", "And Ukraine's?": the previous question about the new name.
        return _replace_focus(previous, _strip_end(rest))
    if dangling:
        # "Who led Ukraine's?": the possessive lacks the noun it owned in the previous question.
        owned = _POSSESSIVE_PHRASE.search(previous)
        if owned:
            return _capitalise(f"{_strip_end(rest)} {_head(owned.group(2))}?")
    if continued or _PRONOUN.search(rest):
        subject = _subject(previous)
        pronoun = _PRONOUN.search(rest)
        if subject and pronoun and (continued or not _NAME.search(rest, 1)):
            word = pronoun.group(1).lower()
            replacement = f"{subject}'s" if word in ("its", "their") else subject
            return _capitalise(rest[: pronoun.start()] + replacement + rest[pronoun.end() :])
    return _capitalise(rest) if continued else question


def model_completer(settings: Settings, max_tokens: int = 48) -> Complete:
    """A short, greedy completion with the settings' llama.cpp model, loaded once and shared with
    the answerer. The caller must not run it while another thread uses the same model."""

    def complete(prompt: str) -> str:
        from rag.generate import check_model_file, load_llama  # llama_cpp loads only here

        assert settings.model_path is not None
        threads = getattr(settings, "n_threads", 0) or os.cpu_count() or 1
        llm = load_llama(str(check_model_file(settings.model_path)), settings.n_ctx, threads)
        reply = llm.create_chat_completion(
            [{"role": "user", "content": prompt}], max_tokens=max_tokens, temperature=0.0
        )
        return reply["choices"][0]["message"].get("content") or ""

    return complete


def _model_rewrite(question: str, previous: Sequence[str], complete: Complete) -> str | None:
    earlier = "\n".join(f"- {q.strip()}" for q in previous[-4:])
    reply = complete(REWRITE_PROMPT.format(earlier=earlier, question=question))
    line = (reply or "").strip().splitlines()[0].strip().strip('"“”') if (reply or "").strip() else ""
    # A usable rewrite is one short question made mostly of the chat's own words; anything else
    # (an answer, a ramble, a small model's noise) is discarded.
    if not line or len(line) > 3 * len(question) + 200 or not line.endswith("?"):
        return None
    words = [w.lower() for w in re.findall(r"[A-Za-z][A-Za-z'’-]*", line)]
    known = {w.lower() for text in (*previous, question) for w in re.findall(r"[A-Za-z][A-Za-z'’-]*", text)}
    letters = sum(ch.isalpha() or ch.isspace() for ch in line) / len(line)
    if len(words) < 2 or letters < 0.8 or sum(w in known for w in words) < len(words) / 2:
        return None
    return line


def _replace_focus(previous: str, name: str) -> str:
    """`previous` with its focus (the owner of a possessive, else its first name, else its first
    "the ..." phrase) replaced by `name`; failing all three, `name` is added in brackets."""
    name = re.sub(rf"{_APOS}s?$", "", name).strip()
    owned = _POSSESSIVE_PHRASE.search(previous)
    if owned:
        return previous[: owned.start(1)] + name + previous[owned.end(1) :]
    names = _names(previous)
    if names:
        first = names[0]
        return previous[: first.start()] + name + previous[first.end() :]
    phrase = _DETERMINED.search(previous)
    if phrase and _DETERMINED.match(name):
        return previous[: phrase.start()] + name + previous[phrase.end() :]
    return f"{_strip_end(previous)} ({name})?"


def _subject(previous: str) -> str | None:
    """The phrase a pronoun in the follow-up stands for: a possessive phrase, else a name."""
    owned = _POSSESSIVE_PHRASE.search(previous)
    if owned:
        return f"{owned.group(1)}'s {_head(owned.group(2))}"
    names = _names(previous)
    return names[0].group(0) if names else None


def _names(text: str) -> list[re.Match[str]]:
    """Capitalised names in `text`, leaving out the first word (capitalised anyway) and dates."""
    return [m for m in _NAME.finditer(text) if m.start() > 0 and m.group(0).lower() not in _CALENDAR]


def _head(words: str) -> str:
    """The leading noun phrase of `words`: up to three words, stopping at a function word."""
    kept = []
    for word in words.split():
        if word.lower() in _PHRASE_END or len(kept) == 3:
            break
        kept.append(word)
    return " ".join(kept)


def _is_name(text: str) -> bool:
    match = _NAME.fullmatch(_strip_end(text))
    return match is not None


def _strip_end(text: str) -> str:
    return text.strip().rstrip("?.! ").strip()


def _capitalise(text: str) -> str:
    return text[:1].upper() + text[1:] if text else text
