"""The one training loop, for every modality and method: `loss = method(views)`, optimizer and
schedules, precision, accumulation, EMA teachers, checkpoints, resume, signals and DDP.

Data order is a pure function of (seed, epoch), and the RNG state is checkpointed, so a resumed
run continues on exactly the batches and augmentations the uninterrupted run would have used.
Non-finite losses are tracked on the device and checked only at log/checkpoint boundaries,
so the loop makes no host-device sync between them.
"""

from __future__ import annotations

import random
import signal
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import nullcontext
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np
import torch

from sslctl.engine import distributed as ddp
from sslctl.engine.checkpoint import load_checkpoint, save_checkpoint
from sslctl.engine.logging import TrainLog, stderr
from sslctl.engine.optim import (
    build_optimizer,
    ema_update,
    lr_at,
    set_schedule,
    wd_at,
)
from sslctl.engine.run_plan import RunPlan, announce, plan_run
from sslctl.errors import Interrupted, NonFiniteLoss, UserError, first_line
from sslctl.io.atomic import write_text
from sslctl.methods.base import Method
from sslctl.modalities.base import Modality, Samples
from sslctl.sources.order import global_order, shard_order
from sslctl.sources.stream import DecodeLog, resolve_workers
from sslctl.specs import OptimSpec, TrainSpec


def seed_everything(seed: int) -> None:
    random.seed(seed)
    np.random.seed(seed % 2**32)
    torch.manual_seed(seed)


@dataclass(frozen=True)
class TrainSettings:
    """The recipe's parts the loop reads; the engine takes them from the specs layer and never
    sees a whole recipe (so it loads no method or modality it is not handed)."""

    train: TrainSpec
    optim: OptimSpec
    seed: int
    on_decode_error: str = "fail"
    # `train.eval_every`'s evaluation (engine/online_eval.py): the kept encoder -> metrics
    evaluate: Callable[[torch.nn.Module], dict] | None = None
    tensorboard: Path | None = None  # where TensorBoard events go, when they are on


class MetricWindow:
    """The loss and method terms summed on the device between two log lines, so the loop
    reads nothing back to the host until a line is written; the gradient norm of the line's
    own step (measured on that step only, before clipping)."""

    def __init__(self, device: torch.device, step: int) -> None:
        self.loss = torch.zeros((), device=device)
        self.terms: dict[str, torch.Tensor] = {}
        self.grad_norm: torch.Tensor | None = None
        self.time, self.step = time.perf_counter(), step

    def add(self, loss: torch.Tensor, terms: dict[str, torch.Tensor]) -> None:
        self.loss += loss
        for k, v in terms.items():
            self.terms[k] = self.terms.get(k, 0) + v.detach().float()

    def record(self, step: int, plan: RunPlan, schedule: dict[str, float]) -> dict[str, float]:
        """The metrics.jsonl line for the steps since the last one (`schedule`: lr, wd and
        the teacher's momentum at the line's step); starts a new window."""
        n, now = step - self.step, time.perf_counter()
        record = {
            "step": step,
            "epoch": round(step / plan.steps_per_epoch, 4),
            "loss": float(self.loss) / n,
            **schedule,
            "throughput": n * plan.effective_batch / max(now - self.time, 1e-9),
        }
        if self.grad_norm is not None:
            record["grad_norm"] = float(self.grad_norm)
        record.update({k: float(v) / n for k, v in self.terms.items()})
        self.loss.zero_()
        self.terms, self.grad_norm = {}, None
        self.time, self.step = now, step
        return record


