"""Every file sslctl writes goes to a temporary name in its folder and is renamed into place
when complete: a crash, a full disk or Ctrl-C never leaves a half-written file under the real
name, and a reader sees the old file or the new one, never a mix."""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any


def file_mode() -> int:
    """What a plain `open(..., "w")` would create (0o666 less the umask); mkstemp's files are
    0o600, which would hide shards and runs from the user's group."""
    mask = os.umask(0)
    os.umask(mask)
    return 0o666 & ~mask


def temp_path(path: Path) -> str:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    os.close(fd)
    os.chmod(tmp, file_mode())
    return tmp


def atomic_write(path: Path, write: Callable[[str], None]) -> None:
    """`write(tmp)` fills a temporary file beside `path`, which then replaces `path`. The mode
    is set again after writing: a writer may replace the file (safetensors creates its own,
    0o600), and what the user gets must follow the umask."""
    tmp = temp_path(path)
    try:
        write(tmp)
        os.chmod(tmp, file_mode())
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)


def save_npz(path: Path, **arrays) -> None:
    """np.savez, atomically (through a file object: given a name, numpy appends `.npz`)."""
    import numpy as np

    def write(tmp: str) -> None:
        with open(tmp, "wb") as fh:
            np.savez(fh, **arrays)

    atomic_write(path, write)


def save_npy(path: Path, array) -> None:
    """np.save, atomically."""
    import numpy as np

    def write(tmp: str) -> None:
        with open(tmp, "wb") as fh:
            np.save(fh, array)

    atomic_write(path, write)


def write_text(path: Path, text: str) -> None:
    atomic_write(path, lambda tmp: Path(tmp).write_text(text))


def write_json(path: Path, obj: Any) -> None:
    write_text(path, json.dumps(obj, indent=2) + "\n")
