"""What every method is to the engine: `loss, terms = method(views)` plus optional EMA teacher.

Methods see only embeddings (and, for masked ones, tokens) so each serves every modality.
"""

from __future__ import annotations

import math

import torch
from torch import nn

from sslctl.encoders.base import Encoder
from sslctl.specs.methods.base import MethodSpec
from sslctl.views import ViewPlan


def mlp(dims: list[int], last_bn: bool = False, bias_last: bool = True) -> nn.Sequential:
    """Linear-BN-ReLU stack, the projector/predictor shape used by SimCLR, BYOL, Barlow, VICReg."""
    layers: list[nn.Module] = []
    for i in range(len(dims) - 2):
        layers += [nn.Linear(dims[i], dims[i + 1], bias=False), nn.BatchNorm1d(dims[i + 1])]
        layers.append(nn.ReLU(inplace=True))
    layers.append(nn.Linear(dims[-2], dims[-1], bias=bias_last))
    if last_bn:
        layers.append(nn.BatchNorm1d(dims[-1], affine=False))
    return nn.Sequential(*layers)


class Method(nn.Module):
    """Base: subclasses set `Spec` (which gives `view_plan`), implement `forward`, and may
    declare an EMA teacher."""

    view_plan = ViewPlan()  # the Spec's; a method may set its counts from its fields
    teacher_momentum: float | None = None  # base EMA momentum; None: no teacher
    teacher_copies_buffers = True  # False: the EMA teacher keeps BatchNorm statistics of its own
    Spec: type[MethodSpec]  # the method's recipe section, declared in methods/specs/

    def __init_subclass__(cls, **kwargs) -> None:
        super().__init_subclass__(**kwargs)
        if "Spec" in cls.__dict__:
            cls.view_plan = cls.Spec.view_plan

    @classmethod
    def build(cls, spec: MethodSpec, encoder: Encoder) -> Method:
        """The method for `spec` on one encoder (distillation, which also needs a teacher, is
        built by its own job)."""
        return cls(encoder, spec)

    def __init__(self, encoder: Encoder) -> None:
        super().__init__()
        self.encoder = encoder
        self.progress = 0.0  # fractional epoch, set by the engine before each step

    def forward(self, views: list[torch.Tensor]) -> tuple[torch.Tensor, dict[str, torch.Tensor]]:
        raise NotImplementedError

    def prepare_gradients(self) -> None:
        """Called by the engine once per update, after the backward passes (and DDP's gradient
        reduction) and before `train.grad_clip` and the optimizer step: where a method's own
        rules for its gradients go (DINO: per-parameter clipping, frozen prototypes)."""

    def clip_groups(self) -> list[list[nn.Parameter]]:
        """The parameter groups `train.grad_clip` clips by norm each on its own (one model:
        one group; several distilled students: one each, so they train independently)."""
        return [list(self.parameters())]

    def teacher_momentum_at(self, step: int, total: int) -> float:
        """The EMA teacher's momentum after update `step` of `total`: by default BYOL's and
        DINO's cosine from `teacher_momentum` to 1 (BYOL, section 3.2)."""
        base = self.teacher_momentum
        return 1 - (1 - base) * (math.cos(math.pi * min(step / max(1, total), 1.0)) + 1) / 2

    def ema_pairs(self) -> list[tuple[nn.Module, nn.Module]]:
        """(student, teacher) module pairs the engine moves by EMA after each update."""
        return []

    def encoder_to_save(self) -> Encoder:
        """The encoder the run keeps when training ends (TS2Vec: its weight average)."""
        return self.encoder

    def watched_encoders(self) -> dict[str, Encoder]:
        """The encoders `train.eval_every` judges, by the prefix of their metrics keys: the
        one the run keeps (several distilled students: each, as NAME/)."""
        return {"": self.encoder_to_save()}


def copy_frozen(module: nn.Module) -> nn.Module:
    """A gradient-free deep copy, the starting point of an EMA teacher."""
    import copy

    teacher = copy.deepcopy(module)
    for p in teacher.parameters():
        p.requires_grad_(False)
    return teacher
