"""Batched image augmentations: every op draws per-sample parameters as tensors on the images'
device and applies them in one kernel call, so views are made on the GPU without host syncs.

Parameter sets follow the papers: SimCLR (Chen et al. 2020, appendix A), BYOL's asymmetric pair
(Grill et al. 2020, table 6; also used by Barlow Twins and VICReg), DINO's multi-crop (Caron et al.
2021) and MAE's crop+flip (He et al. 2022). Inputs are floats in [0, 1], shape (B, C, H, W).
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F

from sslctl.modalities.image.presets import ViewParams


def _uniform(n: int, low: float, high: float, device: torch.device) -> torch.Tensor:
    return torch.rand(n, device=device) * (high - low) + low


def _coin(n: int, p: float, device: torch.device) -> torch.Tensor:
    return (torch.rand(n, device=device) < p).view(n, 1, 1, 1)


def resized_crop_flip(
    x: torch.Tensor, size: int, scale: tuple[float, float], flip_prob: float
) -> torch.Tensor:
    """Random resized crop (aspect 3/4..4/3) + horizontal flip as one batched affine resample."""
    b, dev = x.shape[0], x.device
    area = _uniform(b, *scale, dev)
    log_ratio = _uniform(b, math.log(3 / 4), math.log(4 / 3), dev)
    w = torch.sqrt(area * torch.exp(log_ratio)).clamp(max=1.0)
    h = torch.sqrt(area / torch.exp(log_ratio)).clamp(max=1.0)
    cx = (torch.rand(b, device=dev) * 2 - 1) * (1 - w)
    cy = (torch.rand(b, device=dev) * 2 - 1) * (1 - h)
    flip = torch.where(torch.rand(b, device=dev) < flip_prob, -1.0, 1.0)
    theta = torch.zeros(b, 2, 3, device=dev, dtype=x.dtype)
    theta[:, 0, 0] = w * flip
    theta[:, 0, 2] = cx
    theta[:, 1, 1] = h
    theta[:, 1, 2] = cy
    grid = F.affine_grid(theta, [b, x.shape[1], size, size], align_corners=False)
    out = F.grid_sample(x, grid, mode="bilinear", padding_mode="reflection", align_corners=False)
    return out.clamp(0, 1)  # bilinear weights can round a white pixel to 1 + 2e-7


def _gray(x: torch.Tensor) -> torch.Tensor:
    if x.shape[1] == 1:
        return x
    weights = torch.tensor([0.299, 0.587, 0.114], device=x.device, dtype=x.dtype)
    return (x * weights.view(1, 3, 1, 1)).sum(1, keepdim=True)


def _hue_shift(x: torch.Tensor, shift: torch.Tensor) -> torch.Tensor:
    """Rotate chroma in YIQ space by 2*pi*shift (a batched stand-in for an HSV hue shift)."""
    to_yiq = torch.tensor(
        [[0.299, 0.587, 0.114], [0.596, -0.274, -0.322], [0.211, -0.523, 0.312]],
        device=x.device,
        dtype=x.dtype,
    )
    from_yiq = torch.linalg.inv(to_yiq)
    angle = shift * 2 * math.pi
    cos, sin = torch.cos(angle), torch.sin(angle)
    rot = torch.zeros(x.shape[0], 3, 3, device=x.device, dtype=x.dtype)
    rot[:, 0, 0] = 1
    rot[:, 1, 1], rot[:, 1, 2], rot[:, 2, 1], rot[:, 2, 2] = cos, -sin, sin, cos
    mat = from_yiq @ rot @ to_yiq  # (B, 3, 3)
    return torch.einsum("bij,bjhw->bihw", mat, x)


def color_jitter(x: torch.Tensor, strength: tuple[float, ...], prob: float) -> torch.Tensor:
    """Brightness, contrast, saturation, hue (fixed order), applied to a random subset."""
    b, dev = x.shape[0], x.device
    bri, con, sat, hue = strength
    out = (x * _uniform(b, 1 - bri, 1 + bri, dev).view(b, 1, 1, 1)).clamp(0, 1)
    mean = _gray(out).mean(dim=(1, 2, 3), keepdim=True)
    out = ((out - mean) * _uniform(b, 1 - con, 1 + con, dev).view(b, 1, 1, 1) + mean).clamp(0, 1)
    if x.shape[1] == 3:
        gray = _gray(out)
        out = ((out - gray) * _uniform(b, 1 - sat, 1 + sat, dev).view(b, 1, 1, 1) + gray).clamp(
            0, 1
        )
        out = _hue_shift(out, _uniform(b, -hue, hue, dev)).clamp(0, 1)
    return torch.where(_coin(b, prob, dev), out, x)


def grayscale(x: torch.Tensor, prob: float) -> torch.Tensor:
    if x.shape[1] == 1 or prob == 0:
        return x
    gray = _gray(x).clamp(0, 1)  # the luma weights sum to 1 only up to float rounding
    return torch.where(_coin(x.shape[0], prob, x.device), gray.expand_as(x), x)


def gaussian_blur(x: torch.Tensor, prob: float) -> torch.Tensor:
    """Per-sample sigma in [0.1, 2.0] at 224px, scaled to the image size; kernel ~10% of side."""
    if prob == 0:
        return x
    b, c, h, w = x.shape
    scale = h / 224
    radius = max(1, int(round(0.05 * h)))
    sigma = _uniform(b, 0.1 * scale, 2.0 * scale, x.device).clamp(min=1e-3)
    offsets = torch.arange(-radius, radius + 1, device=x.device, dtype=x.dtype)
    kernel = torch.exp(-(offsets.view(1, -1) ** 2) / (2 * sigma.view(-1, 1) ** 2))
    kernel = (kernel / kernel.sum(1, keepdim=True)).repeat_interleave(c, 0)  # (B*C, K)
    flat = F.pad(x.reshape(1, b * c, h, w), (radius, radius, radius, radius), mode="reflect")
    flat = F.conv2d(flat, kernel.view(b * c, 1, 1, -1), groups=b * c)
    flat = F.conv2d(flat, kernel.view(b * c, 1, -1, 1), groups=b * c)
    blurred = flat.view(b, c, h, w).clamp(0, 1)  # normalised kernel: 1 up to float rounding
    return torch.where(_coin(b, prob, x.device), blurred, x)


def solarize(x: torch.Tensor, prob: float) -> torch.Tensor:
    if prob == 0:
        return x
    return torch.where(_coin(x.shape[0], prob, x.device) & (x >= 0.5), 1 - x, x)


def flip(x: torch.Tensor, prob: float) -> torch.Tensor:
    if prob == 0:
        return x
    return torch.where(_coin(x.shape[0], prob, x.device), x.flip(-1), x)


def photometric(x: torch.Tensor, p: ViewParams) -> torch.Tensor:
    """Colour jitter, grayscale, blur and solarize, in SimCLR/BYOL's order."""
    if p.jitter_prob > 0:
        x = color_jitter(x, p.jitter, p.jitter_prob)
    x = grayscale(x, p.grayscale_prob)
    x = gaussian_blur(x, p.blur_prob)
    return solarize(x, p.solarize_prob)


def augment(x: torch.Tensor, size: int, p: ViewParams) -> torch.Tensor:
    """A view of images held whole: crop and flip on the device, then the photometric ops."""
    return photometric(resized_crop_flip(x, size, p.crop_scale, p.flip_prob), p)


def augment_cropped(x: torch.Tensor, p: ViewParams) -> torch.Tensor:
    """A view whose crop a worker already cut from the original: flip, then photometric."""
    return photometric(flip(x, p.flip_prob), p)
