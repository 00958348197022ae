"""Each loss against a direct transcription of its paper's formula (written independently)."""

from __future__ import annotations

import torch

from sslctl.methods.barlow import barlow_loss
from sslctl.methods.byol import regression_loss
from sslctl.methods.dino import dino_loss
from sslctl.methods.mae import patchify, random_masking
from sslctl.methods.simclr import nt_xent
from sslctl.methods.vicreg import vicreg_terms

torch.manual_seed(0)


def _leaves(*tensors: torch.Tensor) -> list[torch.Tensor]:
    return [t.clone().requires_grad_(True) for t in tensors]


def assert_same_loss_and_grads(ours, reference, inputs, rtol=1e-4, atol=1e-6) -> None:
    """`ours(*inputs)` and `reference(*inputs)` agree in value and in every input's gradient."""
    a, b = _leaves(*inputs), _leaves(*inputs)
    la, lb = ours(*a), reference(*b)
    torch.testing.assert_close(la, lb, rtol=rtol, atol=atol)
    la.backward()
    lb.backward()
    for x, y in zip(a, b, strict=True):
        torch.testing.assert_close(x.grad, y.grad, rtol=rtol, atol=atol)


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


def test_byol_regression_is_normalised_mse():
    p, z = torch.randn(10, 6), torch.randn(10, 6)

    def reference(p, z):  # the target is a stop-gradient (the EMA teacher's projection)
        p = p / p.norm(dim=1, keepdim=True)
        z = z.detach() / z.detach().norm(dim=1, keepdim=True)
        return (2 - 2 * (p * z).sum(1)).mean()

    assert_same_loss_and_grads(regression_loss, reference, (p, z))


def test_dino_loss_skips_same_view_pairs():
    s = [torch.randn(4, 10) for _ in range(4)]  # 2 global + 2 local student views
    t = [torch.randn(4, 10) for _ in range(2)]
    center = torch.randn(1, 10)

    def reference(*student):
        total, n = 0.0, 0
        for iq in range(2):
            logits = (t[iq] - center) / 0.04
            q = torch.exp(logits - logits.max(1, keepdim=True).values)  # softmax, no overflow
            q = q / q.sum(1, keepdim=True)
            for v in range(4):
                if v != iq:
                    logp = student[v] / 0.1 - torch.logsumexp(student[v] / 0.1, 1, keepdim=True)
                    total = total + (-(q * logp).sum(1)).mean()
                    n += 1
        assert n == 6
        return total / n

    assert_same_loss_and_grads(lambda *st: dino_loss(list(st), t, center, 0.1, 0.04), reference, s)


def test_dino_teacher_temperature_follows_the_official_schedule():
    """np.linspace(warmup, final, W) over epochs 0..W-1, then the final value."""
    from sslctl.methods.dino import DINOSpec, teacher_temperature

    spec = DINOSpec(
        name="dino", warmup_teacher_temp=0.04, teacher_temp=0.07, warmup_teacher_temp_epochs=30
    )
    schedule = torch.linspace(0.04, 0.07, 30).tolist()
    assert teacher_temperature(spec, 0) == 0.04
    assert abs(teacher_temperature(spec, 29) - 0.07) < 1e-12  # reached at W-1, not W
    assert teacher_temperature(spec, 30) == 0.07 and teacher_temperature(spec, 99) == 0.07
    for epoch in range(30):
        assert abs(teacher_temperature(spec, epoch) - schedule[epoch]) < 1e-7
    one = spec.model_copy(update={"warmup_teacher_temp_epochs": 1})
    assert teacher_temperature(one, 0) == 0.04 and teacher_temperature(one, 1) == 0.07
    none = spec.model_copy(update={"warmup_teacher_temp_epochs": 0})
    assert teacher_temperature(none, 0) == 0.07


def test_dino_teacher_runs_without_dropout_and_the_head_may_batch_normalise():
    """The official teacher has no drop_path: two copies of one view get one target, while
    the student keeps its dropout. use_bn_in_head adds BatchNorm and leaves the keys of the
    plain head as they were (older checkpoints still load)."""
    from torch import nn

    from sslctl.encoders.base import Encoder
    from sslctl.methods.dino import DINO, DINOSpec

    backbone = nn.Sequential(nn.Linear(6, 16), nn.ReLU(), nn.Dropout(0.5))
    spec = DINOSpec(name="dino", out_dim=32, hidden_dim=16, bottleneck_dim=8, local_crops=0)
    dino = DINO(Encoder(nn.Identity(), backbone, 16), spec).train()
    x = torch.randn(5, 6)
    with torch.no_grad():
        assert torch.equal(dino.teacher_encoder(x), dino.teacher_encoder(x))
        assert not torch.equal(dino.encoder(x), dino.encoder(x))
    assert dino.training and dino.teacher_encoder.training  # BatchNorm keeps batch statistics
    plain = [k for k in dino.head.state_dict() if k.startswith("mlp")]
    assert plain == [f"mlp.{i}.{w}" for i in (0, 2, 4) for w in ("weight", "bias")]
    bn = DINO(
        Encoder(nn.Identity(), backbone, 16), spec.model_copy(update={"use_bn_in_head": True})
    )
    assert sum(isinstance(m, nn.BatchNorm1d) for m in bn.head.mlp) == 2


def test_dino_clips_each_gradient_then_drops_the_frozen_prototypes_gradient():
    """The official clip_gradients (each parameter's gradient to norm <= clip, small ones left
    as they are) then cancel_gradients_last_layer while epoch < freeze_last_layer."""
    from torch import nn

    from sslctl.encoders.base import Encoder
    from sslctl.methods.dino import DINO, DINOSpec

    spec = DINOSpec(
        name="dino", out_dim=32, hidden_dim=16, bottleneck_dim=8, clip_grad=3.0,
        freeze_last_layer=1,
    )  # fmt: skip
    dino = DINO(Encoder(nn.Identity(), nn.Linear(6, 16), 16), spec)
    params = [p for p in dino.parameters() if p.requires_grad]
    grads = [torch.randn_like(p) * (10.0 if i % 2 else 0.01) for i, p in enumerate(params)]
    for progress, frozen in ((0.0, True), (0.99, True), (1.0, False)):
        for p, g in zip(params, grads, strict=True):
            p.grad = g.clone()
        dino.progress = progress
        dino.prepare_gradients()
        assert (dino.head.prototypes.grad is None) == frozen
        for p, g in zip(params, grads, strict=True):
            if p is dino.head.prototypes and frozen:
                continue
            scale = min(1.0, 3.0 / (float(g.norm()) + 1e-6))
            torch.testing.assert_close(p.grad, g * scale)
    assert any(float(g.norm()) > 3.0 for g in grads) and any(float(g.norm()) < 3 for g in grads)


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
