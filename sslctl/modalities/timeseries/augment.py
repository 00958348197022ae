"""Batched time-series views on the training device: (B, C, T) in, views out, NaN = missing.

Jitter, scaling and magnitude warp (Um et al. 2017), time masking (the masked timesteps become
missing, which every series encoder masks out), a random crop of the same length for the whole
batch at per-row offsets, permutation of segments (TS-TCC's strong view), and TS2Vec's pair of
overlapping crops. No Python loop over samples; the only host-side randomness is the few
batch-level sizes (crop lengths, segment count), drawn from torch's seeded CPU generator.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

from sslctl.modalities.base import take_per_row
from sslctl.modalities.timeseries.presets import SeriesViewParams


class OverlappingCrops(list):
    """[view1, view2] whose last / first `overlap` timesteps are the same stretch of series."""

    def __init__(self, views: list[torch.Tensor], overlap: int) -> None:
        super().__init__(views)
        self.overlap = overlap


def _randint(low: int, high: int) -> int:
    """Uniform integer in [low, high) from torch's (seeded) CPU generator."""
    return int(torch.randint(low, high, ()))


def overlapping_crops(x: torch.Tensor, min_overlap: int = 2) -> OverlappingCrops:
    """TS2Vec's contextual views: a shared segment [a, b) is extended to the left in one view
    and to the right in the other, the whole pair shifted by a per-row random offset."""
    t = x.shape[2]
    crop_l = _randint(min(min_overlap, t), t + 1)
    left = _randint(0, t - crop_l + 1)
    right = left + crop_l
    e_left = _randint(0, left + 1)
    e_right = _randint(right, t + 1)
    offset = torch.randint(-e_left, t - e_right + 1, (x.shape[0],))
    v1 = take_per_row(x, offset + e_left, right - e_left)
    v2 = take_per_row(x, offset + left, e_right - left)
    return OverlappingCrops([v1, v2], crop_l)


def random_crop(x: torch.Tensor, scale: tuple[float, float]) -> torch.Tensor:
    t = x.shape[2]
    lo, hi = max(1, round(scale[0] * t)), max(1, round(scale[1] * t))
    length = min(t, _randint(lo, max(lo, hi) + 1))
    if length == t:
        return x
    start = torch.randint(0, t - length + 1, (x.shape[0],))
    return take_per_row(x, start, length)


def magnitude_warp(x: torch.Tensor, std: float, knots: int) -> torch.Tensor:
    """Multiply by a smooth random curve: knots ~ N(1, std) bicubically interpolated to T."""
    b, c, t = x.shape
    points = 1 + std * torch.randn(b * c, 1, 1, knots + 2, device=x.device)
    curve = F.interpolate(points, size=(1, t), mode="bicubic", align_corners=True)
    return x * curve.view(b, c, t)


def time_mask(x: torch.Tensor, masks: int, width: float) -> torch.Tensor:
    """Mark `masks` random spans of up to width*T timesteps as missing (NaN), per row."""
    b, _, t = x.shape
    w_max = max(1, int(width * t))
    steps = torch.arange(t, device=x.device)[None, None]
    widths = torch.randint(0, w_max + 1, (b, masks, 1), device=x.device)
    starts = (torch.rand(b, masks, 1, device=x.device) * (t - widths + 1)).floor()
    hit = ((steps >= starts) & (steps < starts + widths)).any(dim=1)  # (B, T)
    return x.masked_fill(hit[:, None, :], float("nan"))


def permute_segments(x: torch.Tensor, max_segments: int) -> torch.Tensor:
    """Cut every series into n equal segments (n in [2, max]) and shuffle them per row."""
    b, _, t = x.shape
    n = _randint(2, max(2, min(max_segments, t)) + 1)
    segment = torch.arange(t, device=x.device) * n // t  # (T,) segment id of each step
    rank = torch.argsort(torch.rand(b, n, device=x.device), dim=1)  # new position of segment
    key = rank[:, segment] * t + torch.arange(t, device=x.device)[None]
    order = torch.argsort(key, dim=1)
    return x.gather(2, order[:, None, :].expand(-1, x.shape[1], -1))


def augment(x: torch.Tensor, p: SeriesViewParams) -> torch.Tensor:
    """One view of a (B, C, T) batch with the non-crop augmentations of `p`, in sequence."""
    if p.crop_scale != (1.0, 1.0):
        x = random_crop(x, p.crop_scale)
    if p.permute_segments:
        x = permute_segments(x, p.permute_segments)
    if p.scale_std:
        x = x * (1 + p.scale_std * torch.randn(x.shape[0], x.shape[1], 1, device=x.device))
    if p.warp_std:
        x = magnitude_warp(x, p.warp_std, p.warp_knots)
    if p.jitter_std:
        x = x + p.jitter_std * torch.randn_like(x)
    if p.time_masks and p.time_mask_width:
        x = time_mask(x, p.time_masks, p.time_mask_width)
    return x
