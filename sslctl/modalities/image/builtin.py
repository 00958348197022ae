"""Built-in images: real datasets that ship inside installed packages; nothing is downloaded.

Each loader returns uint8 images (N, C, H, W) and int64 labels. Splits are deterministic: the
official one where it exists, else a stratified 80/20 split with seed 0.
"""

from __future__ import annotations

import gzip
from pathlib import Path

import numpy as np

from sslctl.errors import UserError
from sslctl.sources.builtin import SourceCheck, parse_builtin

FASHION_DIR = Path("/usr/share/datasets/fashion-mnist")
FASHION_FIX = "sudo apt-get install -y dataset-fashion-mnist"


def _stratified(x: np.ndarray, y: np.ndarray, split: str) -> tuple[np.ndarray, np.ndarray]:
    from sklearn.model_selection import train_test_split

    idx_train, idx_test = train_test_split(
        np.arange(len(y)), test_size=0.2, stratify=y, random_state=0
    )
    idx = idx_train if split == "train" else idx_test
    return x[idx], y[idx]


def _digits(split: str) -> tuple[np.ndarray, np.ndarray]:
    from sklearn.datasets import load_digits

    bunch = load_digits()
    x = np.round(bunch.images * (255.0 / 16.0)).astype(np.uint8)[:, None]
    return _stratified(x, bunch.target.astype(np.int64), split)


def _read_idx(path: Path) -> np.ndarray:
    with gzip.open(path, "rb") as fh:
        data = fh.read()
    ndim = data[3]
    dims = [int.from_bytes(data[4 + 4 * i : 8 + 4 * i], "big") for i in range(ndim)]
    return np.frombuffer(data, dtype=np.uint8, offset=4 + 4 * ndim).reshape(dims)


def _fashion_files(split: str) -> tuple[Path, Path]:
    prefix = "train" if split == "train" else "t10k"
    return (
        FASHION_DIR / f"{prefix}-images-idx3-ubyte.gz",
        FASHION_DIR / f"{prefix}-labels-idx1-ubyte.gz",
    )


def _fashion(split: str) -> tuple[np.ndarray, np.ndarray]:
    images, labels = _fashion_files(split)
    if not images.is_file():
        raise UserError(
            f"builtin:fashion-mnist needs the Debian package dataset-fashion-mnist ({images} "
            f"missing); install it with: {FASHION_FIX}"
        )
    return _read_idx(images)[:, None].copy(), _read_idx(labels).astype(np.int64)


LOADERS = {"digits": _digits, "fashion-mnist": _fashion}
NAMES = list(LOADERS)


def source_checks() -> list[SourceCheck]:
    """digits ships with scikit-learn (a dependency); Fashion-MNIST is a Debian package."""
    from sklearn import __version__ as sklearn_version

    files = [f for split in ("train", "test") for f in _fashion_files(split)]
    missing = [f for f in files if not f.is_file()]
    return [
        SourceCheck("digits", True, f"scikit-learn {sklearn_version}"),
        SourceCheck("fashion-mnist", True, f"IDX files in {FASHION_DIR}")
        if not missing
        else SourceCheck("fashion-mnist", False, f"{missing[0]} missing", FASHION_FIX),
    ]


def load_builtin_images(source: str) -> tuple[np.ndarray, np.ndarray]:
    """`builtin:NAME[:split]` -> (x uint8 NCHW, y int64); split defaults to train."""
    name, split = parse_builtin(source, list(LOADERS), "image")
    return LOADERS[name](split)
