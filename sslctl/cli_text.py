"""How a command's docstring becomes its `--help`: paragraphs reflowed (typer keeps a
docstring's line breaks in the rich help, so a sentence broke mid-line where the source
wrapped), and an example to copy as the epilog, with a pointer to what a recipe can name."""

from __future__ import annotations

import inspect
from collections.abc import Callable
from typing import Any

import typer

UNITS_HINT = "What a recipe or option can name: sslctl recipe list --units"


def reflow(text: str) -> str:
    """Each paragraph of a docstring as one line, for the help to wrap at the terminal."""
    paragraphs = inspect.cleandoc(text).split("\n\n")
    return "\n\n".join(" ".join(line.strip() for line in p.splitlines()) for p in paragraphs)


def command(
    app: typer.Typer, example: str, name: str | None = None, units: bool = False, **kwargs: Any
) -> Callable[[Callable], Callable]:
    """`app.command` with the function's reflowed docstring as help and `example` (and, with
    `units`, where to see what the command's recipe can name) as its epilog."""

    def register(function: Callable) -> Callable:
        epilog = [f"Example: {example}", *([UNITS_HINT] if units else [])]
        return app.command(
            name, help=reflow(function.__doc__ or ""), epilog="\n\n".join(epilog), **kwargs
        )(function)

    return register
