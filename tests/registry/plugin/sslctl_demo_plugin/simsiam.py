"""SimSiam (Chen & He 2021): two views, a projector and a predictor, and the symmetric negative
cosine between each view's prediction and the other view's projection under stop-gradient; no
negatives and no momentum encoder."""

from __future__ import annotations

import torch
import torch.nn.functional as F

from sslctl.methods.base import Method, mlp
from sslctl_demo_plugin.simsiam_spec import SimSiamSpec


def negative_cosine(p: torch.Tensor, z: torch.Tensor) -> torch.Tensor:
    return -F.cosine_similarity(p, z.detach(), dim=-1).mean()


class SimSiam(Method):
    Spec = SimSiamSpec

    def __init__(self, encoder, spec: SimSiamSpec) -> None:
        super().__init__(encoder)
        d = encoder.embed_dim
        self.projector = mlp([d, spec.proj_hidden, spec.proj_hidden, spec.proj_dim], last_bn=True)
        self.predictor = mlp([spec.proj_dim, spec.pred_hidden, spec.proj_dim])

    def forward(self, views):
        z1, z2 = (self.projector(self.encoder(v)) for v in views[:2])
        p1, p2 = self.predictor(z1), self.predictor(z2)
        loss = (negative_cosine(p1, z2) + negative_cosine(p2, z1)) / 2
        return loss, {}
