"""Masked series modelling: which patches are masked."""

from __future__ import annotations

import torch

from sslctl.methods.masked_series import mask_patches


def test_mask_patches_masks_the_share_of_observed_patches_only():
    valid = torch.ones(4, 3, 10, dtype=torch.bool)
    valid[0, 0, 6:] = False
    masked = mask_patches(valid, 0.4)
    assert (masked & ~valid).sum() == 0
    assert masked[1, 1].sum() == 4 and masked[0, 0].sum() == 3  # 6 valid: keep floor(3.6)
