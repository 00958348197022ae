"""Error types that map to the CLI's exit codes.

`UserError` is anything the user can fix (bad recipe, missing file, corrupt data): the CLI
prints its one-line message and exits 2, without a traceback.
"""

import difflib


class UserError(Exception):
    """Bad input: the message names the field or file and what was expected (exit code 2)."""


class Interrupted(Exception):
    """Training stopped by SIGINT/SIGTERM after writing a checkpoint (exit code 130)."""


class NonFiniteLoss(Exception):
    """The loss became NaN or inf; nothing was saved over the last good checkpoint (exit code 1)."""


def suggest(name: str, choices: list[str]) -> str:
    """Up to five close matches of a mistyped name, for an error line ("none" if nothing is)."""
    return ", ".join(difflib.get_close_matches(name, choices, n=5, cutoff=0.4)) or "none"
