"""`teacher: {onnx: FILE}`: any ONNX model whose first output is a (batch, dim) embedding, run
in onnxruntime (on its CUDA provider when training on a GPU and onnxruntime has one). The
input spec comes from the metadata `sslctl export` writes, otherwise from the recipe; the
graph's input rank and fixed sizes must be those of the data's views."""

from __future__ import annotations

from typing import ClassVar

from pydantic import Field

from sslctl.specs import Location
from sslctl.specs.teachers import TEACHERS
from sslctl.specs.teachers.base import TeacherSpec


@TEACHERS.register("onnx")
class OnnxTeacherSpec(TeacherSpec):
    kind: ClassVar[str] = "onnx"
    code: ClassVar[str] = "sslctl.teachers.onnx_file:OnnxTeacherKind"
    order: ClassVar[int] = 30
    usage: ClassVar[str] = "onnx: FILE"
    onnx: Location = Field(description="ONNX model file; its first output is the embedding.")
    channels: int | None = Field(
        None,
        ge=1,
        le=16,
        description="Image channels it takes, when the file has no sslctl "
        "metadata; must be data.channels.",
    )
    image_size: int | None = Field(
        None,
        gt=0,
        le=4096,
        description="Image side it takes, when the file has no sslctl "
        "metadata; must be data.image_size.",
    )
