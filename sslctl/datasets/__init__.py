"""Built-in datasets: real data that ships inside installed packages or is made by Debian tools."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class SourceCheck:
    """Whether a built-in set can be loaded on this machine (`sslctl doctor`), and the command
    that makes it so when it cannot."""

    name: str
    ok: bool
    detail: str
    fix: str | None = None
