"""JEPA: each modality's token masking against its definition, the loss against a formula
written out here, the encoders' token path against their own forward, and the method's
refusals and EMA schedule."""

from __future__ import annotations

import math

import pytest
import torch

from sslctl.errors import UserError
from sslctl.methods.jepa import JEPA, JEPASpec, jepa_loss
from sslctl.modalities.token_masks import BlockMasking, SpanMasking


def _box(index: torch.Tensor, width: int) -> tuple[int, int, int, int]:
    """(top, left, height, width) of the bounding box of raster indices on a grid `width` wide."""
    rows, cols = index // width, index % width
    top, left = int(rows.min()), int(cols.min())
    return top, left, int(rows.max()) - top + 1, int(cols.max()) - left + 1


@pytest.mark.parametrize("grid", [(14, 14), (8, 8), (8, 10)])
def test_block_masking_follows_i_jepa(grid):
    """4 full rectangular target blocks of one size per batch, with I-JEPA's scale and aspect
    (up to the rounding of sides to whole patches); a context inside one square block of scale
    0.85-1.0, disjoint from every target; equal counts across the batch, raster order."""
    gh, gw = grid
    n = gh * gw
    masking = BlockMasking()
    torch.manual_seed(0)
    for _ in range(20):
        masks = masking.sample(16, grid)
        batch, blocks, per_block = masks.targets.shape
        assert (batch, blocks) == (16, 4) and masks.context.shape[0] == 16
        assert masks.context.shape[1] >= masking.min_context
        sizes = set()
        for b in range(16):
            context = masks.context[b]
            assert torch.equal(context, context.sort().values) and len(context.unique()) == len(
                context
            )
            _, _, ch, cw = _box(context, gw)
            side = math.sqrt(n)
            assert max(ch, cw) <= min(max(gh, gw), round(side)), (ch, cw)
            for target in masks.targets[b]:
                assert torch.equal(target, target.sort().values)
                top, left, h, w = _box(target, gw)
                assert h * w == per_block  # a full rectangle
                sizes.add((h, w))
                assert not torch.isin(context, target).any()  # disjoint
        assert len(sizes) == 1  # one block size per batch, as the official collator
        (h, w) = sizes.pop()
        # sides are rounded to whole patches: allow half a patch on each side
        assert (h - 0.5) * (w - 0.5) <= 0.2 * n and (h + 0.5) * (w + 0.5) >= 0.15 * n
        assert (h - 0.5) / (w + 0.5) <= 1.5 and (h + 0.5) / (w - 0.5) >= 0.75


@pytest.mark.parametrize("grid", [(8, 10), (4, 25), (1, 50)])
def test_full_height_block_masking_cuts_stretches_of_time(grid):
    """The spectrogram masking: each target block spans every row (mel band) and a run of
    columns (time patches) covering 15-20 % of the grid up to rounding to whole columns; one
    width per batch; the context is disjoint from every target and keeps one count per batch.
    On one row of frame tokens (patches as tall as the spectrogram) the context block is as
    wide as its scale asks, not the side of a square, so it keeps enough tokens."""
    gh, gw = grid
    masking = BlockMasking(full_height=True)
    torch.manual_seed(2)
    for _ in range(20):
        masks = masking.sample(16, grid)
        assert masks.targets.shape[:2] == (16, 4)
        assert masks.context.shape[1] >= masking.min_context
        batch_widths = set()
        for b in range(16):
            for target in masks.targets[b]:
                top, left, h, w = _box(target, gw)
                assert (top, h) == (0, gh) and h * w == len(target)  # whole columns
                batch_widths.add(w)
                assert not torch.isin(masks.context[b], target).any()
        assert len(batch_widths) == 1
        (w,) = batch_widths
        assert (w - 0.5) * gh <= 0.2 * gh * gw and (w + 0.5) * gh >= 0.15 * gh * gw


def test_block_masking_refuses_a_grid_too_small_for_its_context():
    with pytest.raises(UserError, match="2x2 patch grid is too small"):
        BlockMasking().sample(4, (2, 2))


