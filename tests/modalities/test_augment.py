"""Batched augmentations: shapes, value range, per-sample randomness, seeded reproducibility."""

from __future__ import annotations

import torch

from sslctl.modalities.image.augment import augment, gaussian_blur, resized_crop_flip
from sslctl.modalities.image.modality import ImageModality
from sslctl.modalities.image.presets import PRESETS
from sslctl.views import ViewPlan

SPEC = {"modality": "image", "channels": 3, "image_size": 32, "mean": [0.5] * 3, "std": [0.25] * 3}


def test_views_shapes_and_range():
    x = torch.rand(8, 3, 40, 40)
    views = ImageModality(SPEC).views(x, ViewPlan(n_global=2, n_local=3, local_size_ratio=0.5))
    assert [tuple(v.shape) for v in views] == [(8, 3, 32, 32)] * 2 + [(8, 3, 16, 16)] * 3
    for v in views:
        assert v.min() >= 0 and v.max() <= 1 and torch.isfinite(v).all()


def test_views_differ_per_sample_and_are_seeded():
    x = torch.rand(1, 3, 32, 32).expand(6, -1, -1, -1)
    torch.manual_seed(0)
    a = augment(x, 32, PRESETS["simclr"][0])
    torch.manual_seed(0)
    b = augment(x, 32, PRESETS["simclr"][0])
    assert torch.equal(a, b)
    assert not torch.allclose(a[0], a[1])  # same image, different per-sample parameters


def test_flip_reverses_horizontal_gradient():
    ramp = torch.linspace(0, 1, 32).view(1, 1, 1, 32).expand(16, 1, 32, 32)
    kept = resized_crop_flip(ramp, 32, (0.5, 1.0), flip_prob=0.0)
    flipped = resized_crop_flip(ramp, 32, (0.5, 1.0), flip_prob=1.0)
    assert torch.all(kept[..., 0] < kept[..., -1])
    assert torch.all(flipped[..., 0] > flipped[..., -1])


def test_blur_keeps_mean_and_smooths():
    x = (torch.rand(4, 1, 32, 32) > 0.5).float()
    out = gaussian_blur(x, prob=1.0)
    assert torch.allclose(out.mean(), x.mean(), atol=0.02)
    assert out.var() < x.var()
