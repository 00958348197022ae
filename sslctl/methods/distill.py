"""Label-free distillation of a frozen teacher into one or several students, each on the
same view batch (the teacher runs once per batch for all of them, as DINOv3 distils its
family of students). The loss is a weighted sum of terms from the literature (`losses`):

- `cosine`: 1 - cos(MLP(student pooled), teacher pooled), SEED/CompRess-style embedding
  distillation (sslctl's original distill loss).
- `queue_kl`: LightlyTrain's distillation v3 global loss (lightly_train/_methods/
  distillationv3/distillationv3_loss.py, `DistillationV3Loss.forward`, and distillationv3.py,
  `DistillationV3._update_queue`): a FIFO queue of L2-normalised teacher embeddings (this
  batch's pushed first) serves as pseudo-classifier weights; KL(softmax(t . Q / T) ||
  softmax(s . Q / T)) with `batchmean` reduction, T = 0.07, the student mapped to the
  teacher's width by a Linear head (trunc-normal std 0.02) and L2-normalised. The queue size
  follows v3's `resolve_auto` buckets on the dataset size (16 up to 8192).
- `token_kl`: v3's local loss: the student's token map is projected by a Linear head,
  resized bilinearly (align_corners=False) to the teacher's grid and L2-normalised, as are the
  teacher's tokens; KL between each image's token-to-token similarity softmaxes at T = 0.07,
  `batchmean` over all (image, token) rows.
- `token_mse`: distillation v2's loss (distillationv2_loss.py, `DistillationV2Loss`): mean
  squared error between the projected, resized student tokens and the teacher's tokens, both
  unnormalised.

v3's default is `{queue_kl: 1.0, token_kl: 1.0}` with `mixup: true` (v3 mixes each batch with
a shuffled copy of itself, lambda ~ U(0, 1), `DistillationV3._mixup_data`).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import torch
import torch.nn.functional as F
from torch import nn

from sslctl.encoders.base import Encoder, Features
from sslctl.errors import UserError
from sslctl.methods.base import Method, mlp
from sslctl.specs.methods.distill import DistillSpec

if TYPE_CHECKING:
    from sslctl.teachers.base import Teacher

TOKEN_LOSSES = ("token_kl", "token_mse")
# v3's resolve_auto: (dataset size up to, queue size)
QUEUE_BUCKETS = (
    (50, 16),
    (100, 32),
    (250, 64),
    (500, 128),
    (1_000, 256),
    (2_000, 512),
    (4_000, 1024),
    (10_000, 2048),
    (20_000, 4096),
)
QUEUE_MAX = 8192


def queue_size_for(dataset_size: int) -> int:
    return next((q for n, q in QUEUE_BUCKETS if dataset_size <= n), QUEUE_MAX)


def _device_of(module: nn.Module) -> torch.device:
    return next(module.parameters()).device


def _linear(d_in: int, d_out: int) -> nn.Linear:
    head = nn.Linear(d_in, d_out)
    nn.init.trunc_normal_(head.weight, std=0.02)
    return head


def queue_kl(student: torch.Tensor, teacher: torch.Tensor, queue: torch.Tensor, t: float):
    """v3's global loss on L2-normalised (B, D) embeddings and a (Q, D) queue."""
    target = F.softmax(teacher @ queue.T / t, dim=-1)
    return F.kl_div(F.log_softmax(student @ queue.T / t, dim=-1), target, reduction="batchmean")


def token_kl(student: torch.Tensor, teacher: torch.Tensor, t: float) -> torch.Tensor:
    """v3's local loss on L2-normalised (B, N, D) tokens of the same grid."""
    target = F.softmax((teacher @ teacher.transpose(1, 2) / t).flatten(0, 1), dim=-1)
    logits = (student @ student.transpose(1, 2) / t).flatten(0, 1)
    return F.kl_div(F.log_softmax(logits, dim=-1), target, reduction="batchmean")


def to_grid(tokens: torch.Tensor, grid: tuple[int, int], target: tuple[int, int]):
    """(B, h*w, D) tokens on `grid`, resized bilinearly to the `target` grid."""
    b, _, d = tokens.shape
    fmap = tokens.transpose(1, 2).reshape(b, d, *grid)
    fmap = F.interpolate(fmap, size=target, mode="bilinear", align_corners=False)
    return fmap.flatten(2).transpose(1, 2)


def _check_token_maps(students: dict[str, Encoder], teacher: Teacher, loss: str) -> None:
    """Token losses need a token map on both sides; refused before the run writes anything."""
    if teacher.token_dim is None:
        raise UserError(
            f"method.losses.{loss}: the teacher gives no token map (only timm "
            "backbones do: a run or timm teacher on a timm encoder)"
        )
    for name, encoder in students.items():
        if not encoder.gives_tokens:
            raise UserError(
                f"method.losses.{loss}: student {name} gives no token map (only timm backbones do)"
            )


