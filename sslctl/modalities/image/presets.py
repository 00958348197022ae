"""The image view parameters and their named presets (`data.augment.preset`): plain data,
no torch, so the recipe's spec takes the preset names from here and the schema lists them."""

from __future__ import annotations

from dataclasses import dataclass, replace


@dataclass(frozen=True)
class ViewParams:
    crop_scale: tuple[float, float] = (0.08, 1.0)
    flip_prob: float = 0.5
    jitter_prob: float = 0.8
    jitter: tuple[float, float, float, float] = (0.4, 0.4, 0.4, 0.1)  # brightness contrast sat hue
    grayscale_prob: float = 0.2
    blur_prob: float = 0.0
    solarize_prob: float = 0.0


_SIMCLR = ViewParams(blur_prob=0.5)
_BYOL = ViewParams(jitter=(0.4, 0.4, 0.2, 0.1))
_DINO_GLOBAL = ViewParams(crop_scale=(0.4, 1.0), jitter=(0.4, 0.4, 0.2, 0.1))
_MAE = ViewParams(crop_scale=(0.2, 1.0), jitter_prob=0.0, grayscale_prob=0.0)
# I-JEPA: random resized crops only (scale 0.3-1), no flip and no colour
_IJEPA = ViewParams(crop_scale=(0.3, 1.0), flip_prob=0.0, jitter_prob=0.0, grayscale_prob=0.0)
_NONE = ViewParams(crop_scale=(1.0, 1.0), flip_prob=0.0, jitter_prob=0.0, grayscale_prob=0.0)

# preset -> (params for global view 1, params for global view 2, params for local views)
PRESETS: dict[str, tuple[ViewParams, ViewParams, ViewParams]] = {
    "simclr": (_SIMCLR, _SIMCLR, _SIMCLR),
    "byol": (
        replace(_BYOL, blur_prob=1.0),
        replace(_BYOL, blur_prob=0.1, solarize_prob=0.2),
        _BYOL,
    ),
    "dino": (
        replace(_DINO_GLOBAL, blur_prob=1.0),
        replace(_DINO_GLOBAL, blur_prob=0.1, solarize_prob=0.2),
        replace(_DINO_GLOBAL, crop_scale=(0.05, 0.4), blur_prob=0.5),
    ),
    "mae": (_MAE, _MAE, _MAE),
    "ijepa": (_IJEPA, _IJEPA, _IJEPA),
    "none": (_NONE, _NONE, _NONE),
}
