"""k-means++ seeding (Arthur & Vassilvitskii 2007) as a coreset: each next point is drawn with
probability proportional to its squared distance to the nearest point chosen so far."""

from __future__ import annotations

import torch


def kmeanspp(pool: torch.Tensor, budget: int, seed: int) -> torch.Tensor:
    pool = pool.float()
    gen = torch.Generator(device=pool.device).manual_seed(seed)
    first = torch.randint(len(pool), (1,), generator=gen, device=pool.device)
    chosen, taken = [first], torch.zeros(len(pool), dtype=torch.bool, device=pool.device)
    taken[first] = True
    nearest = (pool - pool[first]).pow(2).sum(1)
    for _ in range(budget - 1):
        # duplicates of chosen points weigh 0: fall back to any point not taken yet
        weights = torch.where(nearest.sum() > 0, nearest, 1.0).masked_fill(taken, 0)
        pick = torch.multinomial(weights, 1, generator=gen)
        chosen.append(pick)
        taken[pick] = True
        nearest = torch.minimum(nearest, (pool - pool[pick]).pow(2).sum(1))
    return torch.cat(chosen)


def select(pool: torch.Tensor, budget: int, seed: int, target: torch.Tensor | None) -> torch.Tensor:
    return kmeanspp(pool, budget, seed)
