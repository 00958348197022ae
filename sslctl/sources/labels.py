"""Class labels as sources hold them. Integer labels are kept as they are, not renumbered per
file: the probe numbers the classes of train and test together (by name when the source
names them), which is what keeps a test file lacking one class in step with its train file.
Values are range-checked here, so a crafted 1e30 fails as one line instead of overflowing
an array or sizing a table."""

from __future__ import annotations

import numpy as np

from sslctl.errors import UserError

MAX_LABEL = 2**31 - 1


def integer_labels(values: np.ndarray, where: str) -> np.ndarray:
    """int64 labels from numbers that must be finite, whole and within +-MAX_LABEL."""
    v = np.asarray(values, dtype=np.float64).reshape(-1)
    if not np.isfinite(v).all():
        raise UserError(f"{where}: a label is missing or not finite")
    if (v != np.round(v)).any():
        raise UserError(f"{where}: labels must be integers")
    if len(v) and np.abs(v).max() > MAX_LABEL:
        raise UserError(f"{where}: label {v[np.abs(v).argmax()]:.6g} is outside +-{MAX_LABEL}")
    return v.astype(np.int64)


def named_labels(names: list[str], where: str) -> tuple[np.ndarray, list[str]]:
    """(labels, classes) from one label string per sample: integers as they are when every
    label is one, else class names numbered in sorted order. An empty label is refused: as a
    class of its own it would renumber the others."""
    empty = next((i for i, name in enumerate(names) if not name), None)
    if empty is not None:
        raise UserError(f"{where}: sample {empty + 1} has an empty label")
    if all(name.lstrip("-").isdigit() for name in names):
        labels = integer_labels(np.array([float(n) for n in names]), where)
        if labels.min() < 0:  # shards store labels as non-negative .cls numbers
            raise UserError(f"{where}: integer labels must be >= 0 (or give class names)")
        return labels, []
    classes, index = np.unique(np.array(names), return_inverse=True)
    return index.astype(np.int64), [str(c) for c in classes]
