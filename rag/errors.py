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
