"""What kind of thing a question asks for, and whether an answer holds one.

`answer_type(question)` reads the kind from the first question word, then from phrases ("how old",
"what time", "how many", "which year"): a person, a place, an age, a time of day, a duration, a
count or a date, or None. Person and place are loose (any capitalised word would do) and are not
enforced. The others are strict: `has_answer_type(text, kind, question_words)` says whether a
short answer holds such a thing that the question does not already name, so "Friday" cannot answer
"What time on Friday do the talks start?". Rules for English news prose; it does not understand
the sentence (the reader does).
"""

from __future__ import annotations

import re

# Kinds of answer a question can ask for. Person and place are loose (any capitalised word) and
# only break ties; the others are strict: a sentence without a date-like word cannot answer "when",
# and one without a number (or an hour) cannot answer "how old", "what time", "how long" or
# "how many".
PERSON, PLACE = "person", "place"
AGE, CLOCK, DURATION, COUNT, DATE = "age", "clock", "duration", "count", "date"
STRICT = frozenset({AGE, CLOCK, DURATION, COUNT, DATE})

_MONTHS = "january february march april may june july august september october november december"
_DAYS = "monday tuesday wednesday thursday friday saturday sunday"
_NUMBER_WORDS = (
    "two three four five six seven eight nine ten eleven twelve fifteen twenty thirty forty fifty "
    "sixty seventy eighty ninety hundred hundreds thousand thousands million millions billion billions "
    "dozen dozens several half"
)
_UNIT = r"(?:second|minute|hour|day|night|week|month|year|decade|century|centuries)s?"
_NUMBER = rf"\b\d[\d,.]*|(?<!\bno )\bone\b|\b(?:{'|'.join(_NUMBER_WORDS.split())})\b|\ba few\b|\bpercent\b"
_PATTERNS = {
    AGE: re.compile(r"\b\d{1,3}[- ]years?[- ]old\b|\baged? \d{1,3}\b|,\s\d{2},", re.IGNORECASE),
    CLOCK: re.compile(
        r"\b\d{1,2}(?::\d\d)?\s*(?:am|pm|a\.m\.|p\.m\.)|\b\d{1,2}:\d\d\b"
        r"|\b(?:noon|midday|midnight|o[’']clock|morning|afternoon|evening|nightfall|dawn|dusk)\b",
        re.IGNORECASE,
    ),
    DURATION: re.compile(
        rf"{_NUMBER}|\ban? {_UNIT}\b|\bfor (?:hours|days|weeks|months|years|decades)\b|\buntil\b|\bsince\b",
        re.IGNORECASE,
    ),
    COUNT: re.compile(_NUMBER, re.IGNORECASE),
    DATE: re.compile(
        rf"\b(?:{'|'.join(_MONTHS.split() + _DAYS.split())}|\d{{3,4}}s?|yesterday|today|tomorrow|tonight)\b"
        rf"|\b\d+(?:st|nd|rd|th)\b|\b(?:century|centuries|decade|decades|ago|era|reign|BC|BCE|AD|CE)\b"
        rf"|\b(?:last|next|this|earlier|later) (?:week|month|year)\b",
        re.IGNORECASE,
    ),
}
_CAPITALISED = re.compile(r"(?<![.!?]\s)(?<!^)\b[A-Z][\w’'-]+")
_LEADING_WORD = re.compile(r"\b(who|whom|whose|where|when|why|how|what|which)\b")
# Phrases that ask for a kind of answer, tried in order once the first question word has not decided.
_ASKS = [
    (re.compile(pattern), kind)
    for pattern, kind in (
        (r"\bhow old\b|\bwhat age\b", AGE),
        (r"(?<!during )\bwhat time\b(?! (?:period|frame|span))|\bwhat hour\b", CLOCK),
        (r"\bhow long\b", DURATION),
        (r"\bhow (?:many|much)\b|\bwhat (?:percentage|number|amount|share)\b", COUNT),
        (r"\b(?:what|which) (?:year|day|date|month)\b", DATE),
        (r"\bwhich (?:man|woman|person|official|minister|leader|president|diplomat|envoy)\b", PERSON),
        (r"\b(?:what|which) (?:city|country|place|palace|building|capital|shore)\b", PLACE),
    )
]


def answer_type(question: str) -> str | None:
    """What kind of thing the question asks for, from its first question word, or None."""
    q = question.lower()
    lead = _LEADING_WORD.search(q)
    first = lead.group(1) if lead else None
    if first == "why":
        return None
    if first in ("who", "whom", "whose"):
        return PERSON
    if first == "where":
        return PLACE
    if first == "when" and not re.search(r",\s*(?:who|whom|whose|where|why|how|what|which)\b", q):
        return DATE
    for asks, kind in _ASKS:
        if asks.search(q):
            return kind
    return None


def has_answer_type(sentence: str, wanted: str | None, question_words: set[str]) -> bool:
    """Whether `sentence` holds something of the wanted kind that the question does not already name."""
    if wanted is None:
        return False
    pattern = _PATTERNS.get(wanted, _CAPITALISED)
    return any(found.lower() not in question_words for found in pattern.findall(sentence))
