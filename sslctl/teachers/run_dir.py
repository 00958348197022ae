"""`teacher: {run: DIR}`: the encoder of a run sslctl trained (pretrain or distill)."""

from __future__ import annotations

from typing import TYPE_CHECKING

import torch

from sslctl.errors import UserError
from sslctl.teachers.base import EncoderTeacher, LoadedTeacher, TeacherKind

if TYPE_CHECKING:
    from sslctl.modalities.base import Modality


class RunTeacherKind(TeacherKind):
    """Loads a `teacher: {run: ...}` section (RunTeacherSpec)."""

    def load(self, modality: Modality, seed: int) -> LoadedTeacher:
        from sslctl.rundir import load_run  # the run directory sits beside the teachers

        with torch.random.fork_rng(devices=[]):  # the student's init does not depend on it
            run = load_run(self.spec.run)
        if run.modality.input_spec["modality"] != modality.input_spec["modality"]:
            raise UserError("teacher.run: the teacher was trained on another modality")
        return LoadedTeacher(EncoderTeacher(run.encoder), modality.student_of(run.modality))
