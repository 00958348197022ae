"""GraphMAE: the scaled cosine error and the official mask split."""

from __future__ import annotations

import torch
import torch.nn.functional as F

from sslctl.graphs import pack_graphs
from sslctl.methods.graphmae import sce_loss
from sslctl.modalities.graph.modality import GraphModality


def test_sce_loss_is_scaled_cosine_error():
    x, y = torch.randn(5, 4), torch.randn(5, 4)
    cos = F.cosine_similarity(x, y, dim=1)
    assert torch.allclose(sce_loss(x, y, 3.0), ((1 - cos) ** 3).mean())
    assert sce_loss(x, 2 * x, 2.0) < 1e-6


def test_graphmae_masking_follows_the_official_split():
    from sslctl.methods.graphmae import GraphMAESpec
    from sslctl.modalities.base import Samples
    from sslctl.modalities.graph.spec import GraphDataSpec
    from sslctl.recipe import EncoderSpec

    gs = pack_graphs([torch.randn(50, 3) + 5], [torch.zeros(2, 0, dtype=torch.long)])
    data = GraphDataSpec(modality="graph", train="x")
    modality = GraphModality.for_training(data, Samples(gs, None, "x"))
    encoder = modality.build_encoder(EncoderSpec(name="gin"))
    from sslctl.methods.graphmae import GraphMAE

    method = GraphMAE(encoder, GraphMAESpec(name="graphmae", mask_rate=0.4, replace_rate=0.25))
    with torch.no_grad():
        method.enc_mask_token.fill_(0.5)
    x = gs.x
    out, masked = method.mask_inputs(x)
    assert len(masked) == 20 and len(set(masked.tolist())) == 20
    rows = [tuple(r) for r in out[masked].tolist()]
    tokens = sum(r == (0.5, 0.5, 0.5) for r in rows)
    assert tokens == 15  # int(0.75 * 20) get the [MASK] token, int(0.25 * 20) other features
    unmasked = torch.ones(50, dtype=torch.bool)
    unmasked[masked] = False
    assert torch.equal(out[unmasked], x[unmasked])
    loss, _ = method([gs.union()])
    loss.backward()
    assert torch.isfinite(loss) and method.enc_mask_token.grad.abs().sum() > 0
