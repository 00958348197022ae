"""Barlow Twins (Zbontar et al. 2021): drive the cross-correlation of the two views' embeddings,
standardised over the global batch, to the identity."""

from __future__ import annotations

import torch

from sslctl.collectives import gather_with_grad
from sslctl.methods.base import Method, mlp
from sslctl.methods.sigreg import add_sigreg
from sslctl.specs.methods.barlow import BarlowSpec


def off_diagonal(m: torch.Tensor) -> torch.Tensor:
    n = m.shape[0]
    return m.flatten()[:-1].view(n - 1, n + 1)[:, 1:].flatten()


BN_EPS = 1e-5  # the reference standardises with BatchNorm1d(affine=False): sqrt(var + eps)


def standardise(z: torch.Tensor) -> torch.Tensor:
    """What the official code's `nn.BatchNorm1d(affine=False)` does in training: subtract the
    batch mean, divide by sqrt(biased variance + 1e-5)."""
    return (z - z.mean(0)) / torch.sqrt(z.var(0, unbiased=False) + BN_EPS)


def barlow_loss(z1: torch.Tensor, z2: torch.Tensor, lambd: float) -> tuple[torch.Tensor, ...]:
    z1, z2 = gather_with_grad(z1), gather_with_grad(z2)
    n = z1.shape[0]
    c = standardise(z1).T @ standardise(z2) / n
    on_diag = (torch.diagonal(c) - 1).pow(2).sum()
    off_diag = off_diagonal(c).pow(2).sum()
    return on_diag + lambd * off_diag, on_diag, off_diag


class BarlowTwins(Method):
    Spec = BarlowSpec

    def __init__(self, encoder, spec: BarlowSpec) -> None:
        super().__init__(encoder)
        self.lambd, self.sigreg = spec.lambd, spec.sigreg
        self.projector = mlp([encoder.embed_dim, spec.proj_hidden, spec.proj_hidden, spec.proj_dim])

    def forward(self, views):
        z1, z2 = (self.projector(self.encoder(v)) for v in views[:2])
        loss, on_diag, off_diag = barlow_loss(z1.float(), z2.float(), self.lambd)
        terms = {"on_diag": on_diag.detach(), "off_diag": off_diag.detach()}
        return add_sigreg(loss, terms, self.sigreg, (z1, z2))
