"""`teacher: {random: {encoder: ...}}`: a randomly initialised, frozen teacher, as in Random
Teachers (Sarnthein et al., "Random Teachers are Good Teachers", ICML 2023), where a student
distilled from it beats it on probes. `student_init: teacher` (the paper's default) starts
the student as a copy of the teacher's weights, `random` from its own init."""

from __future__ import annotations

from typing import ClassVar, Literal

from pydantic import Field

from sslctl.specs import Strict
from sslctl.specs.encoder import EncoderSpec
from sslctl.specs.teachers import TEACHERS
from sslctl.specs.teachers.base import TeacherSpec


class RandomTeacherSection(Strict):
    encoder: EncoderSpec = Field(description="The teacher's architecture, randomly initialised.")
    student_init: Literal["teacher", "random"] = Field(
        "teacher",
        description="teacher: the student starts as a copy of the teacher (the paper's "
        "default; same encoder needed); random: from its own random init.",
    )


@TEACHERS.register("random")
class RandomTeacherSpec(TeacherSpec):
    kind: ClassVar[str] = "random"
    code: ClassVar[str] = "sslctl.teachers.random_init:RandomTeacherKind"
    order: ClassVar[int] = 40
    usage: ClassVar[str] = "random: {encoder: ...}"
    random: RandomTeacherSection = Field(description="A random, frozen teacher.")
