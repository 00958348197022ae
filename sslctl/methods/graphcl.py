"""GraphCL (You et al. 2020): two augmented views of each graph, a two-layer projection head
and the official loss: for every graph, its other view against the other graphs' other views,
-log(exp(s_ii / t) / sum_{j != i} exp(s_ij / t)) with cosine similarities s, one direction.

Unlike SimCLR's NT-Xent, negatives come only from the second view and the positive is left
out of the denominator. Keys are gathered across ranks, so the loss uses the global batch.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from sslctl.collectives import gather_with_grad, rank
from sslctl.methods.base import Method
from sslctl.specs.methods.graphcl import GraphCLSpec


def graphcl_loss(z1: torch.Tensor, z2: torch.Tensor, temperature: float) -> torch.Tensor:
    z1 = F.normalize(z1, dim=1)
    keys = F.normalize(gather_with_grad(z2), dim=1)
    logits = z1 @ keys.T / temperature
    positive = torch.arange(len(z1), device=z1.device) + rank() * len(z1)
    pos = logits.gather(1, positive[:, None])[:, 0]
    negatives = logits.masked_fill(F.one_hot(positive, len(keys)).bool(), float("-inf"))
    return (torch.logsumexp(negatives, dim=1) - pos).mean()


class GraphCL(Method):
    Spec = GraphCLSpec

    def __init__(self, encoder, spec: GraphCLSpec) -> None:
        super().__init__(encoder)
        self.temperature = spec.temperature
        self.projector = nn.Sequential(
            nn.Linear(encoder.embed_dim, spec.proj_hidden),
            nn.ReLU(inplace=True),
            nn.Linear(spec.proj_hidden, spec.proj_dim),
        )

    def forward(self, views):
        z1, z2 = (self.projector(self.encoder(v)) for v in views[:2])
        return graphcl_loss(z1, z2, self.temperature), {}
