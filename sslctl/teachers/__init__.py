"""Teacher registry: the kinds of frozen model `sslctl distill` learns from. Each kind is a
recipe section class registered beside its code (`@TEACHERS.register(KEY)`); a recipe names
the kind by its one key (`teacher: {run: DIR}`, `{timm: NAME, weights: FILE}`,
`{onnx: FILE}`, `{random: {encoder: ...}}`). Plugins add kinds through the `sslctl.teachers`
entry-point group."""

from __future__ import annotations

from typing import TYPE_CHECKING

from sslctl.registry import Registry

if TYPE_CHECKING:
    from sslctl.teachers.base import TeacherSpec

TEACHERS: Registry[type[TeacherSpec]] = Registry(
    "teacher kind",
    "sslctl.teachers",
    "sslctl.teachers",
    first=("run_dir", "timm_file", "onnx_file", "random_init"),
)
