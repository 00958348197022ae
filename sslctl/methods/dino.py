"""DINO (Caron et al. 2021): a student matches an EMA teacher's centred, sharpened softmax over
K prototypes, across multi-crop views; the teacher sees only the global crops."""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from sslctl.collectives import all_reduce_sum, world_size
from sslctl.methods.base import Method, copy_frozen
from sslctl.modalities.base import Views
from sslctl.specs.methods.dino import DINOSpec
from sslctl.views import ViewPlan


class DINOHead(nn.Module):
    """3-layer GELU MLP to a bottleneck, L2-normalised, then a weight-normalised prototype layer
    with its norm fixed to 1 (the paper's norm_last_layer=True)."""

    def __init__(self, in_dim: int, spec: DINOSpec) -> None:
        super().__init__()
        h, b = spec.hidden_dim, spec.bottleneck_dim
        layers: list[nn.Module] = []
        for width_in in (in_dim, h):  # no placeholder modules: checkpoint keys stay as before
            layers.append(nn.Linear(width_in, h))
            layers += [nn.BatchNorm1d(h)] if spec.use_bn_in_head else []
            layers.append(nn.GELU())
        self.mlp = nn.Sequential(*layers, nn.Linear(h, b))
        self.prototypes = nn.Parameter(torch.empty(spec.out_dim, b))
        nn.init.trunc_normal_(self.prototypes, std=0.02)
        for m in self.mlp:
            if isinstance(m, nn.Linear):
                nn.init.trunc_normal_(m.weight, std=0.02)
                nn.init.zeros_(m.bias)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = F.normalize(self.mlp(x), dim=-1)
        return x @ F.normalize(self.prototypes, dim=-1).T


def dino_loss(
    student: list[torch.Tensor],
    teacher: list[torch.Tensor],
    center: torch.Tensor,
    s_temp: float,
    t_temp: float,
) -> torch.Tensor:
    """Cross-entropy of every student view against every teacher view except itself."""
    targets = [F.softmax((t - center) / t_temp, dim=-1) for t in teacher]
    total, terms = 0.0, 0
    for iq, q in enumerate(targets):
        for v, s in enumerate(student):
            if v == iq:
                continue
            total = total + torch.sum(-q * F.log_softmax(s / s_temp, dim=-1), dim=-1).mean()
            terms += 1
    return total / terms


def teacher_temperature(spec: DINOSpec, epoch: int) -> float:
    """The official schedule, per epoch: np.linspace(warmup, final, W) over epochs 0..W-1
    (the final value is reached at epoch W-1), then the final value."""
    warm, final, w = spec.warmup_teacher_temp, spec.teacher_temp, spec.warmup_teacher_temp_epochs
    if epoch >= w:
        return final
    return warm if w == 1 else warm + (final - warm) * epoch / (w - 1)


class DINO(Method):
    Spec = DINOSpec
    # The official teacher is a network of its own in train mode: its BatchNorm statistics
    # come from its forwards on the global views, and only parameters follow the student.
    teacher_copies_buffers = False

    def __init__(self, encoder, spec: DINOSpec) -> None:
        super().__init__(encoder)
        self.spec = spec
        self.teacher_momentum = spec.momentum
        self.view_plan = ViewPlan(
            n_global=2,
            n_local=spec.local_crops,
            local_size_ratio=spec.local_size_ratio,
            kind="multi-crop",
        )
        self.head = DINOHead(encoder.embed_dim, spec)
        self.teacher_encoder = copy_frozen(encoder)
        self.teacher_head = copy_frozen(self.head)
        self.register_buffer("center", torch.zeros(1, spec.out_dim))

    def ema_pairs(self):
        return [(self.encoder, self.teacher_encoder), (self.head, self.teacher_head)]

    def train(self, mode: bool = True) -> DINO:
        """The teacher runs without dropout or stochastic depth, as the official teacher is
        built without drop_path: with the audio CNN's dropout active, the teacher's targets
        for two copies of one clip disagreed and DINO stayed at a uniform output. Its
        BatchNorm keeps batch statistics, as the official ResNet teacher's does."""
        super().train(mode)
        for m in self.teacher_encoder.modules():
            if isinstance(m, nn.modules.dropout._DropoutNd) or hasattr(m, "drop_prob"):
                m.eval()
        return self

    def encoder_to_save(self):
        """The teacher, as the official evaluation takes it (`--checkpoint_key teacher`): the
        paper reports the EMA teacher ahead of the student throughout training."""
        return self.teacher_encoder

    def prepare_gradients(self) -> None:
        """The official order: clip each parameter's gradient, then drop the prototypes'
        gradient while they are frozen (AdamW skips a parameter without one)."""
        if self.spec.clip_grad is not None:
            grads = [p.grad for p in self.parameters() if p.grad is not None]
            norms = torch._foreach_norm(grads)
            scales = [(self.spec.clip_grad / (n + 1e-6)).clamp(max=1.0) for n in norms]
            torch._foreach_mul_(grads, scales)
        if self.progress < self.spec.freeze_last_layer:
            self.head.prototypes.grad = None

    def teacher_temperature(self) -> float:
        return teacher_temperature(self.spec, int(self.progress))

    def _student(self, views: Views) -> list[torch.Tensor]:
        """One forward for the global views and one for the local ones, batched by the
        modality (its input type, its rule for joining views of one size)."""
        out: list[torch.Tensor] = []
        for joined, count in views.groups():
            out += list(self.head(self.encoder(joined)).float().chunk(count))
        return out

    def forward(self, views: Views):
        student = self._student(views)
        with torch.no_grad():
            teacher = self.teacher_head(self.teacher_encoder(views.concat(views[:2]))).float()
        loss = dino_loss(
            student,
            list(teacher.chunk(2)),
            self.center,
            self.spec.student_temp,
            self.teacher_temperature(),
        )
        self._update_center(teacher)
        return loss, {"teacher_temp": torch.tensor(self.teacher_temperature())}

    @torch.no_grad()
    def _update_center(self, teacher: torch.Tensor) -> None:
        batch_center = all_reduce_sum(teacher.sum(0, keepdim=True)) / (len(teacher) * world_size())
        m = self.spec.center_momentum
        self.center.mul_(m).add_(batch_center, alpha=1 - m)
