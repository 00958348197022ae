"""`teacher: {random: {encoder: ...}}`: a randomly initialised, frozen teacher, as in Random
Teachers (Sarnthein et al., "Random Teachers are Good Teachers", ICML 2023), where a student
distilled from it beats it on probes. `student_init: teacher` (the paper's default) starts
the student as a copy of the teacher's weights, `random` from its own init."""

from __future__ import annotations

from typing import TYPE_CHECKING

import torch

from sslctl.errors import UserError
from sslctl.specs.encoder import EncoderSpec
from sslctl.teachers.base import EncoderTeacher, LoadedTeacher, Teacher, TeacherKind

if TYPE_CHECKING:
    from sslctl.encoders.base import Encoder
    from sslctl.modalities.base import Modality

TEACHER_SEED_OFFSET = 7919  # the teacher's init stream: the recipe seed plus this


class RandomTeacherKind(TeacherKind):
    """Loads a `teacher: {random: ...}` section (RandomTeacherSpec)."""

    def load(self, modality: Modality, seed: int) -> LoadedTeacher:
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(seed + TEACHER_SEED_OFFSET)
            encoder = modality.build_encoder(
                self.spec.random.encoder.model_copy(update={"weights": None})
            )
        return LoadedTeacher(EncoderTeacher(encoder), modality)

    def init_student(
        self, student: Encoder, spec: EncoderSpec, teacher: Teacher, where: str
    ) -> None:
        if self.spec.random.student_init == "random":
            return
        if spec.model_dump(exclude={"weights"}) != self.spec.random.encoder.model_dump(
            exclude={"weights"}
        ):
            raise UserError(
                f"{where}: student_init teacher copies the teacher's weights, so the student "
                f"must be the teacher's encoder ({self.spec.random.encoder.name}); or set "
                "teacher.random.student_init: random"
            )
        assert isinstance(teacher, EncoderTeacher)
        student.load_state_dict(teacher.encoder.state_dict())
