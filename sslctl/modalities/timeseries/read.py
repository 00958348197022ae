"""Every time-series source loader: a file in one of the formats (formats.py) or a builtin
archive set, held in memory as float32 (N, C, T), NaN-padded."""

from __future__ import annotations

from pathlib import Path

import torch

from sslctl.errors import UserError
from sslctl.modalities.base import Samples
from sslctl.modalities.timeseries.formats import TEXT_SUFFIXES, read_array, read_ts, read_ucr_text


def load_series(source: str) -> Samples:
    if source.startswith("builtin:"):
        from sslctl.modalities.timeseries.builtin import load_builtin_series

        x, y = load_builtin_series(source)
    else:
        path = Path(source)
        if not path.is_file():
            problem = "is a folder; give a file" if path.is_dir() else "data file not found"
            raise UserError(f"{path}: {problem}")
        suffix = path.suffix.lower()
        if suffix in (".npy", ".npz"):
            x, y = read_array(path)
        elif suffix in TEXT_SUFFIXES:
            x, y = read_ucr_text(path)
        elif suffix == ".ts":
            x, y = read_ts(path)
        else:
            raise UserError(f"{path}: time-series data must be .npy, .npz, .csv, .tsv, .txt or .ts")
    return Samples(torch.from_numpy(x), None if y is None else torch.from_numpy(y), source)


def split_long(samples: Samples, max_length: int) -> Samples:
    """Cut series longer than max_length into consecutive sections (the last NaN-padded) and
    drop sections with nothing observed, as TS2Vec does with max_train_length."""
    x = samples.x
    n_sec = -(-x.shape[2] // max_length)
    if n_sec <= 1:
        return samples
    pad = n_sec * max_length - x.shape[2]
    x = torch.nn.functional.pad(x, (0, pad), value=float("nan"))
    x = x.unflatten(2, (n_sec, max_length)).permute(0, 2, 1, 3).flatten(0, 1)
    keep = ~torch.isnan(x).all(dim=2).all(dim=1)
    return Samples(x[keep].contiguous(), None, samples.source)
