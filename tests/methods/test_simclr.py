"""SimCLR: NT-Xent against a loop over the pairs."""

from __future__ import annotations

import torch

from sslctl.methods.simclr import nt_xent
from tests.methods.reference import assert_same_loss_and_grads

torch.manual_seed(0)


def test_nt_xent_matches_loop():
    z1, z2, t = torch.randn(6, 5), torch.randn(6, 5), 0.3

    def reference(z1, z2):
        z = torch.cat([z1, z2])
        z = z / z.norm(dim=1, keepdim=True)
        n, total = len(z1), 0.0
        for i in range(2 * n):
            pos = (i + n) % (2 * n)
            den = sum(torch.exp(z[i] @ z[k] / t) for k in range(2 * n) if k != i)
            total = total - torch.log(torch.exp(z[i] @ z[pos] / t) / den)
        return total / (2 * n)

    assert_same_loss_and_grads(lambda a, b: nt_xent(a, b, t), reference, (z1, z2))