class StudentHeads(nn.Module):
    """One student's heads, mapping it to the teacher's widths for the chosen losses."""

    def __init__(self, encoder: Encoder, teacher: Teacher, spec: DistillSpec) -> None:
        super().__init__()
        on = {k for k, w in spec.losses.items() if w > 0}
        d_t = teacher.embed_dim
        if "cosine" in on:
            self.cosine = mlp([encoder.embed_dim, spec.proj_hidden, d_t])
        if "queue_kl" in on:
            self.global_head = _linear(encoder.embed_dim, d_t)
        if on & set(TOKEN_LOSSES):
            self.token_head = _linear(encoder.token_dim, teacher.token_dim)


class Distill(Method):
    Spec = DistillSpec

    @classmethod
    def build(cls, spec: DistillSpec, encoder: Encoder) -> Distill:
        raise UserError("method.name: distill trains with `sslctl distill RECIPE`")

    def __init__(
        self,
        students: dict[str, Encoder],
        teacher: Teacher,
        spec: DistillSpec,
        dataset_size: int,
    ) -> None:
        """`students`: name -> encoder, the first kept as `encoder` (what a single-student
        run saves); every student's heads are in `heads`, by name."""
        names = list(students)
        super().__init__(students[names[0]])
        self.others = nn.ModuleDict({n: students[n] for n in names[1:]})
        self.teacher = teacher  # not a submodule: never in the checkpoint or the optimizer
        self.teacher_device: torch.device | None = None  # moved there on first use
        self.spec = spec
        self.weights = {k: w for k, w in spec.losses.items() if w > 0}
        self.tokens = bool(set(self.weights) & set(TOKEN_LOSSES))
        if self.tokens:
            _check_token_maps(students, teacher, next(k for k in TOKEN_LOSSES if k in self.weights))
        start = torch.get_rng_state()  # every student's heads from the same stream, as alone
        heads = {}
        for n, e in students.items():
            torch.set_rng_state(start)
            heads[n] = StudentHeads(e, teacher, spec)
        self.heads = nn.ModuleDict(heads)
        if "queue_kl" in self.weights:
            size = spec.queue_size or queue_size_for(dataset_size)
            self.register_buffer("queue", torch.zeros(size, teacher.embed_dim))

    def students(self) -> dict[str, Encoder]:
        return {next(iter(self.heads)): self.encoder, **self.others}

    def watched_encoders(self) -> dict[str, Encoder]:
        """Several students are judged each, under their name (as their loss terms are)."""
        if not self.others:
            return super().watched_encoders()
        return {f"{name}/": encoder for name, encoder in self.students().items()}

    def clip_groups(self) -> list[list[nn.Parameter]]:
        """Each student with its heads, so clipping one never scales another's update."""
        return [[*e.parameters(), *self.heads[n].parameters()] for n, e in self.students().items()]

    @torch.no_grad()
    def _push(self, embeddings: torch.Tensor) -> None:
        """v3's FIFO: this batch's embeddings first, the oldest dropped."""
        q, b = self.queue.shape[0], embeddings.shape[0]
        if b >= q:
            self.queue.copy_(embeddings[:q])
        else:
            self.queue.copy_(torch.cat([embeddings, self.queue[: q - b]]))

    def forward(self, views):
        x = views[0]
        if self.spec.mixup:
            lam = torch.rand((), device=x.device)
            x = lam * x + (1 - lam) * x[torch.randperm(x.shape[0], device=x.device)]
        device = _device_of(self.encoder)
        if self.teacher_device != device:
            self.teacher_device = device
            self.teacher.to(device)
        target = self.teacher(x)
        if "queue_kl" in self.weights:
            target_global = F.normalize(target.pooled, dim=-1)
            self._push(target_global)
        total, terms = 0.0, {}
        many = len(self.heads) > 1
        for name, encoder in self.students().items():
            own = encoder.features(x) if self.tokens else Features(encoder(x))
            loss, parts = self._student_loss(own, target, self.heads[name])
            total = total + loss
            prefix = f"{name}/" if many else ""
            terms.update({prefix + k: v.detach() for k, v in parts.items()})
            if many:
                terms[f"{name}/loss"] = loss.detach()
        return total, terms

    def _student_loss(self, own: Features, target: Features, heads: StudentHeads):
        parts: dict[str, torch.Tensor] = {}
        w = self.weights
        if "cosine" in w:
            pred = heads.cosine(own.pooled).float()
            parts["cosine"] = (1 - F.cosine_similarity(pred, target.pooled, dim=-1)).mean()
        if "queue_kl" in w:
            pred = F.normalize(heads.global_head(own.pooled).float(), dim=-1)
            parts["queue_kl"] = queue_kl(
                pred, F.normalize(target.pooled, dim=-1), self.queue, self.spec.temperature
            )
        if self.tokens:
            mapped = to_grid(heads.token_head(own.tokens).float(), own.grid, target.grid)
            if "token_kl" in w:
                parts["token_kl"] = token_kl(
                    F.normalize(mapped, dim=-1),
                    F.normalize(target.tokens, dim=-1),
                    self.spec.token_temperature,
                )
            if "token_mse" in w:
                parts["token_mse"] = F.mse_loss(mapped, target.tokens)
        loss = sum(w[k] * v for k, v in parts.items())
        return loss, parts
