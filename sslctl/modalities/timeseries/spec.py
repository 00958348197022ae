"""The time-series data section of a recipe (`data.modality: timeseries`): registered as the
modality's data spec, with the class that reads and augments it."""

from __future__ import annotations

from typing import ClassVar, Literal

from pydantic import Field

from sslctl.modalities import MODALITIES
from sslctl.modalities.timeseries.presets import PRESETS
from sslctl.specs import DataSpec, Location, Scale, Strict

PresetName = Literal[tuple(PRESETS)]


class SeriesAugSpec(Strict):
    """Overrides of the time-series view preset; unset fields keep the preset's value."""

    preset: PresetName | None = Field(
        None,
        description="Parameter set: default (joint-embedding methods: crop, jitter, scaling, "
        "magnitude warp, time mask), ts2vec (overlapping crops), masked/none (no views). "
        "Default: the method's own.",
    )
    crop_scale: Scale | None = Field(
        None, description="Random crop length range, as a fraction of the series length."
    )
    jitter_std: float | None = Field(
        None,
        ge=0,
        le=10,
        description="Additive Gaussian noise, in standard deviations of the data.",
    )
    scale_std: float | None = Field(
        None, ge=0, le=10, description="Per-channel scaling factor ~ N(1, scale_std)."
    )
    warp_std: float | None = Field(
        None,
        ge=0,
        le=10,
        description="Magnitude warp: smooth curve through knots ~ N(1, warp_std).",
    )
    warp_knots: int | None = Field(None, gt=0, le=64, description="Magnitude warp: interior knots.")
    time_masks: int | None = Field(
        None, ge=0, le=64, description="Spans of timesteps marked missing per view."
    )
    time_mask_width: float | None = Field(
        None, ge=0, le=1, description="Longest masked span, as a fraction of the length."
    )
    permute_segments: int | None = Field(
        None, ge=0, le=64, description="Shuffle 2..N equal segments per series (0: off)."
    )


@MODALITIES.register("timeseries")
class TimeSeriesDataSpec(DataSpec):
    order: ClassVar[int] = 30
    code: ClassVar[str] = "sslctl.modalities.timeseries.modality:TimeSeriesModality"
    builtin: ClassVar[str | None] = "sslctl.modalities.timeseries.builtin"
    view_kinds: ClassVar[dict[str, str]] = {
        "contrastive": "default",
        "asymmetric": "default",
        "multi-crop": "default",
        "masked": "masked",
        "overlapping-crops": "ts2vec",
        "context-targets": "masked",
    }
    kind_presets: ClassVar[dict[str, tuple[str, ...]]] = {"overlapping-crops": ("ts2vec",)}
    modality: Literal["timeseries"] = Field(description="Data modality.")
    train: Location = Field(
        description="Training series: .npy/.npz with x (N, C, T) [and y], a UCR-layout "
        ".csv/.tsv (label, then values), a UCR/UEA .ts file, or builtin:NAME[:split] "
        "(GunPoint, ArrowHead, ItalyPowerDemand, BasicMotions, JapaneseVowels; needs "
        "sslctl[data])."
    )
    max_length: int | None = Field(
        None,
        gt=1,
        le=10_000_000,
        description="Training series longer than this are cut into consecutive sections of "
        "at most this many steps (TS2Vec's max_train_length); default: no cut.",
    )
    augment: SeriesAugSpec = Field(default_factory=SeriesAugSpec, description="View overrides.")
