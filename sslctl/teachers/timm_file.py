"""`teacher: {timm: NAME, weights: FILE}`: a timm model from a local file in timm's own key
layout: a timm model repository's `model.safetensors` (DINOv2, DINOv3, ConvNeXt, ...), a
.pt/.pth state dict (read with weights_only=True), or `sslctl export --format timm` of a run.
Nothing is downloaded."""

from __future__ import annotations

import json
import math
from typing import TYPE_CHECKING

from sslctl.errors import UserError
from sslctl.teachers.base import (
    EncoderTeacher,
    LoadedTeacher,
    TeacherKind,
    require_image_geometry,
)

if TYPE_CHECKING:
    from sslctl.modalities.base import Modality


class TimmTeacherKind(TeacherKind):
    """Loads a `teacher: {timm: ...}` section (TimmTeacherSpec)."""

    def load(self, modality: Modality, seed: int) -> LoadedTeacher:
        from pathlib import Path

        from sslctl.encoders.base import Normalize
        from sslctl.encoders.timm_encoder import (
            TimmEncoder,
            create_timm_backbone,
            load_timm_state,
        )
        from sslctl.io.weights import read_state_dict

        require_image_geometry(modality, "teacher", self.spec.channels, self.spec.image_size)
        channels, size = modality.input_spec["channels"], modality.input_spec["image_size"]
        file = Path(self.spec.weights)
        state, meta = read_state_dict(file, "teacher.weights")
        backbone = create_timm_backbone(self.spec.timm, channels, size, self.spec.kwargs, "teacher")
        load_timm_state(backbone, state, file, "teacher.weights")
        mean, std = self._stats(meta, backbone.pretrained_cfg, channels)
        encoder = TimmEncoder(Normalize(mean, std), backbone)
        if self.spec.pool != "default" and not encoder.gives_tokens:
            raise UserError(f"teacher.pool: {self.spec.timm} gives no token map to pool")
        if self.spec.pool == "cls" and int(getattr(backbone, "num_prefix_tokens", 0)) == 0:
            raise UserError(f"teacher.pool: {self.spec.timm} has no class token; use mean")
        return LoadedTeacher(EncoderTeacher(encoder, self.spec.pool), modality)

    def _stats(
        self, meta: dict[str, str], cfg: dict, channels: int
    ) -> tuple[list[float], list[float]]:
        """Input statistics: the recipe's, else those `sslctl export --format timm` recorded
        in the file, else timm's defaults for the model when they fit the channels."""
        recorded = {k: _floats(meta.get(k)) for k in ("mean", "std")}
        mean = self.spec.mean or recorded["mean"] or list(cfg.get("mean", ()))
        std = self.spec.std or recorded["std"] or list(cfg.get("std", ()))
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
