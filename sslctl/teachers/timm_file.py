"""`teacher: {timm: NAME, weights: FILE}`: a timm model from a local file in timm's own key
layout: a timm model repository's `model.safetensors` (DINOv2, DINOv3, ConvNeXt, ...), a
.pt/.pth state dict (read with weights_only=True), or `sslctl export --format timm` of a run.
Nothing is downloaded."""

from __future__ import annotations

import json
import math
from typing import TYPE_CHECKING, Annotated, Any, Literal

from pydantic import Field, field_validator

from sslctl.errors import UserError
from sslctl.specs import Location
from sslctl.teachers import TEACHERS
from sslctl.teachers.base import (
    EncoderTeacher,
    LoadedTeacher,
    TeacherSpec,
    require_image_geometry,
)

if TYPE_CHECKING:
    from sslctl.modalities.base import Modality


@TEACHERS.register("timm")
class TimmTeacherSpec(TeacherSpec):
    kind = "timm"
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
        import timm

        from sslctl.errors import suggest

        if not timm.is_model(name):
            raise ValueError(
                f"unknown timm model '{name}'; close matches: {suggest(name, timm.list_models())}"
            )
        return name

    def load(self, modality: Modality, seed: int) -> LoadedTeacher:
        from pathlib import Path

        from sslctl.encoders.base import Normalize
        from sslctl.encoders.timm_encoder import (
            TimmEncoder,
            create_timm_backbone,
            load_timm_state,
        )
        from sslctl.io.weights import read_state_dict

        require_image_geometry(modality, "teacher", self.channels, self.image_size)
        channels, size = modality.input_spec["channels"], modality.input_spec["image_size"]
        file = Path(self.weights)
        state, meta = read_state_dict(file, "teacher.weights")
        backbone = create_timm_backbone(self.timm, channels, size, self.kwargs, "teacher")
        load_timm_state(backbone, state, file, "teacher.weights")
        mean, std = self._stats(meta, backbone.pretrained_cfg, channels)
        encoder = TimmEncoder(Normalize(mean, std), backbone)
        if self.pool != "default" and not encoder.gives_tokens:
            raise UserError(f"teacher.pool: {self.timm} gives no token map to pool")
        if self.pool == "cls" and int(getattr(backbone, "num_prefix_tokens", 0)) == 0:
            raise UserError(f"teacher.pool: {self.timm} has no class token; use mean")
        return LoadedTeacher(EncoderTeacher(encoder, self.pool), modality)

    def _stats(
        self, meta: dict[str, str], cfg: dict, channels: int
    ) -> tuple[list[float], list[float]]:
        """Input statistics: the recipe's, else those `sslctl export --format timm` recorded
        in the file, else timm's defaults for the model when they fit the channels."""
        recorded = {k: _floats(meta.get(k)) for k in ("mean", "std")}
        mean = self.mean or recorded["mean"] or list(cfg.get("mean", ()))
        std = self.std or recorded["std"] or list(cfg.get("std", ()))
        if len(mean) != channels or len(std) != channels:
            raise UserError(
                f"teacher.mean: give the teacher's per-channel mean and std for its {channels} "
                "channel(s) (neither the recipe nor the file has them)"
            )
        if min(std) <= 0:
            raise UserError(f"teacher.std: the file records a std <= 0 ({std}); give std")
        return mean, std


def _floats(text: str | None) -> list[float] | None:
    """A metadata list of numbers, or None when absent or not that (metadata is untrusted)."""
    try:
        value = json.loads(text) if text else None
    except ValueError:
        return None
    ok = isinstance(value, list) and 0 < len(value) <= 16
    ok = ok and all(isinstance(v, int | float) and math.isfinite(v) for v in value)
    return [float(v) for v in value] if ok else None
