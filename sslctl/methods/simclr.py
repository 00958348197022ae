"""SimCLR (Chen et al. 2020): NT-Xent over two views, 2N-2 negatives from the global batch."""

from __future__ import annotations

import torch
import torch.nn.functional as F

from sslctl.collectives import gather_with_grad, rank
from sslctl.methods.base import Method, mlp
from sslctl.methods.sigreg import add_sigreg
from sslctl.specs.methods.simclr import SimCLRSpec


def nt_xent(z1: torch.Tensor, z2: torch.Tensor, temperature: float) -> torch.Tensor:
    """Local anchors against all global keys; the mean over ranks is the global NT-Xent."""
    b = z1.shape[0]
    local = F.normalize(torch.cat([z1, z2]), dim=1)
    keys = F.normalize(torch.cat([gather_with_grad(z1), gather_with_grad(z2)]), dim=1)
    n = keys.shape[0] // 2
    logits = local @ keys.T / temperature
    offset = rank() * b
    rows = torch.arange(2 * b, device=z1.device)
    own = torch.cat([rows[:b] + offset, rows[:b] + offset + n])
    positive = torch.cat([rows[:b] + offset + n, rows[:b] + offset])
    logits = logits.masked_fill(F.one_hot(own, 2 * n).bool(), float("-inf"))
    return F.cross_entropy(logits, positive)


class SimCLR(Method):
    Spec = SimCLRSpec

    def __init__(self, encoder, spec: SimCLRSpec) -> None:
        super().__init__(encoder)
        self.temperature = spec.temperature
        self.sigreg = spec.sigreg
        self.projector = mlp([encoder.embed_dim, spec.proj_hidden, spec.proj_dim])

    def forward(self, views):
        z1, z2 = (self.projector(self.encoder(v)) for v in views[:2])
        loss = nt_xent(z1, z2, self.temperature)
        return add_sigreg(loss, {}, self.sigreg, (z1, z2))
