"""What a training run will do, said once before its first step: samples, steps per epoch
and in all, the samples `drop_last` leaves out each epoch, the warm-up against the run, where
the schedules end, the device and the effective batch. A warm-up longer than the run, or more
than a fifth of the samples dropped every epoch, is a warning naming the field to change:
both once trained silently (a 10-step I-JEPA run spent its life in a 468-step warm-up)."""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from dataclasses import asdict, dataclass

from sslctl.engine.optim import lr_at, wd_at
from sslctl.specs import OptimSpec, TrainSpec

MAX_DROPPED = 0.2  # the share of samples dropped per epoch above which a run warns


@dataclass(frozen=True)
class RunPlan:
    samples: int
    steps_per_epoch: int
    total_steps: int
    start_step: int  # where a resumed run goes on from
    dropped_per_epoch: int
    warmup_steps: int
    effective_batch: int  # samples per optimizer update, all processes together
    batch: str  # how the effective batch is made
    lr: tuple[float, float]  # at the first step, at the last
    weight_decay: tuple[float, float]
    momentum: tuple[float, float] | None  # the EMA teacher's, where the method has one
    device: str


def plan_run(
    samples: int,
    train: TrainSpec,
    optim: OptimSpec,
    world: int,
    start_step: int,
    device: str,
    momentum_at: Callable[[int, int], float] | None = None,
) -> RunPlan:
    """The plan of a run on `samples` training samples; `momentum_at(step, total)` is the
    method's EMA momentum schedule, None for a method without a teacher."""
    per_update = train.batch_size * train.accumulate * world
    per_epoch = samples // per_update
    total = per_epoch * train.epochs if train.steps is None else train.steps
    last = max(total - 1, 0)
    momentum = None
    if momentum_at is not None:
        momentum = (momentum_at(0, total), momentum_at(total, total))
    return RunPlan(
        samples=samples,
        steps_per_epoch=per_epoch,
        total_steps=total,
        start_step=start_step,
        dropped_per_epoch=samples - per_epoch * per_update,
        warmup_steps=int(optim.warmup_epochs * per_epoch),
        effective_batch=per_update,
        batch=f"{train.batch_size} x {train.accumulate} accumulated x {world} process(es)",
        lr=(lr_at(optim, 0, total, per_epoch), lr_at(optim, last, total, per_epoch)),
        weight_decay=(wd_at(optim, 0, total), wd_at(optim, last, total)),
        momentum=momentum,
        device=device,
    )


def plan_warnings(plan: RunPlan) -> list[str]:
    """One line per setting the plan shows to be off, naming the recipe field."""
    found = []
    if plan.total_steps and plan.warmup_steps > plan.total_steps:
        found.append(
            f"optim.warmup_epochs: the warm-up ({plan.warmup_steps} steps) is longer than the "
            f"run ({plan.total_steps} steps), so the learning rate ends at {plan.lr[1]:.3g}, "
            "never reaching optim.lr; shorten the warm-up or train longer"
        )
    if plan.samples and plan.dropped_per_epoch > MAX_DROPPED * plan.samples:
        share = 100 * plan.dropped_per_epoch / plan.samples
        found.append(
            f"train.batch_size: {plan.dropped_per_epoch} of {plan.samples} samples ({share:.0f} "
            f"%) are left out of every epoch (batches of {plan.effective_batch} are never "
            "partial); a smaller batch keeps more of the data"
        )
    return found


def _human(plan: RunPlan) -> str:
    span = f"{plan.total_steps} steps"
    if plan.start_step:
        span += f" (resuming at step {plan.start_step})"
    schedules = f"lr {plan.lr[0]:.3g} -> {plan.lr[1]:.3g}, wd {plan.weight_decay[0]:.3g} -> "
    schedules += f"{plan.weight_decay[1]:.3g}"
    if plan.momentum is not None:
        schedules += f", EMA momentum {plan.momentum[0]:.4g} -> {plan.momentum[1]:.4g}"
    return (
        f"plan: {plan.samples} samples, {plan.steps_per_epoch} steps/epoch, {span} on "
        f"{plan.device}; batch {plan.effective_batch} ({plan.batch}), "
        f"{plan.dropped_per_epoch} samples dropped/epoch; warm-up {plan.warmup_steps} steps; "
        f"{schedules}"
    )


def announce(plan: RunPlan, quiet: bool, terminal: bool) -> None:
    """The plan on stderr (a line for people on a terminal, a `{"plan": ...}` JSON line when
    piped, before the step lines), unless `quiet`; its warnings whatever `quiet` says."""
    if not quiet:
        text = _human(plan) if terminal else json.dumps({"plan": asdict(plan)})
        print(text, file=sys.stderr, flush=True)
    for line in plan_warnings(plan):
        print(f"warning: {line}", file=sys.stderr, flush=True)
