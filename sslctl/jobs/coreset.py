"""coreset: embed a pool with a run's encoder and select a subset of it."""

from __future__ import annotations

from pathlib import Path
from typing import NamedTuple

import numpy as np
import torch

from sslctl.engine.embedding import embed_samples
from sslctl.errors import UserError
from sslctl.modalities.base import Samples
from sslctl.rundir import load_run
from sslctl.specs.strategies import STRATEGIES


def resolve_budget(budget: str, n: int) -> int:
    """`N` (a count) or a fraction in (0, 1)."""
    try:
        value = float(budget)
    except ValueError:
        raise UserError(f"--budget: expected a count or a fraction, got {budget!r}") from None
    count = int(round(value * n)) if 0 < value < 1 else int(value)
    if value <= 0 or count < 1 or (value >= 1 and value != int(value)):
        raise UserError(f"--budget: must be a positive count or a fraction in (0, 1), got {budget}")
    if count > n:
        raise UserError(f"--budget: {count} exceeds the pool of {n} samples")
    return count


def load_embeddings(path: Path) -> torch.Tensor:
    """An (N, D) `.npy` of embeddings (from `sslctl embed`), memory-mapped while checked."""
    try:
        array = np.load(path, mmap_mode="r", allow_pickle=False)
    except (OSError, ValueError) as exc:
        raise UserError(f"{path}: cannot read embeddings ({exc})") from None
    if array.ndim != 2 or array.shape[0] == 0 or not np.issubdtype(array.dtype, np.floating):
        raise UserError(f"{path}: embeddings must be a non-empty float (N, D) array")
    x = torch.from_numpy(np.array(array, dtype=np.float32))
    if not torch.isfinite(x).all():
        raise UserError(f"{path}: embeddings hold NaN or inf")
    return x


class Pool(NamedTuple):
    """Pool embeddings, and the source rows they are of (None: the rows of an embeddings
    file, as they are)."""

    x: torch.Tensor
    samples: Samples | None = None
    rows: torch.Tensor | None = None


def _embeddings(loaded, source: str | None, device: torch.device, option: str) -> Pool:
    """A `.npy` of embeddings as it is, or a data source embedded with the run's encoder."""
    if source is not None and source.endswith(".npy") and Path(source).is_file():
        return Pool(load_embeddings(Path(source)))
    if loaded is None:
        raise UserError(f"{option}: with RUN an embeddings file, give an embeddings .npy too")
    samples = loaded.modality.load(source)
    embedded = embed_samples(loaded.encoder, loaded.modality, samples, device)
    return Pool(embedded.x, samples, samples.source_rows(embedded.kept))


def coreset(
    run: str | Path,
    data: str | None,
    budget: str,
    strategy: str,
    target: str | None,
    device: torch.device,
    seed: int = 0,
    paths: bool = False,
) -> list[str]:
    """The selection, one line per sample in selection order: its row in the pool source's
    whole listing (a file skipped as undecodable still counts), or with `paths` its file.

    RUN is a run directory (whose encoder embeds --data), or an `.npy` of pool embeddings
    (from `sslctl embed`), so a pool is embedded once and selected from many times."""
    run = Path(run)
    if run.suffix == ".npy" and run.is_file():
        loaded, pool = None, Pool(load_embeddings(run))
    else:
        if data is None:
            raise UserError("--data: give the pool to embed (or pass an embeddings .npy as RUN)")
        loaded = load_run(run)
        pool = _embeddings(loaded, data, device, "--data")
    if paths and pool.samples is None:
        raise UserError("--paths: needs RUN and a --data source to name (an .npy has no paths)")
    k = resolve_budget(budget, len(pool.x))
    chosen = STRATEGIES.get(strategy)
    tgt = None
    if chosen.needs_target:
        if target is None:
            raise UserError(f"--target: strategy {strategy} needs a target data source")
        tgt = _embeddings(loaded, target, device, "--target").x
        if tgt.shape[1] != pool.x.shape[1]:
            raise UserError(
                f"--target: embeddings of dim {tgt.shape[1]}, the pool's are {pool.x.shape[1]}"
            )
        tgt = tgt.to(device)
    picked = STRATEGIES.load(strategy)(pool.x.to(device), k, seed, tgt).cpu()
    if pool.rows is None:
        return [str(i) for i in picked.tolist()]
    rows = pool.rows[picked]
    return pool.samples.source_names(rows) if paths else [str(i) for i in rows.tolist()]
