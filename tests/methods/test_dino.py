"""DINO: the loss, the teacher temperature schedule, the teacher's train mode and the gradient
rules."""

from __future__ import annotations

import torch

from sslctl.methods.dino import dino_loss
from tests.methods.reference import assert_same_loss_and_grads

torch.manual_seed(0)


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
