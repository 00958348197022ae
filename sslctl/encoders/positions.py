"""Fixed sine-cosine position codes: for encoders that take any sequence length (patch_tst)
and for JEPA's predictor, which places mask tokens on any patch grid."""

from __future__ import annotations

import math

import torch


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


def grid_sinusoid(grid: tuple[int, ...], dim: int, device: torch.device) -> torch.Tensor:
    """(prod(grid), dim) code of a row-major 1-D or 2-D grid; on 2-D, half the channels code
    the row and half the column, as I-JEPA's 2-D sin-cos embedding."""
    if len(grid) == 1:
        return sinusoid(grid[0], dim, device)
    (h, w), half = grid, dim // 2
    rows = sinusoid(h, half, device)[:, None].expand(h, w, half)
    cols = sinusoid(w, dim - half, device)[None].expand(h, w, dim - half)
    return torch.cat([rows, cols], dim=-1).reshape(h * w, dim)
