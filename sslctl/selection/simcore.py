"""SimCore-style selection (Kim et al. 2023): from an open-set pool, take the samples nearest to
the target set in embedding space. Rounds over the targets: each round every target claims its
nearest not-yet-chosen pool sample (cosine), until the budget is met."""

from __future__ import annotations

import torch
import torch.nn.functional as F


@torch.inference_mode()
def simcore(pool: torch.Tensor, target: torch.Tensor, budget: int) -> torch.Tensor:
    pool, target = F.normalize(pool, dim=1), F.normalize(target, dim=1)
    k = min(len(pool), max(1, -(-budget // len(target))) + 1)
    idx = (target @ pool.T).topk(k, dim=1).indices  # each target's k nearest pool samples
    order = idx.T.flatten()  # round-robin: every target's 1st choice, then 2nd, ...
    seen = torch.zeros(len(pool), dtype=torch.bool)
    chosen: list[int] = []
    for i in order.tolist():
        if not seen[i]:
            seen[i] = True
            chosen.append(i)
            if len(chosen) == budget:
                break
    if len(chosen) < budget:  # targets ran out of distinct neighbours: fill by best similarity
        rest = (target @ pool.T).max(0).values.masked_fill(seen, float("-inf"))
        chosen += rest.argsort(descending=True)[: budget - len(chosen)].tolist()
    return torch.tensor(chosen)


def select(pool: torch.Tensor, budget: int, seed: int, target: torch.Tensor | None) -> torch.Tensor:
    """The registry's entry point (sslctl/specs/strategies/simcore.py)."""
    return simcore(pool.cpu(), target.cpu(), budget)
