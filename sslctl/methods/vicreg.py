"""VICReg (Bardes et al. 2022): invariance (MSE) + variance hinge + covariance decorrelation,
with the variance and covariance statistics taken over the global batch."""

from __future__ import annotations

import torch
import torch.nn.functional as F

from sslctl.collectives import gather_with_grad
from sslctl.methods.barlow import off_diagonal
from sslctl.methods.base import Method, mlp
from sslctl.methods.sigreg import add_sigreg
from sslctl.specs.methods.vicreg import VICRegSpec


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


class VICReg(Method):
    Spec = VICRegSpec

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
