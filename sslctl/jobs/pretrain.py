"""pretrain: recipe -> run directory. Every method trains here, a distillation student too
(jobs/distill.py is that job's entry; jobs/teacher.py loads its teacher)."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import torch

from sslctl.engine import distributed as ddp
from sslctl.engine.trainer import Trainer, TrainSettings, seed_everything
from sslctl.errors import UserError
from sslctl.io.device import pick_device
from sslctl.jobs.teacher import attach_teacher
from sslctl.methods import build_method
from sslctl.modalities import get_modality
from sslctl.recipe import Recipe
from sslctl.rundir import RunDir, is_run_dir, write_encoder, write_recipe
from sslctl.specs import StreamSpec


def _device(name: str) -> torch.device:
    device = pick_device(name)
    ddp.init_from_env(device)
    if device.type == "cuda" and ddp.world_size() > 1:
        device = torch.device("cuda", int(os.environ.get("LOCAL_RANK", 0)))
        torch.cuda.set_device(device)
    return device


def pretrain(
    recipe: Recipe,
    out: str | None = None,
    resume: bool = False,
    device: str = "auto",
    quiet: bool = False,
) -> Path:
    run_dir = Path(out or f"runs/{recipe.name}")
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
        if not run_dir.is_dir() or any(run_dir.iterdir()):
            raise UserError(f"{run_dir}: exists and is not an empty folder; choose a new --out")
    if restarted and not resume and ddp.is_main():  # the failed attempt's log, no checkpoint
        files.metrics.unlink(missing_ok=True)
    ddp.barrier()  # no rank writes before every rank has checked OUT
    seed_everything(recipe.seed)
    modality_cls = get_modality(recipe.data.modality)
    workers = recipe.train.num_workers
    samples = modality_cls.load_training_samples(recipe.data, workers)
    modality = modality_cls.for_training(recipe.data, samples, workers)
    modality, teacher = attach_teacher(recipe, modality)
    encoder = modality.build_encoder(recipe.encoder)
    method = build_method(recipe.method, encoder, teacher)
    modality.check_views(method.view_plan)
    torch.manual_seed(recipe.seed + 1000 * ddp.rank())  # per-rank augmentation streams
    on_error = recipe.data.on_decode_error if isinstance(recipe.data, StreamSpec) else "fail"
    settings = TrainSettings(recipe.train, recipe.optim, recipe.seed, on_error)
    trainer = Trainer(method, modality, samples, ckpt, files.metrics, settings, dev, quiet)
    if resume:
        trainer.resume()  # a checkpoint that does not load leaves the run's recipe as it was
    if ddp.is_main():
        write_recipe(run_dir, recipe)
    if samples.note and not quiet and ddp.is_main():
        print(samples.note, file=sys.stderr)
    trainer.fit()
    trainer.save()
    if ddp.is_main():
        write_encoder(run_dir, recipe, modality, method.encoder_to_save().cpu())
    return run_dir
