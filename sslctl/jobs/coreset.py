"""coreset: embed a pool with a run's encoder and select a subset of it."""

from __future__ import annotations

from pathlib import Path

import torch

from sslctl.errors import UserError
from sslctl.jobs.embed import embed_samples
from sslctl.rundir import load_run
from sslctl.selection import herding, kcenter_greedy, random_subset, simcore


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


def coreset(
    run: str | Path,
    data: str,
    budget: str,
    strategy: str,
    target: str | None,
    device: torch.device,
    seed: int = 0,
) -> torch.Tensor:
    loaded = load_run(run)
    pool = embed_samples(loaded.encoder, loaded.modality, loaded.modality.load(data), device)
    k = resolve_budget(budget, len(pool))
    if strategy == "simcore":
        if target is None:
            raise UserError("--target: strategy simcore needs a target data SPEC")
        tgt = embed_samples(loaded.encoder, loaded.modality, loaded.modality.load(target), device)
        return simcore(pool, tgt, k)
    if strategy == "kcenter":
        return kcenter_greedy(pool.to(device), k, seed).cpu()
    if strategy == "herding":
        return herding(pool.to(device), k).cpu()
    return random_subset(pool, k, seed)
