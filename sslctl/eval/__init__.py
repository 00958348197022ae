"""Probe protocols, one module each: a function from the frozen features of a labelled
train/test split (`ProbeData`) to the result keys it adds, declared by name in
`sslctl/specs/probes/` (torch-free)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import torch


@dataclass
class ProbeData:
    train: torch.Tensor  # (n, D) embeddings
    train_y: torch.Tensor
    test: torch.Tensor
    test_y: torch.Tensor
    spec: Any  # the run's recipe.probe section (k, temperature, ...)
    classes: list[str] | None = None  # label k's class name, when the sources name them
