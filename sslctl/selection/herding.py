"""Herding (Welling 2009; iCaRL's exemplar selection): greedily pick samples whose running mean
tracks the pool's mean embedding."""

from __future__ import annotations

import torch


@torch.inference_mode()
def herding(pool: torch.Tensor, budget: int) -> torch.Tensor:
    mu = pool.mean(0)
    total = torch.zeros_like(mu)
    available = torch.ones(len(pool), dtype=torch.bool, device=pool.device)
    chosen = torch.empty(budget, dtype=torch.long, device=pool.device)
    for k in range(budget):
        candidate_means = (total + pool) / (k + 1)
        dist = (candidate_means - mu).pow(2).sum(1).masked_fill(~available, float("inf"))
        pick = torch.argmin(dist)
        chosen[k] = pick
        total += pool[pick]
        available[pick] = False
    return chosen


def select(pool: torch.Tensor, budget: int, seed: int, target: torch.Tensor | None) -> torch.Tensor:
    """The registry's entry point (sslctl/specs/strategies/herding.py)."""
    return herding(pool, budget).cpu()
