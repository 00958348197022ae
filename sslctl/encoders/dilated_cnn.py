"""TS2Vec's encoder (Yue et al. 2022): a linear input projection, timestamp masking, then
residual blocks of two dilated 'same' convolutions with GELU, dilation doubling per block.

`tokens` gives the timestamp-level representations (B, T, D) that TS2Vec's loss contrasts;
`forward` max-pools them over the observed timesteps into the series embedding, as TS2Vec's
`encoding_window='full_series'` does. Unobserved timesteps are re-zeroed after every
convolution, so a series' representation does not depend on how much NaN padding follows it
(the official code zeroes them only after the input projection).
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from sslctl.encoders.series_base import masked_max, observed


class SamePadConv(nn.Module):
    """Dilated conv whose output has the input's length (one step trimmed for even fields)."""

    def __init__(self, c_in: int, c_out: int, kernel: int, dilation: int) -> None:
        super().__init__()
        field = (kernel - 1) * dilation + 1
        self.conv = nn.Conv1d(c_in, c_out, kernel, padding=field // 2, dilation=dilation)
        self.trim = 1 if field % 2 == 0 else 0

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = self.conv(x)
        return out[:, :, : out.shape[2] - self.trim] if self.trim else out


class ConvBlock(nn.Module):
    def __init__(self, c_in: int, c_out: int, kernel: int, dilation: int, final: bool) -> None:
        super().__init__()
        self.conv1 = SamePadConv(c_in, c_out, kernel, dilation)
        self.conv2 = SamePadConv(c_out, c_out, kernel, dilation)
        self.projector = nn.Conv1d(c_in, c_out, 1) if c_in != c_out or final else None

    def forward(self, x: torch.Tensor, zero: torch.Tensor) -> torch.Tensor:
        """`zero` (B, 1, T) bool: timesteps held at 0 between layers (unobserved ones)."""
        residual = x if self.projector is None else self.projector(x)
        x = self.conv1(F.gelu(x)).masked_fill(zero, 0.0)
        x = self.conv2(F.gelu(x))
        return (x + residual).masked_fill(zero, 0.0)


class DilatedCNN(nn.Module):
    """TS2Vec defaults: hidden 64, depth 10 (+1 output block), output 320, kernel 3."""

    def __init__(
        self,
        channels: int,
        hidden: int = 64,
        dim: int = 320,
        depth: int = 10,
        kernel: int = 3,
        dropout: float = 0.1,
    ) -> None:
        super().__init__()
        self.input_fc = nn.Linear(channels, hidden)
        widths = [hidden] * depth + [dim]
        self.blocks = nn.ModuleList(
            ConvBlock(widths[i - 1] if i else hidden, w, kernel, 2**i, i == len(widths) - 1)
            for i, w in enumerate(widths)
        )
        self.repr_dropout = nn.Dropout(dropout)
        self.num_features = dim

    def tokens(self, x: torch.Tensor, keep: torch.Tensor | None = None) -> torch.Tensor:
        """(B, C, T) -> (B, T, D). `keep` (B, T) bool zeroes the other projected timesteps
        (TS2Vec's training-time timestamp masking); missing timesteps are always zeroed."""
        valid = observed(x)
        h = self.input_fc(torch.nan_to_num(x, nan=0.0).transpose(1, 2))
        h = h.masked_fill(~(valid if keep is None else valid & keep)[:, :, None], 0.0)
        h, zero = h.transpose(1, 2), ~valid[:, None, :]
        for block in self.blocks:
            h = block(h, zero)
        return self.repr_dropout(h).transpose(1, 2)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return masked_max(self.tokens(x), observed(x))


def build(input_spec: dict, kwargs: dict) -> DilatedCNN:
    """The registry's entry point (sslctl/specs/encoders/dilated_cnn.py)."""
    return DilatedCNN(input_spec["channels"], **kwargs)
