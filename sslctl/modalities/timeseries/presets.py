"""The timeseries view parameters and their named presets (`data.augment.preset`): plain data,
no torch, so the recipe's spec takes the preset names from here and the schema lists them."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class SeriesViewParams:
    crop_scale: tuple[float, float] = (1.0, 1.0)  # crop length as a fraction of the series
    jitter_std: float = 0.0  # additive Gaussian noise (data are standardised: unit = 1 std)
    scale_std: float = 0.0  # per-channel multiplicative factor ~ N(1, std)
    warp_std: float = 0.0  # smooth multiplicative curve through knots ~ N(1, std)
    warp_knots: int = 4
    time_masks: int = 0  # spans of timesteps marked missing
    time_mask_width: float = 0.0  # largest span, as a fraction of the length
    permute_segments: int = 0  # split into 2..N segments and shuffle them; 0 = off


PRESETS: dict[str, SeriesViewParams] = {
    # Joint-embedding methods: weak geometric + magnitude views that keep the series' shape.
    "default": SeriesViewParams(
        crop_scale=(0.6, 1.0),
        jitter_std=0.1,
        scale_std=0.2,
        warp_std=0.2,
        time_masks=1,
        time_mask_width=0.1,
    ),
    # TS2Vec (Yue et al. 2022): contextual consistency from overlapping crops only (the
    # overlapping-crops view kind cuts them); its timestamp masking happens inside the
    # encoder, on the projected input.
    "ts2vec": SeriesViewParams(),
    "masked": SeriesViewParams(),
    "none": SeriesViewParams(),
}
