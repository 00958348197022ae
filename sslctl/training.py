"""One training run, whatever job trains it (pretrain, distill): the run folder claimed (its
lock, and a refusal of one that holds another run), the data loaded with the modality set up
on it, the online evaluation, and the fit, leaving the run's recipe and final checkpoint."""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager, nullcontext
from pathlib import Path

import torch

from sslctl.engine import distributed as ddp
from sslctl.engine.online_eval import OnlineEval, fixed_subset
from sslctl.engine.trainer import Trainer, TrainSettings, seed_everything
from sslctl.errors import UserError
from sslctl.io.device import pick_device
from sslctl.io.lock import others, owned
from sslctl.methods.base import Method
from sslctl.modalities import get_modality
from sslctl.modalities.base import Modality, Samples
from sslctl.probing import probe_split
from sslctl.recipe import Recipe
from sslctl.rundir import RunDir, check_resumed_recipe, is_run_dir, write_recipe
from sslctl.specs import StreamSpec
from sslctl.specs.methods import METHODS


def _device(name: str) -> torch.device:
    device = pick_device(name)
    ddp.init_from_env(device)
    if device.type == "cuda" and ddp.world_size() > 1:
        device = torch.device("cuda", int(os.environ.get("LOCAL_RANK", 0)))
        torch.cuda.set_device(device)
    return device


@contextmanager
def opened_run(run_dir: Path, resume: bool, device: str) -> Iterator[tuple[torch.device, bool]]:
    """(the training device, whether to resume) for the block, which owns `run_dir` (its
    lock, io/lock.py: a second job given the same --out exits 2). The main rank locks; the
    other ranks of a torchrun job write through it."""
    main = int(os.environ.get("RANK", "0")) == 0
    with owned(run_dir) if main else nullcontext():
        yield open_run(run_dir, resume, device)


def open_run(run_dir: Path, resume: bool, device: str) -> tuple[torch.device, bool]:
    """(the training device, whether to resume), after refusing an output that holds another
    run or other files: every rank checks before any rank writes."""
    files = RunDir(run_dir)
    ckpt = files.checkpoint
    dev = _device(device)  # joins torchrun's process group first: every rank checks OUT below
    restarted = int(os.environ.get("TORCHELASTIC_RESTART_COUNT", "0")) > 0
    if restarted and ckpt.is_file():
        resume = True  # torchrun --max-restarts restarted the group: go on from the checkpoint
    if resume and not ckpt.is_file():
        raise UserError(f"{run_dir}: --resume given but {ckpt} does not exist")
    if not resume and run_dir.exists() and not restarted:  # a restart may redo its own run
        if is_run_dir(run_dir) or ckpt.is_file():
            raise UserError(
                f"{run_dir}: already holds a run; pass --resume or choose another --out"
            )
        if not run_dir.is_dir() or others(run_dir):
            raise UserError(f"{run_dir}: exists and is not an empty folder; choose a new --out")
    if restarted and not resume and ddp.is_main():  # the failed attempt's log, no checkpoint
        files.metrics.unlink(missing_ok=True)
    ddp.barrier()  # no rank writes before every rank has checked OUT
    return dev, resume


def load_data(recipe: Recipe) -> tuple[Modality, Samples]:
    """The training samples and the modality set up on them (seeded first: a modality's
    statistics and any random choice follow the recipe's seed)."""
    seed_everything(recipe.seed)
    modality_cls = get_modality(recipe.data.modality)
    workers = recipe.train.num_workers
    samples = modality_cls.load_training_samples(recipe.data, workers)
    return modality_cls.for_training(recipe.data, samples, workers), samples


def online_eval(
    recipe: Recipe, modality: Modality, training: Samples, device: torch.device
) -> OnlineEval | None:
    """`train.eval_every`'s evaluation, or None when it is unset: on a fixed sample of the
    probe split `sslctl probe RUN` uses (loaded and checked now, so a bad probe source fails
    before the first step), or of the training data, label-free, when the recipe names no
    probe data."""
    if recipe.train.eval_every is None:
        return None
    count, seed, probe = recipe.train.eval_samples, recipe.seed, recipe.probe
    if probe.train is None:
        return OnlineEval(modality, fixed_subset(training, count, seed), None, probe, device)
    train, test = probe_split(modality, probe, None)
    queries = fixed_subset(test, max(1, count // 4), seed + 1)
    return OnlineEval(modality, fixed_subset(train, count, seed), queries, probe, device)


def train(
    recipe: Recipe,
    run_dir: Path,
    method: Method,
    modality: Modality,
    samples: Samples,
    device: torch.device,
    resume: bool,
    quiet: bool,
) -> None:
    """Fit `method` and leave its final checkpoint; the run's recipe is written once the
    trainer is built (and a resumed checkpoint has loaded), so a refused run writes nothing."""
    files = RunDir(run_dir)
    modality.check_views(method.view_plan)
    torch.manual_seed(recipe.seed + 1000 * ddp.rank())  # per-rank augmentation streams
    on_error = recipe.data.on_decode_error if isinstance(recipe.data, StreamSpec) else "fail"
    evaluate = online_eval(recipe, modality, samples, device) if ddp.is_main() else None
    tensorboard = files.tensorboard if recipe.train.tensorboard else None
    settings = TrainSettings(
        recipe.train, recipe.optim, recipe.seed, on_error, evaluate, tensorboard
    )
    trainer = Trainer(
        method, modality, samples, files.checkpoint, files.metrics, settings, device, quiet
    )
    if resume:
        job = "distill" if METHODS.get(recipe.method.name).needs_teacher else "pretrain"
        check_resumed_recipe(run_dir, recipe, job)
        trainer.resume()  # a checkpoint that does not load leaves the run's recipe as it was
    if ddp.is_main():
        write_recipe(run_dir, recipe)
    if samples.note and not quiet and ddp.is_main():
        print(samples.note, file=sys.stderr)
    trainer.fit()
    trainer.save()
