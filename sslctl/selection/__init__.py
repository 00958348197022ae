"""Coreset strategies on embeddings: each returns pool indices in selection order."""

from __future__ import annotations

import torch

from sslctl.selection.herding import herding
from sslctl.selection.kcenter import kcenter_greedy
from sslctl.selection.simcore import simcore


def random_subset(pool: torch.Tensor, budget: int, seed: int = 0) -> torch.Tensor:
    return torch.randperm(len(pool), generator=torch.Generator().manual_seed(seed))[:budget]


STRATEGIES = ("kcenter", "simcore", "herding", "random")

__all__ = ["STRATEGIES", "herding", "kcenter_greedy", "random_subset", "simcore"]
