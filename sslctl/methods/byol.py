"""BYOL (Grill et al. 2020): online projector+predictor regress an EMA target's projection."""

from __future__ import annotations

from typing import Literal

import torch
import torch.nn.functional as F
from pydantic import Field

from sslctl.methods import METHODS
from sslctl.methods.base import HeadSpec, Method, copy_frozen, mlp
from sslctl.methods.sigreg import SIGRegOption, add_sigreg
from sslctl.modalities.base import ViewPlan


class BYOLSpec(HeadSpec, SIGRegOption):
    name: Literal["byol"] = Field(description="BYOL: predictor + EMA target (Grill et al. 2020).")
    proj_hidden: int = Field(
        4096, gt=0, le=65536, description="Projector and predictor hidden width."
    )
    proj_dim: int = Field(256, gt=0, le=65536, description="Projector output width.")
    momentum: float = Field(
        0.996, gt=0, lt=1, description="Base EMA momentum, cosine-increased to 1 over training."
    )


def regression_loss(p: torch.Tensor, z: torch.Tensor) -> torch.Tensor:
    """2 - 2 cos(p, z), averaged over the batch (paper eq. 2)."""
    return (2 - 2 * F.cosine_similarity(p, z.detach(), dim=-1)).mean()


@METHODS.register("byol")
class BYOL(Method):
    Spec = BYOLSpec
    view_plan = ViewPlan(kind="asymmetric")

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
