"""The 1-D ResNet baseline of Wang et al. (2017), 'Time series classification from scratch':
three residual blocks of 8-5-3 convolutions with BatchNorm and ReLU, then global average
pooling over the observed timesteps. Unobserved timesteps are held at zero between layers,
so trailing NaN padding acts exactly like the convolutions' own zero padding."""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from sslctl.encoders.series_base import masked_mean, observed


class SameConv(nn.Conv1d):
    """Conv with 'same' output length; even kernels pad one more step on the right."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        k = self.kernel_size[0]
        return super().forward(F.pad(x, ((k - 1) // 2, k // 2)))


class ResidualBlock(nn.Module):
    def __init__(self, c_in: int, c_out: int) -> None:
        super().__init__()
        widths = [c_in, c_out, c_out, c_out]
        self.convs = nn.ModuleList(
            SameConv(widths[i], widths[i + 1], k) for i, k in enumerate((8, 5, 3))
        )
        self.norms = nn.ModuleList(nn.BatchNorm1d(c_out) for _ in range(3))
        self.shortcut = nn.Sequential(nn.Conv1d(c_in, c_out, 1), nn.BatchNorm1d(c_out))

    def forward(self, x: torch.Tensor, zero: torch.Tensor) -> torch.Tensor:
        h = x
        for i, (conv, norm) in enumerate(zip(self.convs, self.norms, strict=True)):
            h = norm(conv(h))
            h = (h.relu() if i < 2 else h).masked_fill(zero, 0.0)
        return (h + self.shortcut(x)).relu().masked_fill(zero, 0.0)


class ResNet1D(nn.Module):
    def __init__(self, channels: int, width: int = 64) -> None:
        super().__init__()
        c_in, c_out = [channels, width, 2 * width], [width, 2 * width, 2 * width]
        self.blocks = nn.ModuleList(ResidualBlock(a, b) for a, b in zip(c_in, c_out, strict=True))
        self.num_features = 2 * width

    def tokens(self, x: torch.Tensor, keep: torch.Tensor | None = None) -> torch.Tensor:
        """(B, C, T) -> (B, T, D) feature map; missing (and not-kept) timesteps enter as 0."""
        valid = observed(x)
        h = torch.nan_to_num(x, nan=0.0)
        if keep is not None:
            h = h.masked_fill(~keep[:, None, :], 0.0)
        zero = ~valid[:, None, :]
        for block in self.blocks:
            h = block(h, zero)
        return h.transpose(1, 2)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return masked_mean(self.tokens(x), observed(x))


def build(input_spec: dict, kwargs: dict) -> ResNet1D:
    """The registry's entry point (sslctl/specs/encoders/resnet1d.py)."""
    return ResNet1D(input_spec["channels"], **kwargs)
