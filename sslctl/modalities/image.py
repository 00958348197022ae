"""Images: folders, .npz arrays and builtin datasets, held in memory as uint8 (N, C, H, W).

Views are made on the training device by `image_augment`; the encoder takes floats in [0, 1]
and normalises inside itself, so exports and distillation teachers carry their own statistics.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F

from sslctl.encoders import Encoder, build_timm_encoder
from sslctl.errors import UserError
from sslctl.modalities.base import Samples, ViewPlan, require_teacher_input, spec_overrides
from sslctl.modalities.folders import folder_labels, list_files, open_npz
from sslctl.modalities.image_augment import PRESETS, ViewParams, augment
from sslctl.recipe import EncoderSpec, ImageAugSpec, ImageDataSpec

IMAGE_SUFFIXES = {".png", ".jpg", ".jpeg", ".bmp", ".gif", ".tif", ".tiff", ".webp"}


def _decode(path: Path, mode: str, size: int) -> np.ndarray:
    from PIL import Image, UnidentifiedImageError

    try:
        with Image.open(path) as img:
            img = img.convert(mode)
            side = min(img.size)
            left, top = (img.width - side) // 2, (img.height - side) // 2
            img = img.crop((left, top, left + side, top + side)).resize((size, size))
            arr = np.asarray(img, dtype=np.uint8)
    except (UnidentifiedImageError, OSError, ValueError) as exc:
        raise UserError(f"{path}: cannot decode image ({exc.__class__.__name__})") from None
    return arr[None] if arr.ndim == 2 else arr.transpose(2, 0, 1)


def _read_folder(
    root: Path, size: int, channels: int | None
) -> tuple[np.ndarray, np.ndarray | None]:
    files = list_files(root, IMAGE_SUFFIXES, "image")
    mode = "L" if channels == 1 else "RGB"
    if channels is None:
        from PIL import Image

        with Image.open(files[0]) as first:
            mode = "L" if first.mode in ("L", "1", "I", "I;16") else "RGB"
    x = np.stack([_decode(p, mode, size) for p in files])
    return x, folder_labels(root, files)


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
        if x.min() < 0 or x.max() > 1:
            raise UserError(f"{path}: float images must lie in [0, 1]")
        x = np.round(x * 255).astype(np.uint8)
    y = arrays["y"].astype(np.int64) if "y" in arrays else None
    if y is not None and len(y) != len(x):
        raise UserError(f"{path}: y has {len(y)} labels for {len(x)} images")
    return x, y


def load_images(spec: str, size: int, channels: int | None) -> Samples:
    if spec.startswith("builtin:"):
        from sslctl.datasets.builtin import load_builtin_images

        x, y = load_builtin_images(spec)
    else:
        path = Path(spec)
        if not path.exists():
            raise UserError(f"{path}: data path not found")
        x, y = _read_npz(path) if path.suffix == ".npz" else _read_folder(path, size, channels)
    if len(x) == 0:
        raise UserError(f"{spec}: no samples")
    images = torch.from_numpy(np.ascontiguousarray(x))
    if channels == 3 and images.shape[1] == 1:
        images = images.expand(-1, 3, -1, -1).contiguous()
    elif channels == 1 and images.shape[1] == 3:
        weights = torch.tensor([0.299, 0.587, 0.114]).view(1, 3, 1, 1)
        images = (images.float() * weights).sum(1, keepdim=True).round().to(torch.uint8)
    return Samples(images, None if y is None else torch.from_numpy(y), spec)


class ImageModality:
    """Built from a data spec for training, or from encoder.json's input spec for a saved run."""

    export_axes = {0: "batch"}

    def __init__(self, input_spec: dict[str, Any], augment_spec: ImageAugSpec | None = None):
        self.input_spec = input_spec
        self.size = int(input_spec["image_size"])
        self.channels = int(input_spec["channels"])
        self.augment_spec = augment_spec or ImageAugSpec()

    @classmethod
    def for_training(cls, data: ImageDataSpec, train: Samples) -> ImageModality:
        pixels = train.x[: min(len(train), 10000)].float() / 255
        mean = pixels.mean(dim=(0, 2, 3)).tolist()
        std = pixels.std(dim=(0, 2, 3)).clamp(min=1e-3).tolist()
        spec = {
            "modality": "image",
            "channels": int(train.x.shape[1]),
            "image_size": data.image_size,
            "layout": "NCHW",
            "dtype": "float32",
            "range": [0.0, 1.0],
            "mean": mean,
            "std": std,
        }
        return cls(spec, data.augment)

    @staticmethod
    def load_training_samples(data: ImageDataSpec) -> Samples:
        return load_images(data.train, data.image_size, data.channels)

    def load(self, spec: str) -> Samples:
        """Evaluation data, converted to the channels this encoder was trained on."""
        return load_images(spec, self.size, self.channels)

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

    def _params(self, preset: str) -> tuple[ViewParams, ViewParams, ViewParams]:
        a = self.augment_spec
        overrides = spec_overrides(a, ViewParams)
        return tuple(replace(p, **overrides) for p in PRESETS[a.preset or preset])

    def views(self, x: torch.Tensor, plan: ViewPlan) -> list[torch.Tensor]:
        first, second, local = self._params(plan.preset)
        views = [
            augment(x, self.size, first if i % 2 == 0 else second) for i in range(plan.n_global)
        ]
        n_local = (
            plan.n_local if self.augment_spec.local_crops is None else self.augment_spec.local_crops
        )
        local_size = max(8, int(round(self.size * plan.local_size_ratio)))
        views += [augment(x, local_size, local) for _ in range(n_local)]
        return views

    def student_of(self, teacher: ImageModality) -> ImageModality:
        """Pixel views in [0, 1]; each encoder standardises with its own statistics."""
        require_teacher_input(self.input_spec, teacher.input_spec, ("channels", "image_size"))
        return self

    def build_encoder(self, spec: EncoderSpec) -> Encoder:
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
