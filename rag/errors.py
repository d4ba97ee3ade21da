"""The one exception family for problems a user can fix.

A `RagError` message is a single line that names the bad value and the fix; the CLI and the UI
print it as it is, without a traceback. Programming errors are not `RagError`s and raise normally.
"""

from __future__ import annotations


class RagError(Exception):
    """Something the user can act on: a bad question, an empty folder, a wrong model path."""

    #: process exit code the CLI uses for this error
    exit_code = 1


class UsageError(RagError):
    """A bad command-line input (an empty question); exits like argparse does."""

    exit_code = 2


class IndexDamaged(RagError):
    """The saved index's parts disagree: a checksum, a count or an id does not match, or a file is
    missing or unreadable. `python -m rag.index` repairs it from the previous generation."""

    def __init__(self, index_dir: object, what: str, generation: str | None = None) -> None:
        super().__init__(
            f"The index in {index_dir}/ is damaged ({what}); "
            "run python -m rag.index to repair it from its previous generation."
        )
        self.what = what
        self.generation = generation  # the damaged generation folder, when CURRENT named one
