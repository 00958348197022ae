"""pretrain: recipe -> run directory, through one training run (sslctl/training.py)."""

from __future__ import annotations

from pathlib import Path

from sslctl.engine import distributed as ddp
from sslctl.errors import UserError
from sslctl.methods import build_method
from sslctl.recipe import Recipe
from sslctl.rundir import write_encoder
from sslctl.specs.methods import METHODS
from sslctl.training import load_data, opened_run, train


def pretrain(
    recipe: Recipe,
    out: str | None = None,
    resume: bool = False,
    device: str = "auto",
    quiet: bool = False,
) -> Path:
    if METHODS.get(recipe.method.name).needs_teacher:
        raise UserError(f"method.name: {recipe.method.name} trains with `sslctl distill RECIPE`")
    run_dir = Path(out or f"runs/{recipe.name}")
    with opened_run(run_dir, resume, device) as (dev, resume):
        modality, samples = load_data(recipe)
        method = build_method(recipe.method, modality.build_encoder(recipe.encoder))
        train(recipe, run_dir, method, modality, samples, dev, resume, quiet)
        if ddp.is_main():
            write_encoder(run_dir, recipe.encoder, modality, method.encoder_to_save().cpu())
    return run_dir
