"""MAE: random masking and patchify."""

from __future__ import annotations

import torch

from sslctl.methods.mae import patchify, random_masking

torch.manual_seed(0)


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
