"""Time-series file formats: .npy/.npz arrays, UCR-layout CSV/TSV and the UCR/UEA `.ts` format.

Every reader returns float32 `x` shaped (N, C, T) and optional int64 labels `y`. Series of
different lengths are padded at the end with NaN, and missing values (`?` in .ts, NaN in
CSV) stay NaN: the encoders treat NaN timesteps as absent (masked), never as zeros.
Problems raise UserError naming the file (and line) and what is wrong.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from sslctl.errors import UserError
from sslctl.sources.labels import integer_labels
from sslctl.sources.npz import open_npz

TEXT_SUFFIXES = {".csv": ",", ".tsv": "\t", ".txt": None}


def pad_series(series: list[np.ndarray]) -> np.ndarray:
    """List of (C, T_i) arrays -> (N, C, max T_i), NaN-padded at the end."""
    length = max(s.shape[1] for s in series)
    out = np.full((len(series), series[0].shape[0], length), np.nan, dtype=np.float32)
    for i, s in enumerate(series):
        out[i, :, : s.shape[1]] = s
    return out


def _trim_trailing_nan(x: np.ndarray) -> np.ndarray:
    """Drop timesteps at the end that are NaN in every series and channel (padding columns)."""
    present = ~np.isnan(x).all(axis=(0, 1))
    last = int(np.nonzero(present)[0][-1]) + 1 if present.any() else 0
    return x[:, :, :last]


def _check_x(x: np.ndarray, path: Path) -> np.ndarray:
    if x.ndim == 2:
        x = x[:, None, :]
    if x.ndim != 3:
        raise UserError(
            f"{path}: x must be (N, C, T) or (N, T) for univariate series, got shape {x.shape}"
        )
    if not np.issubdtype(x.dtype, np.number):
        raise UserError(f"{path}: x must be numeric, got dtype {x.dtype}")
    if x.shape[0] == 0 or x.shape[2] == 0:
        raise UserError(f"{path}: x is empty (shape {x.shape})")
    x = x.astype(np.float32)
    if np.isinf(x).any():
        raise UserError(f"{path}: x holds infinite values (use NaN for missing values)")
    x = _trim_trailing_nan(x)
    if x.shape[2] == 0:
        raise UserError(f"{path}: every value of x is NaN")
    return x


def read_array(path: Path) -> tuple[np.ndarray, np.ndarray | None]:
    """`.npy` (x only) or `.npz` (x and optional y)."""
    if path.suffix == ".npy":
        try:  # memory-mapped: a header that claims more than the file holds fails here
            x = np.load(path, mmap_mode="r", allow_pickle=False)
        except (OSError, ValueError) as exc:
            raise UserError(f"{path}: cannot read .npy ({str(exc)[:160]})") from None
        return _check_x(x, path), None
    arrays = open_npz(path, " shaped (N, C, T)")
    x = _check_x(arrays["x"], path)
    if "y" not in arrays:
        return x, None
    y = arrays["y"]
    if y.ndim != 1 or len(y) != len(x):
        raise UserError(f"{path}: y has {y.size} labels for {len(x)} series (need one each)")
    if not np.issubdtype(y.dtype, np.number):
        raise UserError(f"{path}: y must hold integer class ids, got dtype {y.dtype}")
    return x, integer_labels(y, str(path))


def read_ucr_text(path: Path) -> tuple[np.ndarray, np.ndarray]:
    """UCR layout: one series per line, label first, then the values (NaN pads short ones)."""
    sep = TEXT_SUFFIXES[path.suffix.lower()]
    rows: list[np.ndarray] = []
    labels: list[float] = []
    with open(path, encoding="utf-8", errors="replace") as fh:
        for lineno, line in enumerate(fh, 1):
            if not line.strip():
                continue
            parts = line.strip().split(sep)
            try:
                values = np.array(parts, dtype=np.float64)
            except ValueError:
                raise UserError(f"{path}:{lineno}: non-numeric value in a UCR-layout row") from None
            if len(values) < 2:
                raise UserError(f"{path}:{lineno}: a row needs a label and at least one value")
            labels.append(values[0])
            rows.append(values[None, 1:].astype(np.float32))
    if not rows:
        raise UserError(f"{path}: no series")
    return _check_x(pad_series(rows), path), integer_labels(np.array(labels), str(path))


# ------------------------------------------------------------------ .ts
BOOL_TAGS = {"timestamps", "missing", "univariate", "equallength"}
INT_TAGS = {"dimensions", "serieslength"}


def _parse_header(path: Path, lines: list[tuple[int, str]]) -> tuple[dict, int]:
    """Header tags up to @data -> (tags, index of the first data line)."""
    tags: dict = {}
    for i, (lineno, line) in enumerate(lines):
        if not line.startswith("@"):
            raise UserError(f"{path}:{lineno}: expected a @tag or @data before the series")
        tag, _, rest = line[1:].partition(" ")
        key, words = tag.lower(), rest.split()
        if key == "data":
            return tags, i + 1
        if key == "problemname":
            tags[key] = rest.strip()
        elif key in BOOL_TAGS:
            if len(words) != 1 or words[0].lower() not in ("true", "false"):
                raise UserError(f"{path}:{lineno}: @{tag} needs true or false, got {rest!r}")
            tags[key] = words[0].lower() == "true"
        elif key in INT_TAGS:
            if len(words) != 1 or not words[0].isdigit() or int(words[0]) == 0:
                raise UserError(f"{path}:{lineno}: @{tag} needs a positive integer, got {rest!r}")
            tags[key] = int(words[0])
        elif key == "classlabel":
            if not words or words[0].lower() not in ("true", "false"):
                raise UserError(f"{path}:{lineno}: @classLabel needs true/false first")
            if words[0].lower() == "true" and len(words) < 2:
                raise UserError(f"{path}:{lineno}: @classLabel true lists no class labels")
            tags[key] = words[1:] if words[0].lower() == "true" else None
        elif key == "targetlabel":
            raise UserError(f"{path}:{lineno}: regression .ts files (@targetLabel) not supported")
        else:
            raise UserError(f"{path}:{lineno}: unknown .ts header tag @{tag}")
    raise UserError(f"{path}: no @data line (malformed .ts header)")


def read_ts(path: Path) -> tuple[np.ndarray, np.ndarray | None]:
    """The UCR/UEA `.ts` format (sktime/aeon): a @tag header, then one series per line with
    channels separated by ':' and the class label last. `?` marks a missing value."""
    try:
        text = path.read_text(encoding="utf-8", errors="replace")
    except OSError as exc:
        raise UserError(f"{path}: cannot read ({exc.strerror})") from None
    lines = [
        (n, s) for n, raw in enumerate(text.splitlines(), 1) if (s := raw.strip()) and s[0] != "#"
    ]
    tags, start = _parse_header(path, lines)
    if tags.get("timestamps"):
        raise UserError(f"{path}: timestamped .ts files (@timeStamps true) are not supported")
    if "classlabel" not in tags:
        raise UserError(f"{path}: malformed .ts header: @classLabel is missing")
    classes: list[str] | None = tags["classlabel"]
    dims = tags.get("dimensions", 1 if tags.get("univariate", True) else None)
    series: list[np.ndarray] = []
    labels: list[int] = []
    for lineno, line in lines[start:]:
        parts = line.split(":")
        if classes is not None:
            label = parts.pop().strip()
            if label not in classes:
                raise UserError(f"{path}:{lineno}: class label {label!r} not in @classLabel")
            labels.append(classes.index(label))
        if dims is None:
            dims = len(parts)
        if len(parts) != dims:
            raise UserError(f"{path}:{lineno}: {len(parts)} channels, the header says {dims}")
        try:
            chans = [np.array(p.replace("?", "nan").split(","), dtype=np.float32) for p in parts]
        except ValueError:
            raise UserError(f"{path}:{lineno}: non-numeric value in a series") from None
        if tags.get("equallength") and "serieslength" in tags:
            if any(len(c) != tags["serieslength"] for c in chans):
                raise UserError(
                    f"{path}:{lineno}: length differs from @seriesLength {tags['serieslength']}"
                )
        series.append(pad_series([c[None] for c in chans])[:, 0])  # channels may differ in length
    if not series:
        raise UserError(f"{path}: no series after @data")
    y = np.array(labels, dtype=np.int64) if classes is not None else None
    return _check_x(pad_series(series), path), y
