"""VICReg: its three terms and their gradients."""

from __future__ import annotations

import torch

from sslctl.methods.vicreg import vicreg_terms
from tests.methods.reference import assert_same_loss_and_grads

torch.manual_seed(0)


def test_vicreg_terms_and_gradients():
    z1, z2 = torch.randn(16, 4), torch.randn(16, 4)

    def reference(z1, z2, weights=(25.0, 25.0, 1.0)):
        inv = ((z1 - z2) ** 2).mean()
        var = sum(torch.relu(1 - torch.sqrt(z.var(0) + 1e-4)).mean() for z in (z1, z2)) / 2
        cov = 0.0
        for z in (z1, z2):
            zc = z - z.mean(0)
            c = zc.T @ zc / (len(z) - 1)
            cov = cov + ((c**2).sum() - (torch.diagonal(c) ** 2).sum()) / 4
        return weights[0] * inv + weights[1] * var + weights[2] * cov

    def ours(z1, z2):
        inv, var, cov = vicreg_terms(z1, z2)
        return 25.0 * inv + 25.0 * var + 1.0 * cov

    assert_same_loss_and_grads(ours, reference, (z1, z2), rtol=1e-5)
