"""File sources shared by the modalities: files by suffix, labels from class subfolders, .npz."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from sslctl.errors import UserError, first_line


def list_files(root: Path, suffixes: set[str], kind: str) -> list[Path]:
    files = sorted(p for p in root.rglob("*") if p.is_file() and p.suffix.lower() in suffixes)
    if not files:
        raise UserError(f"{root}: no {kind} files ({', '.join(sorted(suffixes))}) found")
    return files


def folder_labels(root: Path, files: list[Path]) -> np.ndarray | None:
    """Class index from each file's first subfolder (sorted names); None when any file sits
    directly in `root`, i.e. the folder is unlabelled."""
    if any(p.parent == root for p in files):
        return None
    classes = sorted({p.relative_to(root).parts[0] for p in files})
    index = {c: i for i, c in enumerate(classes)}
    return np.array([index[p.relative_to(root).parts[0]] for p in files], dtype=np.int64)


def open_npz(path: Path, x_meaning: str = "") -> dict[str, np.ndarray]:
    """The arrays of an .npz source, which must hold `x`; UserError naming the file otherwise.
    Never unpickles (object arrays are refused), and reads every array here, so a truncated or
    crafted member fails now, with the file named, not later inside the job."""
    try:
        with np.load(path, allow_pickle=False) as npz:
            arrays = {name: npz[name] for name in npz.files}
    except Exception as exc:  # noqa: BLE001 - truncated zip, object array, bad header: bad file
        reason = first_line(exc)
        raise UserError(f"{path}: cannot read .npz ({reason})") from None
    if "x" not in arrays:
        raise UserError(f"{path}: .npz needs an array named 'x'{x_meaning}")
    return arrays
