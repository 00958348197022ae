"""Label-free distillation: a student's projected embedding matches a frozen teacher's embedding
by cosine, on the same augmented view (as in SEED/CompRess-style embedding distillation)."""

from __future__ import annotations

from typing import Literal

import torch
import torch.nn.functional as F
from pydantic import Field

from sslctl.encoders.base import Encoder
from sslctl.errors import UserError
from sslctl.methods import METHODS
from sslctl.methods.base import Method, copy_frozen, mlp
from sslctl.modalities.base import ViewPlan
from sslctl.specs import Strict


class DistillSpec(Strict):
    name: Literal["distill"] = Field(
        description="Label-free distillation: cosine of student projection to teacher embedding."
    )
    proj_hidden: int = Field(1024, gt=0, le=65536, description="Student projector hidden width.")


@METHODS.register("distill")
class Distill(Method):
    Spec = DistillSpec
    needs_teacher = True
    view_plan = ViewPlan(n_global=1, kind="contrastive")

    @classmethod
    def build(cls, spec: DistillSpec, encoder: Encoder, teacher: Encoder | None) -> Distill:
        if teacher is None:
            raise UserError("teacher.run: method 'distill' needs a teacher run directory")
        return cls(encoder, spec, teacher)

    def __init__(self, encoder: Encoder, spec: DistillSpec, teacher: Encoder) -> None:
        super().__init__(encoder)
        self.teacher = copy_frozen(teacher).eval()
        self.projector = mlp([encoder.embed_dim, spec.proj_hidden, teacher.embed_dim])

    def train(self, mode: bool = True):
        super().train(mode)
        self.teacher.eval()  # the teacher's BatchNorm statistics stay frozen
        return self

    def forward(self, views):
        with torch.no_grad():
            target = self.teacher(views[0]).float()
        pred = self.projector(self.encoder(views[0])).float()
        loss = (1 - F.cosine_similarity(pred, target, dim=-1)).mean()
        return loss, {}
