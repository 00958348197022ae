"""Distillation losses against formulas written here (LightlyTrain v3's queue and token KL,
v2's token MSE, with the bilinear resize), the v3 queue, and the method on several students:
each trains exactly as in a run of its own, and a resumed run restores every one."""

from __future__ import annotations

import math

import pytest
import torch
import torch.nn.functional as F

from sslctl.encoders.base import Encoder, Features
from sslctl.methods.distill import (
    Distill,
    DistillSpec,
    queue_kl,
    queue_size_for,
    to_grid,
    token_kl,
)
from sslctl.teachers.base import Teacher
from tests.methods.reference import assert_same_loss_and_grads

torch.manual_seed(0)


def _unit(x: torch.Tensor) -> torch.Tensor:
    return x / x.norm(dim=-1, keepdim=True)


def test_queue_kl_is_the_batch_mean_kl_over_the_queue():
    s, t, queue = torch.randn(6, 8), torch.randn(6, 8), _unit(torch.randn(20, 8))

    def reference(s, t):  # sum_j p_t log(p_t / p_s), averaged over the batch, T = 0.07
        s, t = _unit(s), _unit(t.detach())
        total = 0.0
        for i in range(len(s)):
            p_t = torch.softmax(torch.stack([t[i] @ q / 0.07 for q in queue]), 0)
            log_p_s = torch.log_softmax(torch.stack([s[i] @ q / 0.07 for q in queue]), 0)
            total = total + (p_t * (p_t.log() - log_p_s)).sum()
        return total / len(s)

    def ours(s, t):
        return queue_kl(_unit(s), _unit(t.detach()), queue, 0.07)

    assert_same_loss_and_grads(ours, reference, (s, t))


def test_token_kl_compares_each_images_token_similarities():
    s, t = torch.randn(3, 5, 4), torch.randn(3, 5, 4)

    def reference(s, t):  # every (image, token) row: KL of its similarities to the image's tokens
        s, t = _unit(s), _unit(t.detach())
        total, rows = 0.0, 0
        for b in range(s.shape[0]):
            for m in range(s.shape[1]):
                p_t = torch.softmax(t[b] @ t[b, m] / 0.07, 0)
                log_p_s = torch.log_softmax(s[b] @ s[b, m] / 0.07, 0)
                total = total + (p_t * (p_t.log() - log_p_s)).sum()
                rows += 1
        return total / rows

    def ours(s, t):
        return token_kl(_unit(s), _unit(t.detach()), 0.07)

    assert_same_loss_and_grads(ours, reference, (s, t))


def _bilinear(fmap: torch.Tensor, out_h: int, out_w: int) -> torch.Tensor:
    """Half-pixel-centre bilinear resize of (C, h, w), written out (align_corners=False)."""
    c, h, w = fmap.shape
    rows = []
    for i in range(out_h):
        y = max((i + 0.5) * h / out_h - 0.5, 0.0)
        y0 = min(math.floor(y), h - 1)
        y1, wy = min(y0 + 1, h - 1), y - y0
        cols = []
        for j in range(out_w):
            x = max((j + 0.5) * w / out_w - 0.5, 0.0)
            x0 = min(math.floor(x), w - 1)
            x1, wx = min(x0 + 1, w - 1), x - x0
            top = fmap[:, y0, x0] * (1 - wx) + fmap[:, y0, x1] * wx
            bottom = fmap[:, y1, x0] * (1 - wx) + fmap[:, y1, x1] * wx
            cols.append(top * (1 - wy) + bottom * wy)
        rows.append(torch.stack(cols, -1))
    return torch.stack(rows, -2)


def test_token_mse_resizes_the_student_map_bilinearly_to_the_teachers_grid():
    s, t = torch.randn(2, 2 * 3, 4), torch.randn(2, 5 * 4, 4)  # student 2x3, teacher 5x4 grid

    def reference(s, t):
        maps = [_bilinear(s[b].T.reshape(4, 2, 3), 5, 4).reshape(4, 20).T for b in range(2)]
        return ((torch.stack(maps) - t.detach()) ** 2).mean()

    def ours(s, t):
        return F.mse_loss(to_grid(s, (2, 3), (5, 4)), t.detach())

    assert_same_loss_and_grads(ours, reference, (s, t))


