"""Barlow Twins: the loss against its reference, batch-norm eps included."""

from __future__ import annotations

import torch

from sslctl.methods.barlow import barlow_loss
from tests.methods.reference import assert_same_loss_and_grads

torch.manual_seed(0)


def test_barlow_matches_the_reference_with_its_batchnorm_eps():
    """The official code standardises with BatchNorm1d(affine=False), eps 1e-5. On columns of
    tiny variance the eps matters: the gradients differ by about eps/var without it."""
    z1, z2, lambd = torch.randn(32, 8), torch.randn(32, 8), 0.005
    z1[:, :3] *= 1e-3  # variance ~1e-6, below the eps
    z2[:, 5:] *= 1e-3

    def reference(z1, z2):
        def bn(z):
            mean = z.sum(0) / len(z)
            var = ((z - mean) ** 2).sum(0) / len(z)
            return (z - mean) / torch.sqrt(var + 1e-5)

        c = bn(z1).T @ bn(z2) / len(z1)
        on = ((torch.diagonal(c) - 1) ** 2).sum()
        off = (c**2).sum() - (torch.diagonal(c) ** 2).sum()
        return on + lambd * off

    assert_same_loss_and_grads(lambda a, b: barlow_loss(a, b, lambd)[0], reference, (z1, z2))
    bn = torch.nn.BatchNorm1d(8, affine=False).train()  # eps=1e-5: torch's own layer agrees
    c = bn(z1).T @ bn(z2) / 32
    _, on_diag, off_diag = barlow_loss(z1, z2, lambd)
    assert torch.allclose(on_diag, ((torch.diagonal(c) - 1) ** 2).sum(), rtol=1e-4)
    assert torch.allclose(off_diag, (c**2).sum() - (torch.diagonal(c) ** 2).sum(), rtol=1e-4)


def test_barlow_is_zero_for_identical_decorrelated_views():
    z = torch.linalg.qr(torch.randn(64, 8))[0] * 8  # orthogonal columns
    z = z - z.mean(0)
    loss, _, off = barlow_loss(z, z, 0.005)
    assert off < 0.05 and loss < 0.05
