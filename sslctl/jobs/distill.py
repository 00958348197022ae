"""distill: compress a teacher run's encoder into the recipe's (smaller) student, without
labels. The student trains in the same engine as any pretrain run (jobs/pretrain.py), with a
method that needs a teacher and the teacher jobs/teacher.py loads; this job only insists on
both, so a recipe meant for distillation cannot silently pretrain."""

from __future__ import annotations

from pathlib import Path

from sslctl.errors import UserError
from sslctl.jobs.pretrain import pretrain
from sslctl.methods import METHODS
from sslctl.recipe import Recipe


def distill(
    recipe: Recipe,
    out: str | None = None,
    resume: bool = False,
    device: str = "auto",
    quiet: bool = False,
    source: str = "recipe",
) -> Path:
    if not METHODS.get(recipe.method.name).needs_teacher or recipe.teacher is None:
        raise UserError(
            f"{source}: distill needs `method: {{name: distill}}` and `teacher: {{run: DIR}}`"
        )
    return pretrain(recipe, out, resume, device, quiet)
