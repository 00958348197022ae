"""The .npz array source every modality reads: checked, never unpickled."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from sslctl.errors import UserError, first_line
from sslctl.io.regular import check_file


def npz_source(source: str, kind: str) -> Path:
    """The path of an array source, which must be an .npz: what a source string that is not a
    file source or builtin set has to be."""
    path = Path(source)
    if path.suffix.lower() != ".npz":
        raise UserError(
            f"{path}: {kind} data must be a folder, a list file (.txt, .csv), a folder of "
            "shards or a .npz file"
        )
    return path


def open_npz(path: Path, x_meaning: str = "") -> dict[str, np.ndarray]:
    """The arrays of an .npz source, which must hold `x`; UserError naming the file otherwise.
    Never unpickles (object arrays are refused), and reads every array here, so a truncated or
    crafted member fails now, with the file named, not later inside the job."""
    check_file(path, ".npz")
    try:
        with np.load(path, allow_pickle=False) as npz:
            arrays = {name: npz[name] for name in npz.files}
    except Exception as exc:  # noqa: BLE001 - truncated zip, object array, bad header: bad file
        reason = first_line(exc)
        raise UserError(f"{path}: cannot read .npz ({reason})") from None
    if "x" not in arrays:
        raise UserError(f"{path}: .npz needs an array named 'x'{x_meaning}")
    return arrays
