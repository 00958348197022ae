"""Pieces every series encoder shares: NaN-aware normalisation and masked pooling.

Series arrive as (B, C, T) with NaN marking missing or padded timesteps. A timestep counts as
observed when all its channels are; the encoders zero the input there (after projecting it,
as TS2Vec does) and leave it out of pooling, so padding never looks like a flat signal.
"""

from __future__ import annotations

from typing import Protocol, runtime_checkable

import torch
from torch import nn


@runtime_checkable
class TimestepEncoder(Protocol):
    """A series backbone that also gives one representation per timestep (B, T, D), with
    timesteps outside `keep` (B, T) masked after the input projection: what TS2Vec's
    hierarchical loss needs (dilated_cnn, resnet1d)."""

    def tokens(self, x: torch.Tensor, keep: torch.Tensor | None = None) -> torch.Tensor: ...


class SeriesNormalize(nn.Module):
    """Per-channel (x - mean) / std fitted on the training split; NaN stays NaN."""

    def __init__(self, mean: list[float], std: list[float]) -> None:
        super().__init__()
        self.register_buffer("mean", torch.tensor(mean, dtype=torch.float32).view(1, -1, 1))
        self.register_buffer("std", torch.tensor(std, dtype=torch.float32).view(1, -1, 1))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return (x - self.mean) / self.std


def observed(x: torch.Tensor) -> torch.Tensor:
    """(B, C, T) -> (B, T) bool: every channel of the timestep is present."""
    return ~torch.isnan(x).any(dim=1)


def masked_max(h: torch.Tensor, valid: torch.Tensor) -> torch.Tensor:
    """(B, T, D) max over the valid timesteps; zeros for a series with none."""
    filled = h.masked_fill(~valid[:, :, None], float("-inf")).amax(dim=1)
    return torch.where(valid.any(dim=1, keepdim=True), filled, torch.zeros_like(filled))


def masked_mean(h: torch.Tensor, valid: torch.Tensor) -> torch.Tensor:
    """(B, T, D) mean over the valid timesteps; zeros for a series with none."""
    w = valid.to(h.dtype)[:, :, None]
    return (h * w).sum(dim=1) / w.sum(dim=1).clamp(min=1)
