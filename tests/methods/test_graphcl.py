"""GraphCL: the loss against the official formula."""

from __future__ import annotations

import torch
import torch.nn.functional as F

from sslctl.methods.graphcl import graphcl_loss


def test_graphcl_loss_matches_official_formula():
    z1, z2 = torch.randn(6, 5), torch.randn(6, 5)
    t = 0.2
    sim = torch.exp(F.normalize(z1) @ F.normalize(z2).T / t)
    pos = sim.diag()
    official = -torch.log(pos / (sim.sum(1) - pos)).mean()
    assert torch.allclose(graphcl_loss(z1, z2, t), official, atol=1e-5)
