"""Probe protocols: each registers itself (`@PROBES.register(NAME)`) with a function from the
frozen features of a labelled train/test split to the result keys it adds."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from sslctl.registry import Registry

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


Protocol = Callable[[ProbeData], dict]
PROBES: Registry[Protocol] = Registry(
    "probe protocol", "sslctl.probes", "sslctl.eval", first=("knn", "linear", "rankme", "svm")
)
# what a probe runs when the recipe does not say (`probe.protocols`) and what `--protocol all`
# means: the label-based and label-free protocols that suit any set size (svm does not)
DEFAULT_PROTOCOLS = ("knn", "linear", "rankme")
