"""k-center greedy (Sener & Savarese 2018): repeatedly take the point farthest from the chosen
set. One batched distance update per pick, O(N*k*D), indices kept on the device (no syncs)."""

from __future__ import annotations

import torch


@torch.inference_mode()
def kcenter_greedy(pool: torch.Tensor, budget: int, seed: int = 0) -> torch.Tensor:
    n = len(pool)
    first = torch.randint(n, (1,), generator=torch.Generator().manual_seed(seed)).to(pool.device)
    chosen = torch.empty(budget, dtype=torch.long, device=pool.device)
    chosen[0] = first[0]
    min_dist = torch.cdist(pool, pool[first]).squeeze(1)
    for i in range(1, budget):
        nxt = torch.argmax(min_dist)
        chosen[i] = nxt
        min_dist = torch.minimum(min_dist, torch.cdist(pool, pool[nxt].unsqueeze(0)).squeeze(1))
    return chosen


def select(pool: torch.Tensor, budget: int, seed: int, target: torch.Tensor | None) -> torch.Tensor:
    """The registry's entry point (sslctl/specs/strategies/kcenter.py)."""
    return kcenter_greedy(pool, budget, seed).cpu()
