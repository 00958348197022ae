"""TS2Vec: the hierarchical loss against a transcription of the official one, and the averaged
weights it keeps."""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F

from sslctl.encoders.dilated_cnn import DilatedCNN
from sslctl.methods.ts2vec import hierarchical_contrastive_loss
from sslctl.modalities.timeseries.augment import (
    overlapping_crops,
)


def _official_style_loss(z1, z2, alpha=0.5, temporal_unit=0):
    """TS2Vec's formulation with the tril/triu trick that drops each row's diagonal."""

    def drop_diag_nll(sim):
        logits = torch.tril(sim, diagonal=-1)[:, :, :-1] + torch.triu(sim, diagonal=1)[:, :, 1:]
        return -F.log_softmax(logits, dim=-1)

    def instance(a, b):
        n = a.size(0)
        if n == 1:
            return a.new_tensor(0.0)
        z = torch.cat([a, b], dim=0).transpose(0, 1)
        nll = drop_diag_nll(z @ z.transpose(1, 2))
        i = torch.arange(n)
        return (nll[:, i, n + i - 1].mean() + nll[:, n + i, i].mean()) / 2

    def temporal(a, b):
        t = a.size(1)
        if t == 1:
            return a.new_tensor(0.0)
        z = torch.cat([a, b], dim=1)
        nll = drop_diag_nll(z @ z.transpose(1, 2))
        i = torch.arange(t)
        return (nll[:, i, t + i - 1].mean() + nll[:, t + i, i].mean()) / 2

    loss, d = torch.tensor(0.0), 0
    while z1.size(1) > 1:
        loss += alpha * instance(z1, z2)
        if d >= temporal_unit:
            loss += (1 - alpha) * temporal(z1, z2)
        d += 1
        z1 = F.max_pool1d(z1.transpose(1, 2), kernel_size=2).transpose(1, 2)
        z2 = F.max_pool1d(z2.transpose(1, 2), kernel_size=2).transpose(1, 2)
    if z1.size(1) == 1:
        loss += alpha * instance(z1, z2)
        d += 1
    return loss / d


@pytest.mark.parametrize("b, t, alpha, unit", [(6, 13, 0.5, 0), (4, 16, 0.3, 1), (1, 5, 0.5, 0)])
def test_hierarchical_loss_matches_official_formulation(b, t, alpha, unit):
    torch.manual_seed(0)
    z1, z2 = torch.randn(b, t, 8), torch.randn(b, t, 8)
    ours = hierarchical_contrastive_loss(z1, z2, alpha, unit)
    assert torch.allclose(ours, _official_style_loss(z1, z2, alpha, unit), atol=1e-5)
    # aligned views give a lower loss than unrelated ones
    if b > 1:
        assert hierarchical_contrastive_loss(z1, z1 + 0.01 * z2, alpha, unit) < ours


def test_ts2vec_keeps_the_equal_weight_average_of_its_iterates():
    from sslctl.encoders.base import Encoder
    from sslctl.encoders.series_base import SeriesNormalize
    from sslctl.methods.ts2vec import TS2Vec, TS2VecSpec

    encoder = Encoder(SeriesNormalize([0.0], [1.0]), DilatedCNN(1, 8, 8, 2), 8)
    method = TS2Vec(encoder, TS2VecSpec(name="ts2vec"))
    weight = encoder.backbone.input_fc.weight
    iterates = []
    for _ in range(3):  # a training step: forward (averages the current weights), update
        iterates.append(weight.detach().clone())
        method(overlapping_crops(torch.randn(4, 1, 16)))[0].backward()
        with torch.no_grad():
            weight.add_(torch.randn_like(weight))
    iterates.append(weight.detach().clone())
    kept = method.encoder_to_save().backbone.input_fc.weight
    assert torch.allclose(kept, torch.stack(iterates).mean(dim=0), atol=1e-6)
    assert not kept.requires_grad
