"""Batched augmentations of standardised log-mel spectrograms (B, 1, F, T), on their device.

Every op draws per-sample parameters as tensors and applies them in one call, as the image
augmentations do. Parameter sets: `byol-a` follows BYOL-A v2 (Niizumi et al. 2021/2023): mixup
of another clip in the linear-power domain with weight U(0, 0.2), a random resized crop over a
canvas 1.5x as long in time (crop sides 0.6..1.5 of the input), a random linear fader, and
post-normalisation of the batch of views (BYOL-A's Post-Norm: the views' mean and std differ
from the clean, dataset-standardised input the encoder sees at evaluation; rescaling them
keeps the batch-norm statistics learnt in training valid there).
`default` serves SimCLR, BYOL, Barlow Twins, VICReg and DINO on audio: a lighter mixup, the
same crop, SpecAugment time and frequency masks (Park et al. 2019) and random gain.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F

from sslctl.modalities.audio.presets import AudioViewParams
from sslctl.modalities.base import take_per_row

TIME_CANVAS = 1.5  # BYOL-A's virtual crop canvas: 1.0x in frequency, 1.5x in time


def _uniform(shape: tuple[int, ...], low: float, high: float, device) -> torch.Tensor:
    return torch.rand(shape, device=device) * (high - low) + low


def mixup(x: torch.Tensor, ratio: float, log_scale: float) -> torch.Tensor:
    """log((1-l) exp(x) + l exp(x_other)) with l ~ U(0, ratio) and x_other a shuffled batch.

    x is standardised (log - mean) / std, so the linear domain is exp(x * std)."""
    if ratio == 0:
        return x
    b = x.shape[0]
    lam = _uniform((b, 1, 1, 1), 0.0, ratio, x.device)
    other = x[torch.randperm(b, device=x.device)]
    mixed = torch.logaddexp(torch.log1p(-lam) + x * log_scale, torch.log(lam) + other * log_scale)
    return mixed / log_scale


def resized_crop(x: torch.Tensor, scale: tuple[float, float]) -> torch.Tensor:
    """BYOL-A's random resized crop as one batched affine resample; outside the input is 0
    (the dataset mean after standardisation)."""
    if scale == (1.0, 1.0):
        return x
    b, dev = x.shape[0], x.device
    h = _uniform((b,), *scale, dev).clamp(max=1.0)
    w = _uniform((b,), *scale, dev).clamp(max=TIME_CANVAS)
    cy = (torch.rand(b, device=dev) * 2 - 1) * (1.0 - h)
    cx = (torch.rand(b, device=dev) * 2 - 1) * (TIME_CANVAS - w)
    theta = torch.zeros(b, 2, 3, device=dev, dtype=x.dtype)
    theta[:, 0, 0], theta[:, 0, 2] = w, cx
    theta[:, 1, 1], theta[:, 1, 2] = h, cy
    grid = F.affine_grid(theta, list(x.shape), align_corners=False)
    return F.grid_sample(x, grid, mode="bilinear", padding_mode="zeros", align_corners=False)


def _band_mask(b: int, size: int, count: int, width: float, device) -> torch.Tensor:
    """(B, size) bool: union of `count` bands of width U(0, width*size) at random starts."""
    pos = torch.arange(size, device=device).view(1, 1, size)
    widths = torch.rand(b, count, 1, device=device) * width * size
    starts = torch.rand(b, count, 1, device=device) * (size - widths)
    return ((pos >= starts) & (pos < starts + widths)).any(dim=1)


def spec_augment(x: torch.Tensor, p: AudioViewParams) -> torch.Tensor:
    """SpecAugment time and frequency masks, filled with 0 (the standardised mean)."""
    b, _, n_freq, n_time = x.shape
    keep = torch.ones(b, 1, n_freq, n_time, dtype=torch.bool, device=x.device)
    if p.time_masks and p.time_mask_width > 0:
        keep &= ~_band_mask(b, n_time, p.time_masks, p.time_mask_width, x.device)[:, None, None]
    if p.freq_masks and p.freq_mask_width > 0:
        mask = _band_mask(b, n_freq, p.freq_masks, p.freq_mask_width, x.device)
        keep &= ~mask[:, None, :, None]
    return x * keep


def gain(x: torch.Tensor, gain_db: float, fade_db: float, log_scale: float) -> torch.Tensor:
    """Random gain (constant dB) plus BYOL-A's random linear fader (dB ramp over time)."""
    if gain_db == 0 and fade_db == 0:
        return x
    b, n_time, dev = x.shape[0], x.shape[-1], x.device
    per_db = math.log(10) / 10 / log_scale  # dB of power -> standardised log units
    offset = _uniform((b, 1), -gain_db, gain_db, dev)
    head = _uniform((b, 1), -fade_db, fade_db, dev)
    tail = _uniform((b, 1), -fade_db, fade_db, dev)
    ramp = torch.linspace(0, 1, n_time, device=dev).view(1, n_time)
    db = offset + head + (tail - head) * ramp
    return x + (db * per_db).view(b, 1, 1, n_time)


def augment(x: torch.Tensor, p: AudioViewParams, log_scale: float) -> torch.Tensor:
    """One view. `log_scale` is the front end's std (standardised units per natural-log unit)."""
    out = mixup(x, p.mixup_ratio, log_scale)
    out = resized_crop(out, p.crop_scale)
    out = spec_augment(out, p)
    return gain(out, p.gain_db, p.fade_db, log_scale)


def post_normalise(views: list[torch.Tensor]) -> list[torch.Tensor]:
    """BYOL-A's Post-Norm: all views of the batch together (DINO's shorter local views
    included) to zero mean and unit std."""
    flat = torch.cat([v.flatten() for v in views])
    mean, std = flat.mean(), flat.std().clamp(min=1e-6)
    return [(v - mean) / std for v in views]


def local_window(x: torch.Tensor, ratio: float) -> torch.Tensor:
    """DINO's local view of a clip: a window of `ratio` of its frames at a random start per
    clip, every mel band kept. As a local image crop is a small region at a lower resolution,
    a local audio view is a shorter stretch at the same time and frequency resolution (DINO
    for speaker embeddings takes local windows of half a global one); the encoder pools over
    time, so it takes any length."""
    n_time = x.shape[-1]
    length = max(1, round(n_time * ratio))
    starts = (torch.rand(x.shape[0], device=x.device) * (n_time - length + 1)).long()
    return take_per_row(x, starts, length)
