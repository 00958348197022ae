"""The encoder every job sees: input normalisation + backbone, mapping a view batch to (B, D)."""

from __future__ import annotations

from dataclasses import dataclass

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


@dataclass
class Features:
    """What distillation compares: the pooled embedding (B, D) and, for encoders with a
    spatial or patch map, that map as tokens (B, h * w, C) on a `grid` of (h, w); `cls` is
    a ViT's class token (B, C), for teachers pooled by it."""

    pooled: torch.Tensor
    tokens: torch.Tensor | None = None
    grid: tuple[int, int] | None = None
    cls: torch.Tensor | None = None


@dataclass
class PatchTokens:
    """An input cut into embedded patches, position code added, before the transformer: what
    latent prediction (JEPA) masks and encodes. `tokens` (R, N, D) holds `rows` token
    sequences per sample (a series' channels, which share one mask), N = prod(`grid`);
    `valid` (R, N), where some patches are padding only, marks the others."""

    tokens: torch.Tensor
    grid: tuple[int, ...]
    rows: int = 1
    valid: torch.Tensor | None = None


class Encoder(nn.Module):
    """`forward(x) -> (B, embed_dim)`; `backbone` is exposed for methods needing internals (MAE)."""

    gives_tokens = False  # True: `features` also returns a token map (timm backbones)
    token_dim: int | None = None

    def __init__(self, normalize: nn.Module, backbone: nn.Module, embed_dim: int) -> None:
        super().__init__()
        self.normalize = normalize
        self.backbone = backbone
        self.embed_dim = embed_dim

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.backbone(self.normalize(x))

    def features(self, x: torch.Tensor) -> Features:
        """The pooled embedding and, where the backbone has one, its token map (one pass)."""
        return Features(self(x))

    @property
    def gives_patch_tokens(self) -> bool:
        """True for a transformer on patches, which `patch_tokens`/`encode_tokens` take apart:
        a backbone of sslctl's own that has both (patch_tst)."""
        return hasattr(self.backbone, "patch_tokens") and hasattr(self.backbone, "encode_tokens")

    @property
    def patch_token_dim(self) -> int:
        """The width of `encode_tokens`' tokens (an own backbone with patch tokens names it
        `dim`; patch_tst's embedding concatenates its channels' tokens)."""
        return int(self.backbone.dim)

    def patch_tokens(self, x: torch.Tensor) -> PatchTokens:
        """The input's embedded patches, before any transformer block."""
        return self.backbone.patch_tokens(self.normalize(x))

    def encode_tokens(self, tokens: torch.Tensor, valid: torch.Tensor | None) -> torch.Tensor:
        """The transformer and its final norm over any subset of `patch_tokens`' tokens (in
        their order), one output token per input token."""
        return self.backbone.encode_tokens(tokens, valid)