@pytest.mark.parametrize("n", [19, 40, 125])
def test_span_masking_follows_ecg_jepa(n):
    """A share 0.15-0.25 of the time patches is the context (one count per batch, ceil as the
    official collator), the rest is the one target set, in at most 4 contiguous runs."""
    torch.manual_seed(1)
    masking = SpanMasking()
    for _ in range(20):
        masks = masking.sample(8, (n,))
        kept = masks.context.shape[1]
        assert math.ceil(0.15 * n) <= kept <= math.ceil(0.25 * n)
        assert masks.targets.shape == (8, 1, n - kept)
        for b in range(8):
            context, target = masks.context[b], masks.targets[b, 0]
            assert torch.equal(torch.cat([context, target]).sort().values, torch.arange(n))
            assert torch.equal(target, target.sort().values)
            runs = 1 + int((target.diff() > 1).sum())
            assert runs <= 4


def test_jepa_loss_matches_its_formula():
    """Targets are the target encoder's tokens, layer-normalised without affine weights
    (eps 1e-5), picked per target set; smooth-L1 (beta 1) or squared error averaged over sets,
    tokens and channels; tokens of padding are left out."""
    g = torch.Generator().manual_seed(0)
    encoded = torch.randn(2, 6, 4, generator=g) * 3
    pred = torch.randn(2, 2, 3, 4, generator=g)
    targets = torch.tensor([[[0, 1, 2], [3, 4, 5]], [[5, 0, 2], [1, 1, 3]]])
    valid = torch.tensor([[True] * 6, [True, False, True, True, True, True]])

    def by_hand(kind, use_valid):
        total, count = 0.0, 0
        for r in range(2):
            for m in range(2):
                for t in range(3):
                    i = int(targets[r, m, t])
                    if use_valid and not valid[r, i]:
                        continue
                    e = encoded[r, i]
                    normed = (e - e.mean()) / torch.sqrt(e.var(unbiased=False) + 1e-5)
                    d = pred[r, m, t] - normed
                    if kind == "smooth_l1":
                        err = torch.where(d.abs() < 1, 0.5 * d**2, d.abs() - 0.5)
                    else:
                        err = d**2
                    total, count = total + err.mean(), count + 1
        return total / count

    for kind in ("smooth_l1", "l2"):
        torch.testing.assert_close(jepa_loss(pred, encoded, targets, None, kind), by_hand(kind, 0))
        torch.testing.assert_close(
            jepa_loss(pred, encoded, targets, valid, kind), by_hand(kind, True)
        )


def _vit(**kwargs):
    from sslctl.encoders.base import Normalize
    from sslctl.encoders.timm_encoder import TimmEncoder, create_timm_backbone

    kw = {"patch_size": 4, "embed_dim": 32, "depth": 2, "num_heads": 2, **kwargs}
    return TimmEncoder(
        Normalize([0.5], [0.25]), create_timm_backbone("vit_tiny_patch16_224", 1, 16, kw)
    )


@pytest.mark.parametrize(
    "kwargs",
    [
        {"class_token": False, "global_pool": "avg", "fc_norm": False},
        {"global_pool": "avg", "fc_norm": False},
        {"global_pool": "avg", "fc_norm": False, "no_embed_class": True, "reg_tokens": 2},
    ],
)
def test_vit_token_path_is_timms_own_forward(kwargs):
    """patch_tokens then encode_tokens over every patch gives timm's forward_features (patch
    tokens), with or without class and register tokens; their mean is the pooled embedding."""
    torch.manual_seed(0)
    encoder = _vit(**kwargs).eval()
    x = torch.rand(3, 1, 16, 16)
    tokens = encoder.patch_tokens(x)
    assert tokens.grid == (4, 4) and tokens.rows == 1 and tokens.valid is None
    encoded = encoder.encode_tokens(tokens.tokens, None)
    bb = encoder.backbone
    reference = bb.forward_features(encoder.normalize(x))[:, bb.num_prefix_tokens :]
    torch.testing.assert_close(encoded, reference)
    torch.testing.assert_close(encoded.mean(1), encoder(x))


def test_patch_tst_token_path_is_its_own_forward():
    from sslctl.encoders.base import Encoder
    from sslctl.encoders.patch_tst import PatchTST
    from sslctl.modalities.timeseries.modality import SeriesNormalize

    torch.manual_seed(0)
    backbone = PatchTST(2, patch_len=4, dim=16, depth=1, heads=2)
    encoder = Encoder(SeriesNormalize([0.0, 0.0], [1.0, 1.0]), backbone, 32).eval()
    x = torch.randn(3, 2, 18)
    x[0, :, 13:] = float("nan")  # padding: the last two patches of the first series
    tokens = encoder.patch_tokens(x)
    assert tokens.grid == (5,) and tokens.rows == 2 and tokens.tokens.shape == (6, 5, 16)
    assert tokens.valid.sum() == 6 * 5 - 2 * 1  # patch 4 of series 0 is padding, both channels
    encoded, valid = backbone.encode_patches(backbone.patches(encoder.normalize(x)))
    torch.testing.assert_close(
        encoder.encode_tokens(tokens.tokens, tokens.valid), encoded.flatten(0, 1)
    )


