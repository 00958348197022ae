"""UCR/UEA series that ship inside the `aeon` wheel (aeon/datasets/data/NAME/NAME_SPLIT.ts).

The files are located with importlib.util.find_spec and read by sslctl's own .ts reader; aeon
itself is never imported (it pulls in numba). Splits are the archive's official train/test.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path

import numpy as np

from sslctl.errors import UserError
from sslctl.optional import install_hint
from sslctl.sources.builtin import SourceCheck, parse_builtin

# The sets docs/datasets.md lists; any other NAME with NAME_TRAIN.ts in aeon's folder works too.
DOCUMENTED = ["GunPoint", "ArrowHead", "ItalyPowerDemand", "BasicMotions", "JapaneseVowels"]
INSTALL = f"pip install 'sslctl[data]' (or: {install_hint('aeon')})"


def aeon_data_dir() -> Path:
    spec = importlib.util.find_spec("aeon")
    if spec is None or not spec.submodule_search_locations:
        raise UserError(
            "builtin time-series sets need aeon (the UCR/UEA files ship inside its wheel), "
            f"which is not installed; install it with: {INSTALL}"
        )
    return Path(next(iter(spec.submodule_search_locations))) / "datasets" / "data"


def available() -> list[str]:
    root = aeon_data_dir()
    train_files = root.glob("*/*_TRAIN.ts")
    return sorted(p.parent.name for p in train_files if p.stem == f"{p.parent.name}_TRAIN")


def source_checks() -> list[SourceCheck]:
    """One check for the archive sets docs/datasets.md lists: every split file inside aeon's
    wheel."""
    name = "UCR/UEA (aeon)"
    try:
        root = aeon_data_dir()
    except UserError:
        return [SourceCheck(name, False, "aeon is not installed", INSTALL)]
    files = [root / n / f"{n}_{s}.ts" for n in DOCUMENTED for s in ("TRAIN", "TEST")]
    missing = [f for f in files if not f.is_file()]
    if missing:
        return [SourceCheck(name, False, f"{missing[0]} missing", INSTALL)]
    return [SourceCheck(name, True, f"{', '.join(DOCUMENTED)} in {root}")]


def load_builtin_series(source: str) -> tuple[np.ndarray, np.ndarray | None]:
    """`builtin:NAME[:split]` -> (x (N, C, T) float32 NaN-padded, y int64)."""
    from sslctl.modalities.timeseries.formats import read_ts

    name, split = parse_builtin(source, available(), "time-series")
    return read_ts(aeon_data_dir() / name / f"{name}_{split.upper()}.ts")
