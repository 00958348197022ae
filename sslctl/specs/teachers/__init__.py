"""Teacher registry: the kinds of frozen model `sslctl distill` learns from. Each kind is a
recipe section declared torch-free in `sslctl/specs/teachers/NAME.py`
(`@TEACHERS.register(KEY)`), whose `code` names the `TeacherKind` in `sslctl/teachers/` that
loads it; a recipe names the kind by its one key (`teacher: {run: DIR}`, `{timm: NAME,
weights: FILE}`, `{onnx: FILE}`, `{random: {encoder: ...}}`). Plugins add kinds through the
`sslctl.teachers` entry-point group."""

from __future__ import annotations

from typing import TYPE_CHECKING

from sslctl.registry import Registry

if TYPE_CHECKING:
    from sslctl.specs.teachers.base import TeacherSpec

TEACHERS: Registry[type[TeacherSpec]] = Registry(
    "teacher kind", "sslctl.teachers", "sslctl.specs.teachers"
)


def teacher_kinds() -> str:
    """The kinds as a recipe writes them, for help text and errors: `run: DIR | timm: ...`."""
    return " | ".join(spec.usage for _, spec in TEACHERS.items())
