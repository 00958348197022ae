"""Optimizers and per-step schedules. Schedules are pure functions of the step, so a resumed run
needs only the step count to be back on the same curve."""

from __future__ import annotations

import math

import torch
from torch import nn

from sslctl.specs import OptimSpec


class LARS(torch.optim.Optimizer):
    """SGD with momentum and layer-wise trust ratio (You et al. 2017), as SimCLR/BYOL use it.
    Groups with `lars_exclude` (biases, norms) get plain SGD without weight decay or adaptation."""

    def __init__(
        self,
        params,
        lr: float,
        momentum: float = 0.9,
        weight_decay: float = 0.0,
        eta: float = 0.001,
    ) -> None:
        super().__init__(params, dict(lr=lr, momentum=momentum, weight_decay=weight_decay, eta=eta))

    @torch.no_grad()
    def step(self, closure=None):
        for group in self.param_groups:
            exclude = group.get("lars_exclude", False)
            for p in group["params"]:
                if p.grad is None:
                    continue
                grad = p.grad
                if not exclude:
                    grad = grad.add(p, alpha=group["weight_decay"])
                    p_norm, g_norm = torch.norm(p), torch.norm(grad)
                    trust = torch.where(
                        (p_norm > 0) & (g_norm > 0), group["eta"] * p_norm / g_norm, 1.0
                    )
                    grad = grad.mul(trust)
                buf = self.state[p].get("momentum_buffer")
                if buf is None:
                    buf = self.state[p]["momentum_buffer"] = torch.clone(grad)
                else:
                    buf.mul_(group["momentum"]).add_(grad)
                p.add_(buf, alpha=-group["lr"])


def param_groups(model: nn.Module) -> list[dict]:
    """Weight decay on weights only: biases and normalisation parameters (ndim <= 1) are exempt."""
    decay, no_decay = [], []
    for p in model.parameters():
        if p.requires_grad:
            (no_decay if p.ndim <= 1 else decay).append(p)
    return [
        {"params": decay, "apply_wd": True},
        {"params": no_decay, "apply_wd": False, "weight_decay": 0.0, "lars_exclude": True},
    ]


def build_optimizer(model: nn.Module, spec: OptimSpec) -> torch.optim.Optimizer:
    groups = param_groups(model)
    if spec.name == "adamw":
        return torch.optim.AdamW(
            groups, lr=spec.lr, betas=spec.betas, weight_decay=spec.weight_decay
        )
    if spec.name == "lars":
        return LARS(groups, lr=spec.lr, momentum=spec.momentum, weight_decay=spec.weight_decay)
    return torch.optim.SGD(
        groups, lr=spec.lr, momentum=spec.momentum, weight_decay=spec.weight_decay
    )


def cosine(start: float, end: float, frac: float) -> float:
    return end + (start - end) * 0.5 * (1 + math.cos(math.pi * min(max(frac, 0.0), 1.0)))


def lr_at(spec: OptimSpec, step: int, total: int, steps_per_epoch: int) -> float:
    warmup = int(spec.warmup_epochs * steps_per_epoch)
    if step < warmup:
        return spec.lr * (step + 1) / warmup
    if spec.schedule == "constant":
        return spec.lr
    return cosine(spec.lr, spec.min_lr, (step - warmup) / max(1, total - warmup))


def wd_at(spec: OptimSpec, step: int, total: int) -> float:
    end = spec.weight_decay if spec.weight_decay_end is None else spec.weight_decay_end
    return cosine(spec.weight_decay, end, step / max(1, total))


def set_schedule(opt: torch.optim.Optimizer, lr: float, wd: float) -> None:
    for group in opt.param_groups:
        group["lr"] = lr
        if group.get("apply_wd"):
            group["weight_decay"] = wd


@torch.no_grad()
def ema_update(
    student: nn.Module, teacher: nn.Module, momentum: float, copy_buffers: bool = True
) -> None:
    """Move the teacher's parameters towards the student's; with `copy_buffers` its buffers
    (BatchNorm statistics) become the student's, otherwise it keeps its own."""
    s = [p.detach() for p in student.parameters()]
    t = list(teacher.parameters())
    torch._foreach_mul_(t, momentum)
    torch._foreach_add_(t, s, alpha=1 - momentum)
    if copy_buffers:
        for sb, tb in zip(student.buffers(), teacher.buffers(), strict=True):
            tb.copy_(sb)