def test_queue_size_follows_v3_buckets():
    assert [queue_size_for(n) for n in (10, 50, 51, 999, 1000, 60000)] == [
        16, 16, 32, 256, 256, 8192,
    ]  # fmt: skip


class _Tokens(Encoder):
    """A tiny conv encoder with a 4x4 token map, as a timm CNN gives one."""

    gives_tokens, token_dim = True, 6

    def __init__(self) -> None:
        conv = torch.nn.Sequential(
            torch.nn.Conv2d(1, 6, 3, stride=2, padding=1), torch.nn.BatchNorm2d(6)
        )
        super().__init__(torch.nn.Identity(), conv, 6)

    def features(self, x):
        fmap = self.backbone(x)
        return Features(fmap.mean((2, 3)), fmap.flatten(2).transpose(1, 2), (4, 4))

    def forward(self, x):
        return self.features(x).pooled


class _FixedTeacher(Teacher):
    def __init__(self) -> None:
        self.net = torch.nn.Conv2d(1, 5, 4, stride=4)  # a 2x2 grid of 5-d tokens
        self.embed_dim, self.token_dim = 5, 5

    def _move(self, device):
        self.net.to(device)

    def _features(self, x):
        fmap = self.net(x)
        return Features(fmap.mean((2, 3)), fmap.flatten(2).transpose(1, 2), (2, 2))


def _method(names, seed=0):
    spec = DistillSpec(name="distill", losses={"queue_kl": 1.0, "token_kl": 1.0, "token_mse": 0.5})
    students = {}
    for n in names:
        torch.manual_seed(seed)
        students[n] = _Tokens()
    torch.manual_seed(seed + 1)
    return Distill(students, _FixedTeacher(), spec, dataset_size=40)


def test_the_queue_holds_the_newest_teacher_embeddings_first():
    method = _method(["a"])  # 40 samples: a queue of 16
    batches = [torch.randn(6, 1, 8, 8) for _ in range(4)]
    for x in batches:
        method([x])
    pushed = torch.cat([F.normalize(method.teacher(x).pooled, dim=-1) for x in reversed(batches)])
    torch.testing.assert_close(method.queue, pushed[:16])


def test_students_trained_together_equal_students_trained_alone():
    """One teacher pass for two students gives each the updates it gets in a run of its own
    (gradients never mix: each has its own loss terms, heads and clipping group)."""
    x = [torch.randn(8, 1, 8, 8) for _ in range(3)]

    def train(method):
        opt = torch.optim.AdamW(method.parameters(), lr=1e-2)
        for batch in x:
            loss, terms = method([batch])
            loss.backward()
            for group in method.clip_groups():
                torch.nn.utils.clip_grad_norm_(group, 0.1)
            opt.step()
            opt.zero_grad()
        return method, terms

    pair, terms = train(_method(["a", "b"]))
    alone, _ = train(_method(["a"]))
    assert set(terms) >= {"a/queue_kl", "a/token_kl", "b/token_mse", "b/loss"}
    for name, encoder in pair.students().items():
        for (k, v), w in zip(
            encoder.state_dict().items(), alone.encoder.state_dict().values(), strict=True
        ):
            torch.testing.assert_close(v, w, msg=f"student {name}: {k}")


def test_token_losses_need_a_token_map_on_both_sides():
    from sslctl.errors import UserError

    plain = Encoder(torch.nn.Identity(), torch.nn.Flatten(), 64)
    spec = DistillSpec(name="distill", losses={"token_kl": 1.0})
    with pytest.raises(UserError, match="method.losses.token_kl: student s gives no token map"):
        Distill({"s": plain}, _FixedTeacher(), spec, 40)
