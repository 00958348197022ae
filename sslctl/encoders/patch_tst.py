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

import math

import torch
import torch.nn.functional as F
from torch import nn

from sslctl.encoders import ENCODERS, OwnEncoder


class Block(nn.Module):
    """Pre-norm self-attention + MLP with a key mask (True = attend to that patch)."""

    def __init__(self, dim: int, heads: int, mlp_ratio: float) -> None:
        super().__init__()
        self.heads = heads
        self.norm1, self.norm2 = nn.LayerNorm(dim), nn.LayerNorm(dim)
        self.qkv = nn.Linear(dim, 3 * dim)
        self.proj = nn.Linear(dim, dim)
        hidden = int(dim * mlp_ratio)
        self.mlp = nn.Sequential(nn.Linear(dim, hidden), nn.GELU(), nn.Linear(hidden, dim))

    def forward(self, x: torch.Tensor, attend: torch.Tensor) -> torch.Tensor:
        b, n, d = x.shape
        q, k, v = self.qkv(self.norm1(x)).view(b, n, 3, self.heads, -1).permute(2, 0, 3, 1, 4)
        out = F.scaled_dot_product_attention(q, k, v, attn_mask=attend[:, None, None, :])
        x = x + self.proj(out.transpose(1, 2).reshape(b, n, d))
        return x + self.mlp(self.norm2(x))


def sinusoid(n: int, dim: int, device: torch.device) -> torch.Tensor:
    """(n, dim) sine/cosine position code of Vaswani et al."""
    pos = torch.arange(n, device=device, dtype=torch.float32)[:, None]
    freq = torch.exp(
        torch.arange(0, dim, 2, device=device, dtype=torch.float32) * (-math.log(10000.0) / dim)
    )
    code = torch.zeros(n, dim, device=device)
    code[:, 0::2] = torch.sin(pos * freq)
    code[:, 1::2] = torch.cos(pos * freq)
    return code


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

    def patches(self, x: torch.Tensor) -> torch.Tensor:
        """(B, C, T) -> (B, C, N, patch_len), the last patch NaN-padded."""
        t = x.shape[2]
        n = (t + self.patch_len - 1) // self.patch_len  # ceil, written so export keeps T symbolic
        x = F.pad(x, (0, n * self.patch_len - t), value=float("nan"))
        return x.reshape(x.shape[0], x.shape[1], n, self.patch_len)

    def encode_patches(self, p: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """(B, C, N, L) patch values (NaN = missing) -> tokens (B, C, N, D), valid (B, C, N)."""
        b, c, n, _ = p.shape
        valid = ~torch.isnan(p).all(dim=3)
        h = self.embed(torch.nan_to_num(p, nan=0.0)) + sinusoid(n, self.dim, p.device)
        h = h.reshape(b * c, n, self.dim)
        flat = valid.reshape(b * c, n)
        attend = flat | ~flat.any(dim=1, keepdim=True)  # a channel with nothing: attend all
        for block in self.blocks:
            h = block(h, attend)
        return self.norm(h).reshape(b, c, n, self.dim), valid

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        tokens, valid = self.encode_patches(self.patches(x))
        w = valid.to(tokens.dtype)[..., None]
        pooled = (tokens * w).sum(dim=2) / w.sum(dim=2).clamp(min=1)
        return pooled.flatten(1)


ENCODERS.register("patch_tst")(
    OwnEncoder("timeseries", lambda spec, kwargs: PatchTST(spec["channels"], **kwargs))
)
