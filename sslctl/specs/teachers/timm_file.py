"""`teacher: {timm: NAME, weights: FILE}`: a timm model from a local file in timm's own key
layout: a timm model repository's `model.safetensors` (DINOv2, DINOv3, ConvNeXt, ...), a
.pt/.pth state dict (read with weights_only=True), or `sslctl export --format timm` of a run.
Nothing is downloaded."""

from __future__ import annotations

from typing import Annotated, Any, ClassVar, Literal

from pydantic import Field, field_validator

from sslctl.specs import Location
from sslctl.specs.teachers import TEACHERS
from sslctl.specs.teachers.base import TeacherSpec


@TEACHERS.register("timm")
class TimmTeacherSpec(TeacherSpec):
    kind: ClassVar[str] = "timm"
    code: ClassVar[str] = "sslctl.teachers.timm_file:TimmTeacherKind"
    order: ClassVar[int] = 20
    usage: ClassVar[str] = "timm: NAME with weights: FILE"
    timm: str = Field(description="timm model name (e.g. vit_small_patch14_dinov2, resnet50).")
    weights: Location = Field(
        description="The model's weights: .safetensors, or a .pt/.pth state dict, keys in "
        "timm's layout (a timm model repository's model.safetensors loads as it is)."
    )
    image_size: int | None = Field(
        None, gt=0, le=4096, description="Image side it takes; must be data.image_size."
    )
    channels: int | None = Field(
        None, ge=1, le=16, description="Input channels it takes; must be data.channels."
    )
    mean: list[Annotated[float, Field(ge=-1000, le=1000)]] | None = Field(
        None,
        min_length=1,
        max_length=16,
        description="Per-channel input mean; default: the "
        "file's sslctl metadata, else timm's for the model.",
    )
    std: list[Annotated[float, Field(gt=0, le=1000)]] | None = Field(
        None, min_length=1, max_length=16, description="Per-channel input std (as mean)."
    )
    pool: Literal["default", "cls", "mean"] = Field(
        "default",
        description="Pooled embedding: the model's own head-less features (default), the "
        "class token (ViTs) or the mean of its tokens.",
    )
    kwargs: dict[str, Any] = Field(
        default_factory=dict, description="timm architecture keywords, as encoder.kwargs."
    )

    @field_validator("timm")
    @classmethod
    def _known(cls, name: str) -> str:
        from sslctl.errors import suggest
        from sslctl.timm_names import is_timm_model, timm_model_names

        if not is_timm_model(name):
            close = suggest(name, sorted(timm_model_names()))
            raise ValueError(f"unknown timm model '{name}'; close matches: {close}")
        return name
