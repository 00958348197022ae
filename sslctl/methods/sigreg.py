"""SIGReg (Balestriero & LeCun 2025, LeJEPA): Sketched Isotropic Gaussian Regularization.

Embeddings are pushed toward an isotropic Gaussian by testing, along random unit directions
(the sketch), whether each 1-D projection is standard normal. The test is Epps-Pulley's: the
squared distance between the projection's empirical characteristic function and the normal
one, exp(-t^2/2), weighted by exp(-t^2/2) and integrated over t, times the sample count:

    T = N * integral over [-t_max, t_max] of |ecf(t) - exp(-t^2/2)|^2 exp(-t^2/2) dt

It is ~0 (of order 1) for Gaussian samples and grows with N for collapsed ones (every sample
equal: |ecf| = 1 everywhere). Constants as the official code: `lejepa/univariate/
epps_pulley.py:EppsPulley` (t_max 3, 17 knots, trapezoid on [0, t_max] with doubled weights,
the integrand being even) and `MINIMAL.md`'s `SIGReg.forward` (256 unit directions drawn
afresh each step, the statistic averaged over them) in rbalestr-lab/lejepa.
"""

from __future__ import annotations

import torch

from sslctl.collectives import gather_with_grad
from sslctl.specs.methods.sigreg import SLICES

T_MAX = 3.0
KNOTS = 17


def epps_pulley(x: torch.Tensor, t_max: float = T_MAX, knots: int = KNOTS) -> torch.Tensor:
    """The statistic of each column of `x` (..., N, K) against N(0, 1): shape (..., K)."""
    t = torch.linspace(0, t_max, knots, device=x.device, dtype=torch.float32)
    step = t_max / (knots - 1)
    weights = torch.full((knots,), 2 * step, device=x.device, dtype=torch.float32)
    weights[[0, -1]] = step  # the trapezoid's ends; the doubling covers t < 0
    phi = torch.exp(-t.square() / 2)
    xt = x.float().unsqueeze(-1) * t  # (..., N, K, knots)
    err = (xt.cos().mean(-3) - phi).square() + xt.sin().mean(-3).square()
    return (err @ (weights * phi)) * x.shape[-2]


def sigreg(z: torch.Tensor, slices: int = SLICES) -> torch.Tensor:
    """SIGReg of embeddings `z` (..., N, D): Epps-Pulley along `slices` random unit directions
    (drawn from torch's generator, so a resumed run draws the same ones), averaged."""
    directions = torch.randn(z.shape[-1], slices, device=z.device)
    directions = directions / directions.norm(dim=0)
    return epps_pulley(z.float() @ directions).mean()


def add_sigreg(
    loss: torch.Tensor, terms: dict, weight: float, views: tuple[torch.Tensor, ...]
) -> tuple[torch.Tensor, dict]:
    """`loss + weight * SIGReg` averaged over the views' (N, D) projections, each over the
    global batch; the loss and terms unchanged at weight 0 (no random draw either, so a
    method's runs without the option are what they were)."""
    if weight == 0:
        return loss, terms
    value = torch.stack([sigreg(gather_with_grad(z.float())) for z in views]).mean()
    return loss + weight * value, {**terms, "sigreg": value.detach()}
