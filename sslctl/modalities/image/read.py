"""Every image source loader: .npz arrays and builtin sets (held in memory as uint8 NCHW), and
file sources (folders, list files, shards), streamed or decoded once into memory."""

from __future__ import annotations

import io
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from sslctl.errors import UserError
from sslctl.modalities.base import Samples, StreamedSamples
from sslctl.modalities.image.decode import DEFAULT_MAX_PIXELS, ImageEvalDecoder, open_image
from sslctl.modalities.image.spec import IMAGE_SUFFIXES, ImageDataSpec
from sslctl.sources.files import FileSource, open_file_source
from sslctl.sources.npz import npz_source, open_npz
from sslctl.sources.stream import (
    FileSamples,
    StreamSettings,
    choose_streaming,
    decode_all,
)


@dataclass(frozen=True)
class ImageStreamSettings(StreamSettings):
    """Images add the decoder's pixel limit (a decompression bomb is refused before it is
    decoded)."""

    max_image_pixels: int = DEFAULT_MAX_PIXELS

    @classmethod
    def of(cls, data: ImageDataSpec) -> ImageStreamSettings:
        return cls(data.cache, data.cache_budget_mb, data.on_decode_error, data.max_image_pixels)


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


def array_samples(source: str, channels: int | None) -> Samples:
    if source.startswith("builtin:"):
        from sslctl.modalities.image.builtin import load_builtin_images

        x, y = load_builtin_images(source)
    else:
        x, y = _read_npz(npz_source(source, "image"))
    if len(x) == 0:
        raise UserError(f"{source}: no samples")
    images = _convert_channels(torch.from_numpy(np.ascontiguousarray(x)), channels)
    return Samples(images, None if y is None else torch.from_numpy(y), source)


def file_mode(source: FileSource, channels: int | None, max_pixels: int) -> str:
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


def load_images(
    source: str, size: int, channels: int | None, stream: ImageStreamSettings, workers: int
) -> Samples:
    """Any image source at `size`: arrays as they are (channels converted when forced), files
    streamed or decoded into memory as `stream.cache` says."""
    files = open_file_source(source, IMAGE_SUFFIXES, "image")
    if files is None:
        return array_samples(source, channels)
    mode = file_mode(files, channels, stream.max_image_pixels)
    y = None if files.labels is None else torch.from_numpy(files.labels)
    streamed, note = choose_streaming(files, stream, (1 if mode == "L" else 3) * size**2, "image")
    listed, classes = FileSamples(files), files.classes or None
    if streamed:
        return StreamedSamples(listed, y, source, note, classes, None, files)
    decoder = ImageEvalDecoder(mode, size, stream.max_image_pixels)
    (x,), kept = decode_all(listed, decoder, workers, stream.on_decode_error)
    return Samples(x, None if y is None else y[kept], source, note, classes, kept, files)


def pack_arrays(source: str) -> tuple[int, np.ndarray | None, Callable[[int], tuple[str, bytes]]]:
    """An array source (.npz, builtin) for `sslctl pack`: (samples, labels, sample i as
    ("png", PNG bytes))."""
    from PIL import Image

    samples = array_samples(source, None)
    x = samples.x.numpy()

    def get(i: int) -> tuple[str, bytes]:
        img = x[i, 0] if x.shape[1] == 1 else x[i].transpose(1, 2, 0)
        buf = io.BytesIO()
        Image.fromarray(img).save(buf, format="PNG")
        return "png", buf.getvalue()

    return len(x), None if samples.y is None else samples.y.numpy(), get
