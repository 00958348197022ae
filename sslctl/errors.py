"""Error types that map to the CLI's exit codes, and the one way an exception becomes part of
an error line.

`UserError` is anything the user can fix (bad recipe, missing file, corrupt data): the CLI
prints its one-line message and exits 2, without a traceback.
"""

import difflib


class UserError(Exception):
    """Bad input: the message names the field or file and what was expected (exit code 2)."""


class DecodeError(Exception):
    """What is wrong with one data file (the message names the problem, the caller the file):
    a streamed source counts or skips these per `data.on_decode_error`."""


class Interrupted(Exception):
    """Training stopped by SIGINT/SIGTERM after writing a checkpoint (exit code 130)."""


class NonFiniteLoss(Exception):
    """The loss became NaN or inf; nothing was saved over the last good checkpoint (exit code 1)."""


def suggest(name: str, choices: list[str], cutoff: float = 0.4) -> str:
    """Up to five close matches of a mistyped name, for an error line ("none" if nothing is)."""
    return ", ".join(difflib.get_close_matches(name, choices, n=5, cutoff=cutoff)) or "none"


def did_you_mean(name: str, choices: list[str]) -> str:
    """ " (did you mean 'X'?)" for the one close match of a mistyped key or value, else ""."""
    close = difflib.get_close_matches(name, choices, n=1, cutoff=0.6)
    return f" (did you mean {close[0]!r}?)" if close else ""


MAX_LINE = 400  # an error line's length: a crafted name or a list of 200,000 classes is cut


def one_line(message: str, limit: int = MAX_LINE) -> str:
    """An error message as the single line the CLI prints: control characters (a newline in a
    crafted file name) escaped, and cut to `limit` characters."""
    text = "".join(c if c.isprintable() else repr(c)[1:-1] for c in message.strip())
    return text if len(text) <= limit else text[: limit - 3] + "..."


def first_line(exc: BaseException, limit: int = 160, empty: str | None = None) -> str:
    """What an error line quotes of an exception: the first line of its message, cut to
    `limit` characters (a library's message can run to pages, or hold a crafted file's
    bytes), or `empty` (default: the exception's class name) when it has no message."""
    text = (str(exc).strip().splitlines() or [""])[0]
    if not text:
        return exc.__class__.__name__ if empty is None else empty
    return text if len(text) <= limit else text[: limit - 3] + "..."
