"""One writer per output folder. A job that writes a run (or a pack) holds an exclusive
`flock` on `FOLDER/.lock` while it runs; a second job given the same folder exits 2 at once
instead of interleaving its metrics and checkpoints with the first's. The kernel drops the
lock when its holder exits, however it exits, so a killed job never leaves a stale lock (the
file stays, empty, and means nothing without a holder)."""

from __future__ import annotations

import fcntl
import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from sslctl.errors import UserError

LOCK = ".lock"


def others(folder: Path) -> list[Path]:
    """The folder's entries other than the lock: what decides whether it is empty."""
    return [p for p in folder.iterdir() if p.name != LOCK]


@contextmanager
def owned(folder: Path, option: str = "--out") -> Iterator[None]:
    """Hold `folder`'s lock for the block, creating the folder if needed; a folder this call
    created and the block left empty (a refused job) is removed again."""
    created = not folder.exists()
    try:
        folder.mkdir(parents=True, exist_ok=True)
        fd = os.open(folder / LOCK, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o666)
    except OSError as exc:
        raise UserError(f"{option} {folder}: cannot be written ({exc.strerror})") from None
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        os.close(fd)
        raise UserError(
            f"{option} {folder}: another sslctl process is writing it; wait for it to finish "
            "or choose another folder"
        ) from None
    try:
        yield
    finally:
        if created and not others(folder):
            (folder / LOCK).unlink(missing_ok=True)
            folder.rmdir()
        os.close(fd)