def test_jepa_refuses_encoders_without_patch_tokens_or_pooling_by_class_token():
    from sslctl.encoders.base import Encoder, Normalize

    spec = JEPASpec(name="jepa")
    cnn = Encoder(Normalize([0.0], [1.0]), torch.nn.Conv2d(1, 4, 3), 4)
    with pytest.raises(UserError, match="^encoder.name: jepa needs a transformer on patches"):
        JEPA(cnn, spec)
    with pytest.raises(UserError, match="^encoder.kwargs.global_pool: jepa keeps"):
        JEPA(_vit(), spec)
    with pytest.raises(ValueError, match="divisible"):
        JEPASpec(name="jepa", predictor_dim=30, predictor_heads=4)


def test_jepa_trains_the_context_encoder_and_keeps_the_ema_target():
    """One step on a small ViT: the loss is finite, gradients reach the context encoder and
    the predictor and never the target encoder; the momentum rises linearly from its base to
    1; the run keeps the target encoder."""
    from sslctl.modalities.base import Views

    torch.manual_seed(0)
    method = JEPA(
        _vit(class_token=False, global_pool="avg", fc_norm=False),
        JEPASpec(name="jepa", predictor_dim=16, predictor_depth=1, predictor_heads=2),
    )
    masking = BlockMasking(min_context=2)
    loss, _ = method(Views([torch.rand(4, 1, 16, 16)], 1, torch.cat, masking))
    loss.backward()
    assert torch.isfinite(loss)
    assert method.encoder.backbone.blocks[0].attn.qkv.weight.grad.abs().sum() > 0
    assert method.predictor.mask_token.grad.abs().sum() > 0
    assert all(p.grad is None for p in method.target_encoder.parameters())
    assert [method.teacher_momentum_at(s, 100) for s in (0, 50, 100, 200)] == pytest.approx(
        [0.996, 0.998, 1.0, 1.0]
    )
    assert method.encoder_to_save() is method.target_encoder


@pytest.mark.slow
def test_a_jepa_run_goes_through_every_job_unchanged(write_recipe, tmp_path):
    """A JEPA run is an ordinary run: probe, embed, coreset, ONNX export (checked in
    onnxruntime) and distill (as the teacher) take it with no JEPA-specific code."""
    import json

    import numpy as np

    from tests.conftest import cli

    vit = {"patch_size": 4, "embed_dim": 32, "depth": 2, "num_heads": 2, "class_token": False,
           "global_pool": "avg", "fc_norm": False}  # fmt: skip
    tree = {
        "data": {"modality": "image", "train": "builtin:digits:train", "image_size": 16},
        "encoder": {"name": "vit_tiny_patch16_224", "kwargs": vit},
        "method": {
            "name": "jepa",
            "predictor_dim": 16,
            "predictor_depth": 1,
            "predictor_heads": 2,
        },  # fmt: skip
        "train": {"steps": 3, "batch_size": 32},
        "probe": {"train": "builtin:digits:train", "test": "builtin:digits:test"},
    }
    run = tmp_path / "jepa"
    cli("pretrain", write_recipe(tree), "--out", run, "--quiet", check=True)
    probe = json.loads(cli("probe", run, "--protocol", "knn", "--json", check=True).stdout)
    assert probe["dim"] == 32 and probe["knn_top1"] > 10
    cli("embed", run, "--data", "builtin:digits:test", "--out", tmp_path / "e.npy", check=True)
    assert np.load(tmp_path / "e.npy").shape == (360, 32)
    picked = cli("coreset", run, "--data", "builtin:digits:test", "--budget", "5", "--strategy",
                 "kcenter", "--out", "-", check=True)  # fmt: skip
    assert len(picked.stdout.split()) == 5
    cli("export", run, "--format", "onnx", "--out", tmp_path / "m.onnx", check=True)
    student = {**tree, "encoder": {"name": "resnet10t"}, "teacher": {"run": str(run)}}
    student["method"] = {"name": "distill"}
    cli("distill", write_recipe(student, "s.yaml"), "--out", tmp_path / "s", "--quiet", check=True)
    assert (tmp_path / "s" / "encoder.safetensors").is_file()
