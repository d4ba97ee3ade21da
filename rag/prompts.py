"""Every fixed sentence and prompt the answerers use, kept in one place to read and diff.

The llama.cpp answerer sends `SYSTEM_PROMPT` as the system message and `USER_TEMPLATE` (with the
numbered passages and the question filled in) as the user message; the model's chat template from
the GGUF file turns them into the prompt. Nothing here knows about tokens or budgets.
"""

from __future__ import annotations

#: The one way to abstain, for every answerer.
NOT_FOUND = "I could not find this in the articles."

SYSTEM_PROMPT = (
    "You answer questions about news articles using only the numbered passages you are given. "
    "Write one to three short sentences in plain English. "
    "End every sentence with the number of the passage it comes from in square brackets, "
    "for example: The talks were held in Istanbul. [2] "
    "If a sentence uses two passages, write both numbers: [1, 3]. "
    "Do not use anything you know from elsewhere, and do not guess. "
    f"If the passages do not contain the answer, reply with exactly this sentence and nothing else: {NOT_FOUND}"
)

#: One passage in the user message: its label, the article's title, and its (possibly trimmed) text.
PASSAGE_TEMPLATE = "[{n}] {title}\n{text}"

#: Joins the sentences kept from one passage when sentences between them were left out.
ELLIPSIS = " … "

USER_TEMPLATE = "Passages:\n\n{passages}\n\nQuestion: {question}"
