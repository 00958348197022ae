"""Coreset strategies on embeddings: each registers itself (`@STRATEGIES.register(NAME)`) as a
`Strategy`, returning pool indices in selection order."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from sslctl.registry import Registry

if TYPE_CHECKING:
    import torch


@dataclass(frozen=True)
class Strategy:
    """`select(pool, budget, seed, target)`: pool (N, D) and target (M, D) embeddings on the
    device (target None unless `needs_target`); returns the chosen pool indices, in order."""

    select: Callable[[torch.Tensor, int, int, torch.Tensor | None], torch.Tensor]
    needs_target: bool = False


STRATEGIES: Registry[Strategy] = Registry(
    "coreset strategy",
    "sslctl.strategies",
    "sslctl.selection",
    first=("kcenter", "simcore", "herding", "uniform"),
)
