"""The encoder every job sees: input normalisation + backbone, mapping a view batch to (B, D)."""

from __future__ import annotations

import torch
from torch import nn


class Normalize(nn.Module):
    """Per-channel (x - mean) / std, kept inside the encoder so exports and teachers carry it."""

    def __init__(self, mean: list[float], std: list[float]) -> None:
        super().__init__()
        self.register_buffer("mean", torch.tensor(mean).view(1, -1, 1, 1))
        self.register_buffer("std", torch.tensor(std).view(1, -1, 1, 1))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return (x - self.mean) / self.std


class Encoder(nn.Module):
    """`forward(x) -> (B, embed_dim)`; `backbone` is exposed for methods needing internals (MAE)."""

    def __init__(self, normalize: nn.Module, backbone: nn.Module, embed_dim: int) -> None:
        super().__init__()
        self.normalize = normalize
        self.backbone = backbone
        self.embed_dim = embed_dim

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.backbone(self.normalize(x))
