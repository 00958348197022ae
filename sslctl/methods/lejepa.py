"""LeJEPA (Balestriero & LeCun 2025): every view's projection predicts the views' mean (the
JEPA prediction loss with the identity predictor), and SIGReg (methods/sigreg.py) keeps the
projections an isotropic Gaussian, which rules out collapse without an EMA teacher, a
stop-gradient or a predictor network:

    loss = (1 - lamb) * mean over views of ||mean_v(z) - z_v||^2 + lamb * SIGReg(z_v)

The defaults are the official minimal example's (`MINIMAL.md` in rbalestr-lab/lejepa: V = 4
views, a BatchNorm MLP projector to 16 dimensions, lamb = 0.02, SIGReg over every view's
projections). The run keeps the encoder's embedding (before the projector), as the paper
probes it. The paper's multi-crop variant (2 global + local views, the mean taken over the
global ones) is not built here.
"""

from __future__ import annotations

import torch

from sslctl.collectives import gather_with_grad
from sslctl.methods.base import Method, mlp
from sslctl.methods.sigreg import sigreg
from sslctl.specs.methods.lejepa import LeJEPASpec
from sslctl.views import ViewPlan


def lejepa_terms(z: torch.Tensor, slices: int) -> tuple[torch.Tensor, torch.Tensor]:
    """(prediction, SIGReg) of projections `z` (V, N, K): each view against the views' mean,
    and the Gaussianity statistic over every view's batch (global across ranks)."""
    prediction = (z.mean(0) - z).square().mean()
    return prediction, sigreg(torch.stack([gather_with_grad(view) for view in z]), slices)


class LeJEPA(Method):
    Spec = LeJEPASpec

    def __init__(self, encoder, spec: LeJEPASpec) -> None:
        super().__init__(encoder)
        self.spec = spec
        self.view_plan = ViewPlan(n_global=spec.views, kind="contrastive")
        self.projector = mlp([encoder.embed_dim, spec.proj_hidden, spec.proj_hidden, spec.proj_dim])

    def forward(self, views):
        (joined, count), *_ = views.groups()  # every view at once: one BatchNorm batch
        z = self.projector(self.encoder(joined)).float()
        z = z.view(count, -1, z.shape[-1])
        prediction, gaussian = lejepa_terms(z, self.spec.slices)
        lamb = self.spec.lamb
        loss = (1 - lamb) * prediction + lamb * gaussian
        return loss, {"prediction": prediction.detach(), "sigreg": gaussian.detach()}
