"""Probe protocols: each registers itself (`@PROBES.register(NAME)`) with a function from the
frozen features of a labelled train/test split to the result keys it adds."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import torch

from sslctl.registry import Registry


@dataclass
class ProbeData:
    train: torch.Tensor  # (n, D) embeddings
    train_y: torch.Tensor
    test: torch.Tensor
    test_y: torch.Tensor
    spec: Any  # the run's recipe.probe section (k, temperature, ...)


Protocol = Callable[[ProbeData], dict]
PROBES: Registry[Protocol] = Registry(
    "probe protocol", "sslctl.probes", "sslctl.eval", first=("knn", "linear", "rankme", "svm")
)
