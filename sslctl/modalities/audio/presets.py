"""The audio view parameters and their named presets (`data.augment.preset`): plain data,
no torch, so the recipe's spec takes the preset names from here and the schema lists them."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class AudioViewParams:
    crop_scale: tuple[float, float] = (0.6, 1.5)
    mixup_ratio: float = 0.2
    time_masks: int = 2
    time_mask_width: float = 0.1
    freq_masks: int = 2
    freq_mask_width: float = 0.15
    gain_db: float = 6.0
    fade_db: float = 0.0
    post_norm: bool = False


_DEFAULT = AudioViewParams()
_BYOLA = AudioViewParams(
    mixup_ratio=0.2, time_masks=0, freq_masks=0, gain_db=0.0, fade_db=10.0, post_norm=True
)
_NONE = AudioViewParams(
    crop_scale=(1.0, 1.0), mixup_ratio=0.0, time_masks=0, freq_masks=0, gain_db=0.0
)
# latent prediction: as I-JEPA's images, a random resized crop only (here of the log-mel:
# stretching its mel axis shifts pitch and formants, so one voice is heard as several)
_JEPA = AudioViewParams(
    crop_scale=(0.6, 1.0), mixup_ratio=0.0, time_masks=0, freq_masks=0, gain_db=0.0
)

PRESETS: dict[str, AudioViewParams] = {
    "default": _DEFAULT,
    "byol-a": _BYOLA,
    "mae": _NONE,
    "jepa": _JEPA,
    "none": _NONE,
}
