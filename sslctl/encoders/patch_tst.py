"""A small PatchTST-style transformer (Nie et al. 2023): each channel is cut into
non-overlapping patches, embedded linearly with a sinusoidal position code and encoded by a
shared pre-norm transformer, channel-independently. The series embedding is, per channel, the
mean of its observed patches' tokens, concatenated over channels (C * dim).

Patches are aligned to the series' start, so trailing NaN padding only adds patches that are
masked out of attention and pooling: a series' embedding does not depend on its padding.
The sinusoidal code (instead of PatchTST's learned one) lets any length through, which the
ONNX export relies on for its dynamic time axis.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from sslctl.encoders.base import PatchTokens
from sslctl.encoders.positions import sinusoid


class Block(nn.Module):
    """Pre-norm self-attention + MLP with a key mask (True = attend to that patch; None: all)."""

    def __init__(self, dim: int, heads: int, mlp_ratio: float) -> None:
        super().__init__()
        self.heads = heads
        self.norm1, self.norm2 = nn.LayerNorm(dim), nn.LayerNorm(dim)
        self.qkv = nn.Linear(dim, 3 * dim)
        self.proj = nn.Linear(dim, dim)
        hidden = int(dim * mlp_ratio)
        self.mlp = nn.Sequential(nn.Linear(dim, hidden), nn.GELU(), nn.Linear(hidden, dim))

    def forward(self, x: torch.Tensor, attend: torch.Tensor | None) -> torch.Tensor:
        b, n, d = x.shape
        q, k, v = self.qkv(self.norm1(x)).view(b, n, 3, self.heads, -1).permute(2, 0, 3, 1, 4)
        mask = None if attend is None else attend[:, None, None, :]
        out = F.scaled_dot_product_attention(q, k, v, attn_mask=mask)
        x = x + self.proj(out.transpose(1, 2).reshape(b, n, d))
        return x + self.mlp(self.norm2(x))


class PatchTST(nn.Module):
    def __init__(
        self,
        channels: int,
        patch_len: int = 8,
        dim: int = 128,
        depth: int = 3,
        heads: int = 8,
        mlp_ratio: float = 2.0,
    ) -> None:
        super().__init__()
        if dim % heads or dim % 2:
            raise TypeError(f"dim {dim} must be even and divisible by heads {heads}")
        self.patch_len = patch_len
        self.dim = dim
        self.embed = nn.Linear(patch_len, dim)
        self.blocks = nn.ModuleList(Block(dim, heads, mlp_ratio) for _ in range(depth))
        self.norm = nn.LayerNorm(dim)
        self.num_features = channels * dim
        self.patch_grid = None  # as many patches as the series is long

    def patches(self, x: torch.Tensor) -> torch.Tensor:
        """(B, C, T) -> (B, C, N, patch_len), the last patch NaN-padded."""
        t = x.shape[2]
        n = (t + self.patch_len - 1) // self.patch_len  # ceil, written so export keeps T symbolic
        x = F.pad(x, (0, n * self.patch_len - t), value=float("nan"))
        return x.reshape(x.shape[0], x.shape[1], n, self.patch_len)

    def embed_patches(self, p: torch.Tensor) -> PatchTokens:
        """(B, C, N, L) patch values (NaN = missing) -> each channel's embedded patches with
        their position code, one row per (sample, channel); a patch of NaN only is not valid."""
        b, c, n, _ = p.shape
        valid = ~torch.isnan(p).all(dim=3)
        h = self.embed(torch.nan_to_num(p, nan=0.0)) + sinusoid(n, self.dim, p.device)
        return PatchTokens(h.reshape(b * c, n, self.dim), (n,), c, valid.reshape(b * c, n))

    def patch_tokens(self, x: torch.Tensor) -> PatchTokens:
        return self.embed_patches(self.patches(x))

    def encode_tokens(self, h: torch.Tensor, valid: torch.Tensor | None) -> torch.Tensor:
        """The transformer over (rows, n, dim) tokens, any subset of a row's patches; a row
        with no valid token attends to all of them."""
        attend = None if valid is None else valid | ~valid.any(dim=1, keepdim=True)
        for block in self.blocks:
            h = block(h, attend)
        return self.norm(h)

    def encode_patches(self, p: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """(B, C, N, L) patch values (NaN = missing) -> tokens (B, C, N, D), valid (B, C, N)."""
        b, c, n, _ = p.shape
        t = self.embed_patches(p)
        h = self.encode_tokens(t.tokens, t.valid)
        return h.reshape(b, c, n, self.dim), t.valid.reshape(b, c, n)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        tokens, valid = self.encode_patches(self.patches(x))
        w = valid.to(tokens.dtype)[..., None]
        pooled = (tokens * w).sum(dim=2) / w.sum(dim=2).clamp(min=1)
        return pooled.flatten(1)


def build(input_spec: dict, kwargs: dict) -> PatchTST:
    """The registry's entry point (sslctl/specs/encoders/patch_tst.py)."""
    return PatchTST(input_spec["channels"], **kwargs)
