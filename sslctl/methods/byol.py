"""BYOL (Grill et al. 2020): online projector+predictor regress an EMA target's projection."""

from __future__ import annotations

import torch
import torch.nn.functional as F

from sslctl.methods.base import Method, copy_frozen, mlp
from sslctl.methods.sigreg import add_sigreg
from sslctl.specs.methods.byol import BYOLSpec


def regression_loss(p: torch.Tensor, z: torch.Tensor) -> torch.Tensor:
    """2 - 2 cos(p, z), averaged over the batch (paper eq. 2)."""
    return (2 - 2 * F.cosine_similarity(p, z.detach(), dim=-1)).mean()


class BYOL(Method):
    Spec = BYOLSpec

    def __init__(self, encoder, spec: BYOLSpec) -> None:
        super().__init__(encoder)
        self.teacher_momentum = spec.momentum
        self.sigreg = spec.sigreg
        self.projector = mlp([encoder.embed_dim, spec.proj_hidden, spec.proj_dim])
        self.predictor = mlp([spec.proj_dim, spec.proj_hidden, spec.proj_dim])
        self.target_encoder = copy_frozen(encoder)
        self.target_projector = copy_frozen(self.projector)

    def ema_pairs(self):
        return [(self.encoder, self.target_encoder), (self.projector, self.target_projector)]

    def forward(self, views):
        v1, v2 = views[:2]
        z1, z2 = (self.projector(self.encoder(v)) for v in (v1, v2))
        p1, p2 = self.predictor(z1), self.predictor(z2)
        with torch.no_grad():
            t1, t2 = (self.target_projector(self.target_encoder(v)) for v in (v1, v2))
        loss = regression_loss(p1, t2) + regression_loss(p2, t1)
        return add_sigreg(loss, {}, self.sigreg, (z1, z2))
