"""The frozen teacher of a recipe that names one (`teacher: {run: DIR}`), loaded before the
student is built and without touching the random stream the student's init draws from."""

from __future__ import annotations

import torch

from sslctl.encoders.base import Encoder
from sslctl.errors import UserError
from sslctl.methods import METHODS
from sslctl.modalities.base import Modality
from sslctl.recipe import Recipe
from sslctl.rundir import load_run


def attach_teacher(recipe: Recipe, modality: Modality) -> tuple[Modality, Encoder | None]:
    """(the training modality set up to feed the teacher what it was trained on, the teacher
    encoder); without a teacher, (modality, None)."""
    if recipe.teacher is None:
        if METHODS.get(recipe.method.name).needs_teacher:
            raise UserError(
                f"teacher: method '{recipe.method.name}' needs `teacher: {{run: RUN_DIR}}`"
            )
        return modality, None
    with torch.random.fork_rng(devices=[]):  # the student's init does not depend on it
        teacher_run = load_run(recipe.teacher.run)
    if teacher_run.modality.input_spec["modality"] != modality.input_spec["modality"]:
        raise UserError("teacher.run: the teacher was trained on another modality")
    return modality.student_of(teacher_run.modality), teacher_run.encoder
