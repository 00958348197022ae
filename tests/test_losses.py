"""Each loss against a direct transcription of its paper's formula (written independently)."""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F

from sslctl.methods.barlow import barlow_loss
from sslctl.methods.byol import regression_loss
from sslctl.methods.dino import dino_loss
from sslctl.methods.mae import patchify, random_masking
from sslctl.methods.simclr import nt_xent
from sslctl.methods.vicreg import vicreg_terms

torch.manual_seed(0)


def test_nt_xent_matches_loop():
    z1, z2, t = torch.randn(6, 5), torch.randn(6, 5), 0.3
    z = F.normalize(torch.cat([z1, z2]), dim=1)
    n = len(z1)
    total = 0.0
    for i in range(2 * n):
        pos = (i + n) % (2 * n)
        num = math.exp(float(z[i] @ z[pos]) / t)
        den = sum(math.exp(float(z[i] @ z[k]) / t) for k in range(2 * n) if k != i)
        total += -math.log(num / den)
    assert abs(nt_xent(z1, z2, t).item() - total / (2 * n)) < 1e-5


def test_barlow_matches_paper_pseudocode():
    z1, z2, lambd = torch.randn(32, 8), torch.randn(32, 8), 0.005
    bn = torch.nn.BatchNorm1d(8, affine=False, eps=1e-12).train()
    c = bn(z1).T @ bn(z2) / 32
    on = ((torch.diagonal(c) - 1) ** 2).sum()
    off = (c**2).sum() - (torch.diagonal(c) ** 2).sum()
    loss, on_diag, off_diag = barlow_loss(z1, z2, lambd)
    assert torch.allclose(loss, on + lambd * off, rtol=1e-4)
    assert torch.allclose(on_diag, on, rtol=1e-4) and torch.allclose(off_diag, off, rtol=1e-4)


def test_barlow_is_zero_for_identical_decorrelated_views():
    z = torch.linalg.qr(torch.randn(64, 8))[0] * 8  # orthogonal columns
    z = z - z.mean(0)
    loss, _, off = barlow_loss(z, z, 0.005)
    assert off < 0.05 and loss < 0.05


def test_vicreg_terms():
    z1, z2 = torch.randn(16, 4), torch.randn(16, 4)
    inv, var, cov = vicreg_terms(z1, z2)
    assert torch.allclose(inv, ((z1 - z2) ** 2).mean())
    ref_var = sum(F.relu(1 - torch.sqrt(z.var(0) + 1e-4)).mean() for z in (z1, z2)) / 2
    assert torch.allclose(var, ref_var)
    ref_cov = 0.0
    for z in (z1, z2):
        c = torch.cov(z.T)
        ref_cov += ((c**2).sum() - (torch.diagonal(c) ** 2).sum()) / 4
    assert torch.allclose(cov, ref_cov, rtol=1e-5)


def test_byol_regression_is_normalised_mse():
    p, z = torch.randn(10, 6), torch.randn(10, 6)
    ref = ((F.normalize(p, dim=1) - F.normalize(z, dim=1)) ** 2).sum(1).mean()
    assert torch.allclose(regression_loss(p, z), ref, atol=1e-6)


def test_dino_loss_skips_same_view_pairs():
    s = [torch.randn(4, 10) for _ in range(4)]  # 2 global + 2 local student views
    t = [torch.randn(4, 10) for _ in range(2)]
    center = torch.randn(1, 10)
    ref, n = 0.0, 0
    for iq in range(2):
        q = F.softmax((t[iq] - center) / 0.04, dim=1)
        for v in range(4):
            if v != iq:
                ref += (-(q * F.log_softmax(s[v] / 0.1, dim=1)).sum(1)).mean()
                n += 1
    assert n == 6
    assert torch.allclose(dino_loss(s, t, center, 0.1, 0.04), ref / n)


def test_mae_masking_and_patchify():
    tokens = torch.randn(3, 16, 5)
    kept, mask, restore = random_masking(tokens, 0.75)
    assert kept.shape == (3, 4, 5) and mask.sum(1).tolist() == [12.0] * 3
    for b in range(3):  # kept tokens are exactly the unmasked ones
        assert torch.allclose(kept[b].sort(0).values, tokens[b][mask[b] == 0].sort(0).values)
    img = torch.arange(2 * 8 * 8.0).view(1, 2, 8, 8)
    patches = patchify(img, 4, 4)
    assert patches.shape == (1, 4, 32)
    assert torch.equal(patches[0, 1].view(4, 4, 2)[..., 0], img[0, 0, :4, 4:])
    spec = torch.arange(8 * 10.0).view(1, 1, 8, 10)  # rectangular patches, as on spectrograms
    patches = patchify(spec, 4, 5)
    assert patches.shape == (1, 4, 20)
    assert torch.equal(patches[0, 3].view(4, 5), spec[0, 0, 4:, 5:])
    # the patch embedding is a strided conv: patch i of patchify is the conv's token i
    conv = torch.nn.Conv2d(1, 1, (4, 5), stride=(4, 5), bias=False)
    tokens = conv(spec).flatten(2).transpose(1, 2)[..., 0]
    assert torch.allclose(tokens, patches @ conv.weight.view(-1))