class Trainer:
    def __init__(
        self,
        method: Method,
        modality: Modality,
        samples: Samples,
        checkpoint: Path,
        metrics: Path,
        settings: TrainSettings,
        device: torch.device,
        quiet: bool = False,
    ) -> None:
        self.method = method.to(device)
        self.modality = modality
        self.samples = samples
        self.checkpoint, self.metrics = checkpoint, metrics
        self.train, self.optim, self.seed = settings.train, settings.optim, settings.seed
        self.evaluate, self.tensorboard = settings.evaluate, settings.tensorboard
        self.device = device
        self.quiet = quiet
        self.world, self.rank = ddp.world_size(), ddp.rank()
        t = settings.train
        self.workers = resolve_workers(t.num_workers)
        self.decode_log = DecodeLog(settings.on_decode_error)
        # Shards are split between ranks shard by shard (sources/order.py), others batch by batch
        self.shards = samples.shard_members()
        momentum = method.teacher_momentum_at if method.teacher_momentum is not None else None
        self.plan = plan_run(len(samples), t, settings.optim, self.world, 0, str(device), momentum)
        if self.plan.steps_per_epoch == 0 and (t.epochs if t.steps is None else t.steps) > 0:
            raise UserError(
                f"train.batch_size: {t.batch_size} x accumulate {t.accumulate} x {self.world} "
                f"process(es) exceeds the {len(samples)} training samples"
            )
        self.ddp = None  # the DistributedDataParallel wrapper, when there are several ranks
        if self.world > 1:
            self.method = ddp.prepare_batchnorm(self.method, device).to(device)
            self.ddp = ddp.wrap(self.method)
        self.model = self.ddp or self.method
        if t.compile:
            self.model = torch.compile(self.model)
        self.opt = build_optimizer(self.method, settings.optim)
        bf16 = t.precision == "bf16" or (t.precision == "auto" and device.type == "cuda")
        self.autocast = torch.autocast(device.type, dtype=torch.bfloat16) if bf16 else nullcontext()
        self.step = 0
        self._stop_signal: int | None = None

    # ------------------------------------------------------------ state
    def _rng(self) -> dict:
        rng = {"torch": torch.get_rng_state()}
        if self.device.type == "cuda":
            rng["cuda"] = torch.cuda.get_rng_state(self.device)
        return rng

    def state(self) -> dict:
        """Everything a resume needs; the loop draws randomness only from torch's generators,
        each rank from its own, so every rank's state is kept (`rng_per_rank`)."""
        return {
            "step": self.step,
            "method": self.method.state_dict(),
            "optimizer": self.opt.state_dict(),
            "rng": self._rng(),
            "rng_per_rank": ddp.all_ranks(self._rng()),
        }

    def resume(self) -> None:
        path = self.checkpoint
        state = load_checkpoint(path)
        try:
            self.method.load_state_dict(state["method"])
            self.opt.load_state_dict(state["optimizer"])
            self.step = int(state["step"])
            ranks = state.get("rng_per_rank", [state["rng"]])
            if len(ranks) != self.world:
                print(
                    f"warning: {path}: saved by {len(ranks)} process(es), resumed by "
                    f"{self.world}; augmentations continue from new random streams",
                    file=sys.stderr,
                )
            rng = ranks[self.rank] if len(ranks) == self.world else state["rng"]
            torch.set_rng_state(rng["torch"])
            if "cuda" in rng and self.device.type == "cuda":
                torch.cuda.set_rng_state(rng["cuda"], self.device)
        except (KeyError, TypeError, ValueError, RuntimeError) as exc:
            reason = first_line(exc)
            raise UserError(f"{path}: does not fit this recipe's model ({reason})") from None
        if not 0 <= self.step <= self.plan.total_steps:
            field = "train.steps" if self.train.steps is not None else "train.epochs"
            raise UserError(
                f"{field}: {path} is at step {self.step}, past this recipe's last step "
                f"({self.plan.total_steps}); give a run at least that long to resume it"
            )
        self._truncate_metrics()

    def _truncate_metrics(self) -> None:
        """Drop log lines written after the checkpoint (the resumed run writes them again),
        and a line torn by a killed process, with a warning."""
        import json

        path = self.metrics
        if not (path.is_file() and ddp.is_main()):
            return
        kept, torn = [], 0
        for line in path.read_text(errors="replace").splitlines():
            try:
                record = json.loads(line)
                step = int(record["step"])
            except (ValueError, TypeError, KeyError):
                torn += line.strip() != ""
                continue
            if step <= self.step:
                kept.append(line)
        if torn:
            print(f"warning: {path}: dropped {torn} unreadable line(s)", file=sys.stderr)
        write_text(path, "".join(ln + "\n" for ln in kept))

    def save(self) -> None:
        state = self.state()  # every rank: it gathers their RNG states
        if ddp.is_main():
            save_checkpoint(self.checkpoint, state)

    # ------------------------------------------------------------ loop
    def _schedule(self, first_step: int):
        """(epoch, this rank's sample indices) for every micro-batch from `first_step` on: a
        pure function of the seed and the step, whatever decodes the samples."""
        b, acc, seed = self.train.batch_size, self.train.accumulate, self.seed
        epoch_of_order, order = -1, None
        for step in range(first_step, self.plan.total_steps):
            epoch, within = divmod(step, self.plan.steps_per_epoch)
            if epoch != epoch_of_order:
                if self.shards is None:
                    order = global_order(len(self.samples), seed, epoch)
                else:
                    order = shard_order(self.shards, seed, epoch, self.rank, self.world)
                epoch_of_order = epoch
            for micro in range(acc):
                if self.shards is None:  # this rank's slice of the global batch
                    start = (within * acc + micro) * b * self.world + self.rank * b
                else:  # this rank's own part of the epoch
                    start = (within * acc + micro) * b
                yield epoch, order[start : start + b]

    def _handle_signal(self, signum, frame) -> None:
        self._stop_signal = signum

    def _check_finite(self, bad_step: torch.Tensor) -> None:
        bad = int(bad_step.item())
        if bad >= 0:
            raise NonFiniteLoss(
                f"loss became NaN/inf at step {bad}; stopped without saving "
                f"(last good checkpoint: {self.checkpoint})"
            )

    def fit(self) -> None:
        plan = self.plan
        handlers = {
            s: signal.signal(s, self._handle_signal) for s in (signal.SIGINT, signal.SIGTERM)
        }
        metrics = self.metrics if ddp.is_main() else None
        main = ddp.is_main()
        tb = self.tensorboard if main else None
        if main:
            announce(replace(plan, start_step=self.step), self.quiet, stderr.is_terminal)
        log = TrainLog(metrics, plan.total_steps, self.step, self.quiet or not main, tb)
        try:
            self._loop(log)
        finally:
            log.close()
            self.decode_log.report()
            for s, h in handlers.items():
                signal.signal(s, h)

    def _loop(self, log: TrainLog) -> None:
        t, plan, method = self.train, self.plan, self.method
        bad_step = torch.tensor(-1, device=self.device)
        window = MetricWindow(self.device, self.step)
        self.model.train()
        inputs = self.samples.train_inputs(
            self.modality,
            self._schedule(self.step),
            method.view_plan,
            self.device,
            self.workers,
            self.seed,
            self.decode_log,
        )
        while self.step < plan.total_steps:
            step = self.step
            method.progress = step / plan.steps_per_epoch
            schedule = self._schedule_at(step)
            set_schedule(self.opt, schedule["lr"], schedule["wd"])
            done = step + 1 == plan.total_steps
            evaluating = self._evaluates(step + 1, done)
            boundary = (step + 1) % t.log_every == 0 or done or evaluating
            momentum = schedule.get("momentum")
            loss, terms, window.grad_norm = self._update(inputs, momentum, measure=boundary)
            bad_step = torch.where(~torch.isfinite(loss) & (bad_step < 0), step, bad_step)
            window.add(loss, terms)
            self.step += 1
            if boundary:  # the only host reads of the loop: loss, metrics, stop flag
                self._check_finite(bad_step)
                record = window.record(self.step, plan, schedule)
                if evaluating:  # after the line's throughput is taken, which it leaves out
                    for prefix, encoder in method.watched_encoders().items():
                        measured = self.evaluate(encoder)
                        record.update({prefix + k: v for k, v in measured.items()})
                    self.model.train()
                    window.time = time.perf_counter()
                log.log(record)
            if self.step % t.checkpoint_every == 0 or done:
                self._check_finite(bad_step)
                self.save()
            # a signal stops every rank at the same step, within log_every steps
            if boundary and not done and ddp.any_rank(self._stop_signal is not None, self.device):
                self.save()
                raise Interrupted(f"stopped at step {self.step}; resume with --resume")

    def _schedule_at(self, step: int) -> dict[str, float]:
        """lr, weight decay and (for methods with an EMA teacher) its momentum at `step`."""
        plan, method = self.plan, self.method
        schedule = {
            "lr": lr_at(self.optim, step, plan.total_steps, plan.steps_per_epoch),
            "wd": wd_at(self.optim, step, plan.total_steps),
        }
        if method.teacher_momentum is not None:
            schedule["momentum"] = method.teacher_momentum_at(step, plan.total_steps)
        return schedule

    def _evaluates(self, step: int, done: bool) -> bool:
        """Whether the online evaluation runs once `step` steps are done: every
        `train.eval_every` steps and at the end, on the main process only."""
        every = self.train.eval_every
        return self.evaluate is not None and ddp.is_main() and (step % every == 0 or done)

    def _update(
        self, inputs: Iterator[Any], momentum: float | None, measure: bool
    ) -> tuple[torch.Tensor, dict, torch.Tensor | None]:
        """One optimizer update: every micro-batch's views, forward and backward, the method's
        gradient rules, clipping, the step and the EMA teachers (at `momentum`, the step's
        scheduled one). Returns the last micro-batch's loss (detached) and terms, and with
        `measure` the gradient norm before clipping, all still on the device."""
        t, method = self.train, self.method
        for micro in range(t.accumulate):
            x = next(inputs)
            # DDP reduces gradients during the last micro-batch's backward only
            last = micro == t.accumulate - 1
            with nullcontext() if last or self.ddp is None else self.ddp.no_sync():
                with self.autocast:
                    views = self.modality.views(x, method.view_plan)
                    loss, terms = self.model(views)
                (loss / t.accumulate).backward()
        method.prepare_gradients()
        grad_norm = gradient_norm(method) if measure else None
        if t.grad_clip:
            for group in method.clip_groups():
                torch.nn.utils.clip_grad_norm_(group, t.grad_clip)
        self.opt.step()
        self.opt.zero_grad(set_to_none=True)
        if momentum is not None:
            for student, teacher in method.ema_pairs():
                ema_update(student, teacher, momentum, method.teacher_copies_buffers)
        return loss.detach(), terms, grad_norm


def gradient_norm(module: torch.nn.Module) -> torch.Tensor:
    """The L2 norm of every gradient together, on the device (no host read)."""
    grads = [p.grad for p in module.parameters() if p.grad is not None]
    return torch.nn.utils.get_total_norm(grads) if grads else torch.zeros(())
