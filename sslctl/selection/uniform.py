"""Random selection: the baseline every other strategy should beat."""

from __future__ import annotations

import torch

from sslctl.selection import STRATEGIES, Strategy


def random_subset(pool: torch.Tensor, budget: int, seed: int = 0) -> torch.Tensor:
    return torch.randperm(len(pool), generator=torch.Generator().manual_seed(seed))[:budget]


STRATEGIES.register("random")(
    Strategy(lambda pool, budget, seed, target: random_subset(pool.cpu(), budget, seed))
)
