"""Masked patch modelling on series (PatchTST's self-supervised pre-training, Nie et al. 2023):
a random share of each channel's observed patches is zeroed, the transformer encodes all
patches, and a linear head reconstructs the masked patches' values; the loss is the mean
squared error over the masked, observed values (in the encoder's normalised units)."""

from __future__ import annotations

import torch
from torch import nn

from sslctl.encoders.patch_tst import PatchTST
from sslctl.errors import UserError
from sslctl.methods.base import Method
from sslctl.specs.methods.masked_series import MaskedSeriesSpec


def mask_patches(valid: torch.Tensor, ratio: float) -> torch.Tensor:
    """(..., N) observed patches -> (..., N) bool, the masked ones: per row, all but
    floor(n_valid * (1 - ratio)) observed patches, picked at random."""
    noise = torch.rand(valid.shape, device=valid.device).masked_fill(~valid, 2.0)
    rank = noise.argsort(dim=-1).argsort(dim=-1)
    n_valid = valid.sum(dim=-1, keepdim=True)
    n_masked = n_valid - (n_valid * (1 - ratio)).floor().long()
    return rank < n_masked


class MaskedSeries(Method):
    Spec = MaskedSeriesSpec

    def __init__(self, encoder, spec: MaskedSeriesSpec) -> None:
        super().__init__(encoder)
        bb = encoder.backbone
        if not isinstance(bb, PatchTST):
            raise UserError("encoder.name: masked_series needs the patch_tst encoder")
        self.ratio = spec.mask_ratio
        self.head = nn.Linear(bb.dim, bb.patch_len)

    def forward(self, views):
        bb = self.encoder.backbone
        patches = bb.patches(self.encoder.normalize(views[0]))  # (B, C, N, L), NaN = missing
        observed = ~torch.isnan(patches)
        masked = mask_patches(observed.any(dim=-1), self.ratio)
        tokens, _ = bb.encode_patches(patches.masked_fill(masked[..., None], 0.0))
        pred = self.head(tokens).float()
        scored = masked[..., None] & observed
        err = (pred - torch.nan_to_num(patches, nan=0.0)).pow(2) * scored
        return err.sum() / scored.sum().clamp(min=1), {}
