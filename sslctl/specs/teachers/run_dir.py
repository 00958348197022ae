"""`teacher: {run: DIR}`: the encoder of a run sslctl trained (pretrain or distill)."""

from __future__ import annotations

from typing import ClassVar

from pydantic import Field

from sslctl.specs import Location
from sslctl.specs.teachers import TEACHERS
from sslctl.specs.teachers.base import TeacherSpec


@TEACHERS.register("run")
class RunTeacherSpec(TeacherSpec):
    kind: ClassVar[str] = "run"
    code: ClassVar[str] = "sslctl.teachers.run_dir:RunTeacherKind"
    order: ClassVar[int] = 10
    usage: ClassVar[str] = "run: DIR"
    run: Location = Field(
        description="Run directory of the teacher encoder (from pretrain or distill)."
    )
