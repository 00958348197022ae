"""Decoding image files in worker processes.

Training: every view's random-resized-crop box is drawn from the sample's own generator and
cut from the full-resolution original, then resized to the view's side (as torchvision's
RandomResizedCrop does), so small crops (DINO's local views) keep the detail that a shrunk
copy would have lost. Only fixed-size uint8 arrays leave the worker; flips and photometric
augmentations stay batched on the training device. JPEGs are decoded at a reduced scale (1/2,
1/4, 1/8, by libjpeg's DCT scaling) when every crop of the sample still has at least its
output side in pixels at that scale: far less work for large photos, no loss of detail.

Evaluation: the centre square, resized (bicubic) to the encoder's side; the in-memory path
holds exactly these arrays.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import BinaryIO

import numpy as np

from sslctl.errors import DecodeError

RATIO = (3 / 4, 4 / 3)
DEFAULT_MAX_PIXELS = 100_000_000


@dataclass(frozen=True)
class CropSpec:
    size: int
    scale: tuple[float, float]


def crop_box(
    width: int, height: int, scale: tuple[float, float], rng: np.random.Generator
) -> tuple[int, int, int, int]:
    """(left, top, w, h) of a random crop covering `scale` of the area with aspect ratio in
    3/4..4/3; after 10 draws that do not fit, the centre crop at the nearest allowed ratio."""
    area = width * height
    log_lo, log_hi = math.log(RATIO[0]), math.log(RATIO[1])
    for _ in range(10):
        target = area * rng.uniform(*scale)
        aspect = math.exp(rng.uniform(log_lo, log_hi))
        w = int(round(math.sqrt(target * aspect)))
        h = int(round(math.sqrt(target / aspect)))
        if 0 < w <= width and 0 < h <= height:
            return int(rng.integers(0, width - w + 1)), int(rng.integers(0, height - h + 1)), w, h
    ratio = width / height
    if ratio < RATIO[0]:
        w, h = width, int(round(width / RATIO[0]))
    elif ratio > RATIO[1]:
        w, h = int(round(height * RATIO[1])), height
    else:
        w, h = width, height
    return (width - w) // 2, (height - h) // 2, w, h


def open_image(fh: BinaryIO, max_pixels: int):
    """The image (header read, nothing decoded), refused when larger than `max_pixels`:
    a few kB of PNG can claim 20000 x 20000 pixels. PIL's own guard is replaced by this one,
    so the limit is the recipe's (`data.max_image_pixels`) and the error one line."""
    from PIL import Image

    Image.MAX_IMAGE_PIXELS = None
    img = Image.open(fh)
    width, height = img.size
    if width * height > max_pixels:
        img.close()
        raise DecodeError(
            f"image of {width}x{height} pixels exceeds data.max_image_pixels ({max_pixels})"
        )
    return img


def _to_8bit(img):
    """16-bit and 32-bit integer images are scaled to 8 bits (value / 257), float images in
    [0, 1] to 0..255; converting them as PIL does would clip everything above 255 to white
    and every float below 1 to black. NaN, inf or out-of-range values are refused."""
    from PIL import Image

    if img.mode.startswith("I"):
        arr = np.asarray(img, dtype=np.float64)
        if arr.min() < 0 or arr.max() > 65535:
            raise DecodeError("integer pixels outside 0..65535")
        return Image.fromarray(np.round(arr / 257).astype(np.uint8), "L")
    if img.mode == "F":
        arr = np.asarray(img, dtype=np.float64)
        if not np.isfinite(arr).all():
            raise DecodeError("float image holds NaN or inf pixels")
        if arr.min() < 0 or arr.max() > 1:
            raise DecodeError("float pixels outside [0, 1]")
        return Image.fromarray(np.round(arr * 255).astype(np.uint8), "L")
    return img


def _prepare(img, mode: str, boxes: list[tuple[int, int, int, int]], sizes: list[int]):
    """`img` (just opened), drafted down as far as every box allows and converted to `mode`,
    and the factor that box coordinates shrink by."""
    width = img.size[0]
    if img.format == "JPEG":
        room = min(min(w, h) / size for (_, _, w, h), size in zip(boxes, sizes, strict=True))
        reduce = max((r for r in (1, 2, 4, 8) if r <= room), default=1)
        if reduce > 1:
            img.draft(mode, (-(-img.size[0] // reduce), -(-img.size[1] // reduce)))
    img = _to_8bit(img).convert(mode)
    return img, width / img.size[0]


def _array(img) -> np.ndarray:
    arr = np.asarray(img, dtype=np.uint8)
    return arr[None] if arr.ndim == 2 else arr.transpose(2, 0, 1)


@dataclass(frozen=True)
class ImageTrainDecoder:
    """One uint8 (C, size, size) array per view, each from its own crop of the original."""

    mode: str  # "L" or "RGB"
    crops: tuple[CropSpec, ...]
    max_pixels: int = DEFAULT_MAX_PIXELS

    def __call__(self, fh: BinaryIO, rng: np.random.Generator | None) -> tuple[np.ndarray, ...]:
        from PIL import Image

        with open_image(fh, self.max_pixels) as opened:
            width, height = opened.size
            boxes = [crop_box(width, height, c.scale, rng) for c in self.crops]
            img, shrink = _prepare(opened, self.mode, boxes, [c.size for c in self.crops])
        out = []
        for (left, top, w, h), crop in zip(boxes, self.crops, strict=True):
            box = (left / shrink, top / shrink, (left + w) / shrink, (top + h) / shrink)
            out.append(_array(img.resize((crop.size, crop.size), Image.BILINEAR, box=box)))
        return tuple(out)


@dataclass(frozen=True)
class ImageEvalDecoder:
    """The centre square resized to (size, size): one uint8 (C, size, size) array."""

    mode: str
    size: int
    max_pixels: int = DEFAULT_MAX_PIXELS

    def __call__(self, fh: BinaryIO, rng: np.random.Generator | None) -> tuple[np.ndarray, ...]:
        from PIL import Image

        with open_image(fh, self.max_pixels) as opened:
            width, height = opened.size
            side = min(width, height)
            box = ((width - side) // 2, (height - side) // 2, side, side)
            img, shrink = _prepare(opened, self.mode, [box], [self.size])
        left, top = box[0] / shrink, box[1] / shrink
        crop = (left, top, left + side / shrink, top + side / shrink)
        return (_array(img.resize((self.size, self.size), Image.BICUBIC, box=crop)),)
