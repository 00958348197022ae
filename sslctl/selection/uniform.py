"""Random selection: the baseline every other strategy should beat."""

from __future__ import annotations

import torch


def random_subset(pool: torch.Tensor, budget: int, seed: int = 0) -> torch.Tensor:
    return torch.randperm(len(pool), generator=torch.Generator().manual_seed(seed))[:budget]


def select(pool: torch.Tensor, budget: int, seed: int, target: torch.Tensor | None) -> torch.Tensor:
    """The registry's entry point (sslctl/specs/strategies/uniform.py)."""
    return random_subset(pool.cpu(), budget, seed)
