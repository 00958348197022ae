"""VICReg (Bardes et al. 2022): invariance (MSE) + variance hinge + covariance decorrelation,
with the variance and covariance statistics taken over the global batch."""

from __future__ import annotations

from typing import Literal

import torch
import torch.nn.functional as F
from pydantic import Field

from sslctl.collectives import gather_with_grad
from sslctl.methods import METHODS
from sslctl.methods.barlow import off_diagonal
from sslctl.methods.base import HeadSpec, Method, mlp
from sslctl.methods.sigreg import SIGRegOption, add_sigreg
from sslctl.modalities.base import ViewPlan


class VICRegSpec(HeadSpec, SIGRegOption):
    name: Literal["vicreg"] = Field(description="VICReg (Bardes et al. 2022).")
    proj_hidden: int = Field(
        2048, gt=0, le=65536, description="Expander hidden width (paper: 8192)."
    )
    proj_dim: int = Field(2048, gt=0, le=65536, description="Expander output width (paper: 8192).")
    sim_coeff: float = Field(25.0, ge=0, le=1000, description="Invariance (MSE) weight.")
    std_coeff: float = Field(25.0, ge=0, le=1000, description="Variance hinge weight.")
    cov_coeff: float = Field(1.0, ge=0, le=1000, description="Covariance weight.")


def _variance(z: torch.Tensor) -> torch.Tensor:
    return F.relu(1 - torch.sqrt(z.var(0) + 1e-4)).mean()


def _covariance(z: torch.Tensor) -> torch.Tensor:
    n, d = z.shape
    z = z - z.mean(0)
    cov = z.T @ z / (n - 1)
    return off_diagonal(cov).pow(2).sum() / d


def vicreg_terms(z1: torch.Tensor, z2: torch.Tensor) -> tuple[torch.Tensor, ...]:
    z1, z2 = gather_with_grad(z1), gather_with_grad(z2)
    invariance = F.mse_loss(z1, z2)
    variance = _variance(z1) / 2 + _variance(z2) / 2
    covariance = _covariance(z1) + _covariance(z2)
    return invariance, variance, covariance


@METHODS.register("vicreg")
class VICReg(Method):
    Spec = VICRegSpec
    view_plan = ViewPlan(kind="asymmetric")

    def __init__(self, encoder, spec: VICRegSpec) -> None:
        super().__init__(encoder)
        self.spec, self.sigreg = spec, spec.sigreg
        self.projector = mlp([encoder.embed_dim, spec.proj_hidden, spec.proj_hidden, spec.proj_dim])

    def forward(self, views):
        z1, z2 = (self.projector(self.encoder(v)).float() for v in views[:2])
        inv, var, cov = vicreg_terms(z1, z2)
        s = self.spec
        loss = s.sim_coeff * inv + s.std_coeff * var + s.cov_coeff * cov
        terms = {"invariance": inv.detach(), "variance": var.detach(), "covariance": cov.detach()}
        return add_sigreg(loss, terms, self.sigreg, (z1, z2))
