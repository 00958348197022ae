"""Images: folders, list files and WebDataset shards (streamed by worker processes, or decoded
once into memory when small), .npz arrays and builtin datasets (in memory as uint8 NCHW).

Views are made on the training device by `image_augment`; the encoder takes floats in [0, 1]
and normalises inside itself, so exports and distillation teachers carry their own statistics.
A streamed training batch arrives as `Crops`: each view already cut by a worker from the
full-resolution original (`image_decode`), so the device adds only flips and colour.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F

from sslctl.encoders.base import Encoder, Normalize
from sslctl.encoders.timm_encoder import build_timm_encoder
from sslctl.errors import UserError
from sslctl.modalities.base import (
    Modality,
    Samples,
    StreamedSamples,
    Views,
    own_backbone,
    require_teacher_input,
    spec_overrides,
)
from sslctl.modalities.image.augment import augment, augment_cropped
from sslctl.modalities.image.decode import CropSpec, ImageEvalDecoder, ImageTrainDecoder
from sslctl.modalities.image.presets import PRESETS, ViewParams
from sslctl.modalities.image.read import ImageStreamSettings, file_mode, load_images
from sslctl.modalities.image.spec import ImageAugSpec, ImageDataSpec
from sslctl.modalities.token_masks import BlockMasking
from sslctl.sources.stream import decode_all, resolve_workers
from sslctl.specs import EncoderSpec
from sslctl.specs.encoders import ENCODERS
from sslctl.views import ViewPlan

STATS_IMAGES = 512  # streamed sources: images the normalisation statistics are estimated on


class Crops(list):
    """A streamed training batch: one (B, C, S, S) float tensor per view, crops already cut."""


class ImageModality(Modality):
    """Built from a data spec for training, or from encoder.json's input spec for a saved run."""

    export_axes = {0: "batch"}
    view_kinds = ImageDataSpec.view_kinds
    presets = PRESETS
    token_masking = BlockMasking()  # I-JEPA's multi-block masking
    stream_settings = ImageStreamSettings

    def __init__(
        self,
        input_spec: dict[str, Any],
        augment_spec: ImageAugSpec | None = None,
        stream: ImageStreamSettings | None = None,
        workers: int | str = "auto",
    ):
        self.input_spec = input_spec
        self.size = int(input_spec["image_size"])
        self.channels = int(input_spec["channels"])
        self.augment_spec = augment_spec or ImageAugSpec()
        self.stream = stream or ImageStreamSettings()
        self.workers = resolve_workers(workers)

    # ------------------------------------------------------------ reading
    @staticmethod
    def load_training_samples(data: ImageDataSpec, workers: int | str = "auto") -> Samples:
        stream = ImageStreamSettings.of(data)
        return load_images(
            data.train, data.image_size, data.channels, stream, resolve_workers(workers)
        )

    @classmethod
    def for_training(
        cls, data: ImageDataSpec, train: Samples, workers: int | str = "auto"
    ) -> ImageModality:
        stream = ImageStreamSettings.of(data)
        if isinstance(train, StreamedSamples):
            mode = file_mode(train.x.source, data.channels, data.max_image_pixels)
            channels = 1 if mode == "L" else 3
            rows = np.random.default_rng(0).permutation(len(train))[:STATS_IMAGES]
            decoder = ImageEvalDecoder(mode, data.image_size, data.max_image_pixels)
            (pixels,), _ = decode_all(
                train.x[rows], decoder, resolve_workers(workers), "skip", report=False
            )
        else:
            channels = int(train.x.shape[1])
            pixels = train.x[: min(len(train), 10000)]
        pixels = pixels.float() / 255
        spec = {
            "modality": "image",
            "channels": channels,
            "image_size": data.image_size,
            "layout": "NCHW",
            "dtype": "float32",
            "range": [0.0, 1.0],
            "mean": pixels.mean(dim=(0, 2, 3)).tolist(),
            "std": pixels.std(dim=(0, 2, 3)).clamp(min=1e-3).tolist(),
        }
        return cls(spec, data.augment, stream, workers)

    def load(self, source: str) -> Samples:
        """Evaluation data, converted to the channels this encoder was trained on."""
        return load_images(source, self.size, self.channels, self.stream, self.workers)

    # ------------------------------------------------------------ batches
    def batch(self, samples: Samples, index: torch.Tensor, device: torch.device) -> torch.Tensor:
        x = samples.x[index].to(device, non_blocking=True).float().div_(255)
        if x.shape[1] != self.channels:
            raise UserError(
                f"{samples.source}: images have {x.shape[1]} channels, the encoder takes "
                f"{self.channels}"
            )
        if x.shape[-1] != self.size or x.shape[-2] != self.size:
            x = F.interpolate(x, size=(self.size, self.size), mode="bilinear", antialias=True)
        return x

    def _mode(self) -> str:
        return "L" if self.channels == 1 else "RGB"

    def train_decoder(self, plan: ViewPlan) -> ImageTrainDecoder:
        crops = tuple(CropSpec(size, p.crop_scale) for size, p in self._view_specs(plan))
        return ImageTrainDecoder(self._mode(), crops, self.stream.max_image_pixels)

    def eval_decoder(self) -> ImageEvalDecoder:
        return ImageEvalDecoder(self._mode(), self.size, self.stream.max_image_pixels)

    def from_decoded(
        self, outputs: tuple[torch.Tensor, ...], device: torch.device, train: bool
    ) -> torch.Tensor | Crops:
        views = [o.to(device, non_blocking=True).float().div_(255) for o in outputs]
        return Crops(views) if train else views[0]

    # ------------------------------------------------------------ views
    def view_params(self, kind: str) -> tuple[ViewParams, ViewParams, ViewParams]:
        """The preset's three parameter sets (first and second global view, local views)."""
        a = self.augment_spec
        overrides = spec_overrides(a, ViewParams)
        return tuple(replace(p, **overrides) for p in PRESETS[a.preset or self.view_kinds[kind]])

    def _view_specs(self, plan: ViewPlan) -> list[tuple[int, ViewParams]]:
        """(side, parameters) of every view: global views alternate the preset's first and
        second parameter sets, then the local (multi-crop) views at the smaller side."""
        first, second, local = self.view_params(plan.kind)
        n_local = (
            plan.n_local if self.augment_spec.local_crops is None else self.augment_spec.local_crops
        )
        local_size = max(8, int(round(self.size * plan.local_size_ratio)))
        specs = [(self.size, first if i % 2 == 0 else second) for i in range(plan.n_global)]
        return specs + [(local_size, local)] * n_local

    def views(self, x: torch.Tensor | Crops, plan: ViewPlan) -> Views:
        specs = self._view_specs(plan)
        if isinstance(x, Crops):
            views = [augment_cropped(v, p) for v, (_, p) in zip(x, specs, strict=True)]
        else:
            views = [augment(x, size, p) for size, p in specs]
        return Views(views, plan.n_global, torch.cat, self.masking_for(plan))

    def student_of(self, teacher: ImageModality) -> ImageModality:
        """Pixel views in [0, 1]; each encoder standardises with its own statistics."""
        require_teacher_input(self.input_spec, teacher.input_spec, ("channels", "image_size"))
        return self

    def build_encoder(self, spec: EncoderSpec) -> Encoder:
        if spec.name in ENCODERS:  # sslctl's own backbones; timm's otherwise
            backbone = own_backbone(spec, "image", self.input_spec, "images")
            normalize = Normalize(self.input_spec["mean"], self.input_spec["std"])
            return Encoder(normalize, backbone, int(backbone.num_features))
        return build_timm_encoder(
            spec.name,
            self.channels,
            self.size,
            self.input_spec["mean"],
            self.input_spec["std"],
            spec.kwargs,
            spec.weights,
        )

    def export_example(self, batch: int) -> torch.Tensor:
        return torch.rand(batch, self.channels, self.size, self.size)
