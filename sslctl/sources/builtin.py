"""What every modality's built-in datasets share (each modality's `builtin.py` holds its own
sets: real data that ships inside installed packages or is made by Debian tools): the
`builtin:NAME[:split]` source string, and the check `sslctl doctor` reports for a set."""

from __future__ import annotations

from dataclasses import dataclass

from sslctl.errors import UserError


@dataclass(frozen=True)
class SourceCheck:
    """Whether a built-in set can be loaded on this machine (`sslctl doctor`), and the command
    that makes it so when it cannot."""

    name: str
    ok: bool
    detail: str
    fix: str | None = None


def parse_builtin(source: str, names: list[str], kind: str) -> tuple[str, str]:
    """`builtin:NAME[:split]` -> (NAME, split), split defaulting to train; UserError otherwise."""
    parts = source.split(":")
    name = parts[1] if len(parts) > 1 else ""
    split = parts[2] if len(parts) > 2 else "train"
    if name not in names:
        raise UserError(f"{source}: unknown builtin {kind} dataset; valid: {', '.join(names)}")
    if split not in ("train", "test"):
        raise UserError(f"{source}: split must be train or test, got {split!r}")
    return name, split
