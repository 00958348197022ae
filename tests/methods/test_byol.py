"""BYOL: the normalised regression loss."""

from __future__ import annotations

import torch

from sslctl.methods.byol import regression_loss
from tests.methods.reference import assert_same_loss_and_grads

torch.manual_seed(0)


def test_byol_regression_is_normalised_mse():
    p, z = torch.randn(10, 6), torch.randn(10, 6)

    def reference(p, z):  # the target is a stop-gradient (the EMA teacher's projection)
        p = p / p.norm(dim=1, keepdim=True)
        z = z.detach() / z.detach().norm(dim=1, keepdim=True)
        return (2 - 2 * (p * z).sum(1)).mean()

    assert_same_loss_and_grads(regression_loss, reference, (p, z))
