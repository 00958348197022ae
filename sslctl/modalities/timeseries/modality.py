"""Time series: .npy/.npz, UCR CSV/TSV, UCR/UEA .ts and builtin archive sets, held in memory as
float32 (N, C, T) with NaN marking missing values and the padding of shorter series.

The encoder input is that same (batch, channels, time) array: per-channel normalisation
(fitted on the training split, stored in encoder.json) and NaN masking live inside the
encoder, so exports take raw series of any length. Views are made on the training device by
`series_augment`.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import torch

from sslctl.encoders.base import Encoder
from sslctl.encoders.series_base import SeriesNormalize
from sslctl.errors import UserError
from sslctl.modalities.base import (
    Modality,
    Samples,
    Views,
    own_backbone,
    require_teacher_input,
)
from sslctl.modalities.timeseries.augment import OverlappingCrops, augment, overlapping_crops
from sslctl.modalities.timeseries.presets import PRESETS
from sslctl.modalities.timeseries.read import load_series, split_long
from sslctl.modalities.timeseries.spec import SeriesAugSpec, TimeSeriesDataSpec
from sslctl.modalities.token_masks import SpanMasking
from sslctl.specs import EncoderSpec
from sslctl.views import ViewPlan

LOCAL_CROP = (0.2, 0.5)  # DINO local views: windows of 20-50% of the series (globals: the preset's)


def nan_pad_cat(parts: list[torch.Tensor]) -> torch.Tensor:
    """Series views of different lengths as one batch: shorter ones NaN-padded at the end. The
    encoders treat NaN steps as unobserved and pool over observed steps only, so the padding
    changes no embedding (the same rule that lets one batch hold series of unequal length)."""
    longest = max(p.shape[2] for p in parts)
    pad = [torch.nn.functional.pad(p, (0, longest - p.shape[2]), value=float("nan")) for p in parts]
    return torch.cat(pad)


class TimeSeriesModality(Modality):
    """Built from a data spec for training, or from encoder.json's input spec for a saved run."""

    export_axes = {0: "batch", 2: "time"}
    view_kinds = TimeSeriesDataSpec.view_kinds
    presets = PRESETS
    token_masking = SpanMasking()  # ECG-JEPA's time spans, shared by every channel
    kind_presets = TimeSeriesDataSpec.kind_presets

    def __init__(
        self, input_spec: dict[str, Any], augment_spec: SeriesAugSpec | None = None
    ) -> None:
        self.input_spec = input_spec
        self.channels = int(input_spec["channels"])
        self.length = int(input_spec["length"])
        self.augment_spec = augment_spec or SeriesAugSpec()

    @classmethod
    def for_training(
        cls, data: TimeSeriesDataSpec, train: Samples, workers: int | str = 0
    ) -> TimeSeriesModality:
        values = train.x.transpose(0, 1).reshape(train.x.shape[1], -1).double()
        mean = torch.nanmean(values, dim=1)
        std = torch.nanmean((values - mean[:, None]) ** 2, dim=1).sqrt()
        if torch.isnan(mean).any():
            raise UserError(f"{data.train}: a channel has no observed values")
        spec = {
            "modality": "timeseries",
            "channels": int(train.x.shape[1]),
            "length": int(train.x.shape[2]),
            "variable_length": bool(torch.isnan(train.x[:, :, -1]).any()),
            "mean": mean.tolist(),
            "std": std.clamp(min=1e-6).tolist(),
            "layout": "(batch, channels, time)",
            "dtype": "float32",
            "missing": "NaN (missing values and padding after shorter series)",
        }
        return cls(spec, data.augment)

    @staticmethod
    def load_training_samples(data: TimeSeriesDataSpec, workers: int | str = 0) -> Samples:
        """Held in memory: `workers` is not used."""
        samples = load_series(data.train)
        return split_long(samples, data.max_length) if data.max_length else samples

    def load(self, source: str) -> Samples:
        samples = load_series(source)
        if samples.x.shape[1] != self.channels:
            raise UserError(
                f"{source}: series have {samples.x.shape[1]} channels; the encoder was trained on "
                f"{self.channels}"
            )
        return samples

    def batch(self, samples: Samples, index: torch.Tensor, device: torch.device) -> torch.Tensor:
        return samples.x[index].to(device, non_blocking=True)

    def views(self, x: torch.Tensor, plan: ViewPlan) -> Views:
        params = self.view_params(plan.kind)
        if plan.kind == "overlapping-crops":
            pair = overlapping_crops(x)
            rest = replace(params, crop_scale=(1.0, 1.0))
            return OverlappingCrops([augment(v, rest) for v in pair], pair.overlap)
        views = [augment(x, params) for _ in range(plan.n_global)]
        local = replace(params, crop_scale=LOCAL_CROP)
        views += [augment(x, local) for _ in range(plan.n_local)]
        return Views(views, plan.n_global, nan_pad_cat, self.masking_for(plan))

    def student_of(self, teacher: TimeSeriesModality) -> TimeSeriesModality:
        """Raw series views; each encoder normalises with its own per-channel statistics."""
        require_teacher_input(self.input_spec, teacher.input_spec, ("channels",))
        return self

    def build_encoder(self, spec: EncoderSpec) -> Encoder:
        backbone = own_backbone(spec, "timeseries", self.input_spec, "time series")
        normalize = SeriesNormalize(self.input_spec["mean"], self.input_spec["std"])
        return Encoder(normalize, backbone, int(backbone.num_features))

    def export_example(self, batch: int) -> torch.Tensor:
        return torch.randn(batch, self.channels, self.length)

    def export_checks(self) -> list[torch.Tensor]:
        """Lengths other than the export example's, one row ending early (NaN padding)."""
        short = torch.randn(1, self.channels, max(2, self.length // 2))
        long = torch.randn(3, self.channels, self.length + 7)
        long[1, :, self.length // 3 :] = float("nan")
        return [short, long]
