"""Every fixed sentence and prompt the answerers use, kept in one place to read and diff."""

from __future__ import annotations

#: The one way to abstain, for every answerer.
NOT_FOUND = "I could not find this in the articles."
