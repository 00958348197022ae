"""Images: folders, list files and WebDataset shards (streamed by worker processes, or decoded
once into memory when small), .npz arrays and builtin datasets (in memory as uint8 NCHW).

Views are made on the training device by `image_augment`; the encoder takes floats in [0, 1]
and normalises inside itself, so exports and distillation teachers carry their own statistics.
A streamed training batch arrives as `Crops`: each view already cut by a worker from the
full-resolution original (`image_decode`), so the device adds only flips and colour.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F

from sslctl.encoders import ENCODERS, Encoder, build_timm_encoder
from sslctl.encoders.base import Normalize
from sslctl.errors import UserError
from sslctl.modalities.base import (
    Samples,
    ViewPlan,
    Views,
    own_backbone,
    require_teacher_input,
    spec_overrides,
)
from sslctl.modalities.folders import open_npz
from sslctl.modalities.image.augment import PRESETS, ViewParams, augment, augment_cropped
from sslctl.modalities.image.decode import (
    DEFAULT_MAX_PIXELS,
    CropSpec,
    ImageEvalDecoder,
    ImageTrainDecoder,
    open_image,
)
from sslctl.modalities.image.spec import ImageAugSpec, ImageDataSpec
from sslctl.sources.files import FileSource, open_file_source
from sslctl.sources.stream import (
    DEFAULT_STREAM,
    FileSamples,
    choose_streaming,
    resolve_workers,
    stream_settings,
)
from sslctl.specs import EncoderSpec

IMAGE_SUFFIXES = {".png", ".jpg", ".jpeg", ".bmp", ".gif", ".tif", ".tiff", ".webp"}
STATS_IMAGES = 512  # streamed sources: images the normalisation statistics are estimated on


class Crops(list):
    """A streamed training batch: one (B, C, S, S) float tensor per view, crops already cut."""


def _read_npz(path: Path) -> tuple[np.ndarray, np.ndarray | None]:
    arrays = open_npz(path)
    x = arrays["x"]
    if x.ndim == 3:
        x = x[:, None]
    elif x.ndim == 4 and x.shape[-1] in (1, 3) and x.shape[1] not in (1, 3):
        x = x.transpose(0, 3, 1, 2)
    if x.ndim != 4 or x.shape[1] not in (1, 3):
        raise UserError(f"{path}: x must be (N,H,W), (N,C,H,W) or (N,H,W,C), got {x.shape}")
    if x.dtype != np.uint8:
        if not np.issubdtype(x.dtype, np.number) or not np.isfinite(x).all():
            raise UserError(f"{path}: images must be uint8 or finite floats in [0, 1]")
        if x.min() < 0 or x.max() > 1:
            raise UserError(f"{path}: float images must lie in [0, 1]")
        x = np.round(x * 255).astype(np.uint8)
    y = arrays["y"].astype(np.int64) if "y" in arrays else None
    if y is not None and len(y) != len(x):
        raise UserError(f"{path}: y has {len(y)} labels for {len(x)} images")
    return x, y


def _convert_channels(images: torch.Tensor, channels: int | None) -> torch.Tensor:
    if channels == 3 and images.shape[1] == 1:
        return images.expand(-1, 3, -1, -1).contiguous()
    if channels == 1 and images.shape[1] == 3:
        weights = torch.tensor([0.299, 0.587, 0.114]).view(1, 3, 1, 1)
        return (images.float() * weights).sum(1, keepdim=True).round().to(torch.uint8)
    return images


def array_samples(spec: str, channels: int | None) -> Samples:
    if spec.startswith("builtin:"):
        from sslctl.datasets.builtin import load_builtin_images

        x, y = load_builtin_images(spec)
    else:
        path = Path(spec)
        if path.suffix.lower() != ".npz":
            raise UserError(
                f"{path}: image data must be a folder, a list file (.txt, .csv), a folder of "
                "shards or a .npz file"
            )
        x, y = _read_npz(path)
    if len(x) == 0:
        raise UserError(f"{spec}: no samples")
    images = _convert_channels(torch.from_numpy(np.ascontiguousarray(x)), channels)
    return Samples(images, None if y is None else torch.from_numpy(y), spec)


def _file_mode(source: FileSource, channels: int | None, max_pixels: int) -> str:
    """PIL mode to decode in: the forced channels, else what the first readable file has."""
    if channels is not None:
        return "L" if channels == 1 else "RGB"
    for i in range(min(len(source), 16)):
        try:
            with source.open(i) as fh, open_image(fh, max_pixels) as first:
                gray = first.mode in ("L", "1", "F") or first.mode.startswith("I")
                return "L" if gray else "RGB"
        except Exception:  # noqa: BLE001 - an unreadable file is found again, and named, later
            continue
    raise UserError(f"{source.name(0)}: cannot decode image (none of the first files open)")


class ImageModality:
    """Built from a data spec for training, or from encoder.json's input spec for a saved run."""

    export_axes = {0: "batch"}
    view_kinds = {
        "contrastive": "simclr",
        "asymmetric": "byol",
        "multi-crop": "dino",
        "masked": "mae",
    }

    def __init__(
        self,
        input_spec: dict[str, Any],
        augment_spec: ImageAugSpec | None = None,
        stream: dict | None = None,
        workers: int | str = "auto",
    ):
        self.input_spec = input_spec
        self.size = int(input_spec["image_size"])
        self.channels = int(input_spec["channels"])
        self.augment_spec = augment_spec or ImageAugSpec()
        self.stream = stream or DEFAULT_STREAM
        self.workers = resolve_workers(workers)

    # ------------------------------------------------------------ reading
    @staticmethod
    def _load(spec: str, size: int, channels: int | None, stream: dict, workers: int) -> Samples:
        source = open_file_source(spec, IMAGE_SUFFIXES, "image")
        if source is None:
            return array_samples(spec, channels)
        mode = _file_mode(source, channels, stream.get("max_image_pixels", DEFAULT_MAX_PIXELS))
        bare = ImageModality._bare(size, 1 if mode == "L" else 3, stream, workers)
        y = None if source.labels is None else torch.from_numpy(source.labels)
        streamed, note = choose_streaming(
            source, stream, (1 if mode == "L" else 3) * size**2, "image"
        )
        samples = Samples(FileSamples(source), y, spec, note)
        if streamed:
            return samples
        from sslctl.engine.feed import decode_all

        (x,), kept = decode_all(bare, samples, workers, stream["on_decode_error"])
        return Samples(x, None if y is None else y[kept], spec, note)

    @staticmethod
    def _bare(size: int, channels: int, stream: dict, workers: int) -> ImageModality:
        """A modality without statistics: enough to decode files."""
        return ImageModality({"image_size": size, "channels": channels}, None, stream, workers)

    @staticmethod
    def load_training_samples(data: ImageDataSpec, workers: int | str = "auto") -> Samples:
        return ImageModality._load(
            data.train,
            data.image_size,
            data.channels,
            stream_settings(data),
            resolve_workers(workers),
        )

    @classmethod
    def for_training(
        cls, data: ImageDataSpec, train: Samples, workers: int | str = "auto"
    ) -> ImageModality:
        stream = stream_settings(data)
        if isinstance(train.x, FileSamples):
            from sslctl.engine.feed import decode_all

            mode = _file_mode(train.x.source, data.channels, data.max_image_pixels)
            channels = 1 if mode == "L" else 3
            rows = np.random.default_rng(0).permutation(len(train))[:STATS_IMAGES]
            bare = cls._bare(data.image_size, channels, stream, workers)
            (pixels,), _ = decode_all(
                bare, Samples(train.x[rows], None, train.source), bare.workers, "skip", report=False
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

    def load(self, spec: str) -> Samples:
        """Evaluation data, converted to the channels this encoder was trained on."""
        return self._load(spec, self.size, self.channels, self.stream, self.workers)

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

    def _max_pixels(self) -> int:
        return self.stream.get("max_image_pixels", DEFAULT_MAX_PIXELS)

    def train_decoder(self, plan: ViewPlan) -> ImageTrainDecoder:
        crops = tuple(CropSpec(size, p.crop_scale) for size, p in self._view_specs(plan))
        return ImageTrainDecoder(self._mode(), crops, self._max_pixels())

    def eval_decoder(self) -> ImageEvalDecoder:
        return ImageEvalDecoder(self._mode(), self.size, self._max_pixels())

    def from_decoded(
        self, outputs: tuple[torch.Tensor, ...], device: torch.device, train: bool
    ) -> torch.Tensor | Crops:
        views = [o.to(device, non_blocking=True).float().div_(255) for o in outputs]
        return Crops(views) if train else views[0]

    # ------------------------------------------------------------ views
    def check_views(self, plan: ViewPlan) -> None:
        """Refuse views this data cannot make before the run writes anything."""
        self._params(plan.kind)

    def _params(self, kind: str) -> tuple[ViewParams, ViewParams, ViewParams]:
        a = self.augment_spec
        overrides = spec_overrides(a, ViewParams)
        return tuple(replace(p, **overrides) for p in PRESETS[a.preset or self.view_kinds[kind]])

    def _view_specs(self, plan: ViewPlan) -> list[tuple[int, ViewParams]]:
        """(side, parameters) of every view: global views alternate the preset's first and
        second parameter sets, then the local (multi-crop) views at the smaller side."""
        first, second, local = self._params(plan.kind)
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
        return Views(views, plan.n_global, torch.cat)

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

    def export_checks(self) -> list[torch.Tensor]:
        return [self.export_example(1), self.export_example(3)]
