"""The encoder every job sees: input normalisation + backbone, mapping a view batch to (B, D)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol, runtime_checkable

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

    # ---------------------------------------------------------------- patch tokens
    # A transformer on patches, taken apart for the methods that mask tokens (MAE, JEPA):
    # `patch_layout` says whether this encoder is one (None: it is not) and how its tokens lie,
    # `patch_tokens` embeds an input's patches, `encode_tokens` runs the blocks over any subset
    # of them. Methods use these alone, never the backbone's own attributes.

    @property
    def patch_layout(self) -> PatchLayout | None:
        """How the encoder cuts its input into tokens, or None if it does not: a backbone of
        sslctl's own declares it by being a `PatchBackbone` (patch_tst)."""
        if not isinstance(self.backbone, PatchBackbone):
            return None
        return PatchLayout(self.backbone.dim, self.backbone.patch_grid, None, 0)

    @property
    def gives_patch_tokens(self) -> bool:
        return self.patch_layout is not None

    @property
    def patch_token_dim(self) -> int:
        """The width of `encode_tokens`' tokens."""
        layout = self.patch_layout
        assert layout is not None, "not a transformer on patches"
        return layout.dim

    @property
    def mean_pooled(self) -> bool:
        """Whether the embedding is the mean of the patch tokens (what JEPA keeps)."""
        return True

    def patch_tokens(self, x: torch.Tensor) -> PatchTokens:
        """The input's embedded patches, before any transformer block."""
        return self.backbone.patch_tokens(self.normalize(x))

    def encode_tokens(
        self, tokens: torch.Tensor, valid: torch.Tensor | None, keep_prefix: bool = False
    ) -> torch.Tensor:
        """The transformer and its final norm over any subset of `patch_tokens`' tokens (in
        their order), one output token per input token; with `keep_prefix`, the layout's
        prefix (class, register) tokens' outputs first."""
        return self.backbone.encode_tokens(tokens, valid)

    def fix_patch_positions(self) -> None:
        """Make a learned patch position table the fixed sin-cos code of the grid, frozen
        (I-JEPA's ViT); an encoder with a fixed code already keeps it."""


@dataclass(frozen=True)
class PatchLayout:
    """`dim`: the tokens' width; `grid`: tokens per axis (one axis for series); `pixels`:
    an image or spectrogram patch's (rows, cols) and `channels`, None on series; `prefix`:
    class and register tokens put before the patches."""

    dim: int
    grid: tuple[int, ...] | None  # None: it depends on the input's length (series)
    pixels: tuple[int, int] | None
    prefix: int
    channels: int = 1


@runtime_checkable
class PatchBackbone(Protocol):
    """What a backbone of sslctl's own declares to be a transformer on patches (patch_tst)."""

    dim: int
    patch_grid: tuple[int, ...] | None

    def patch_tokens(self, x: torch.Tensor) -> PatchTokens: ...

    def encode_tokens(self, tokens: torch.Tensor, valid: torch.Tensor | None) -> torch.Tensor: ...
