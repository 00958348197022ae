"""The image data section of a recipe (`data.modality: image`): registered as the modality's data
spec, with the class that reads and augments it."""

from __future__ import annotations

from typing import ClassVar, Literal

from pydantic import Field

from sslctl.modalities import MODALITIES
from sslctl.modalities.image.presets import PRESETS
from sslctl.specs import Location, Scale, StreamSpec, Strict

IMAGE_SUFFIXES = frozenset({".png", ".jpg", ".jpeg", ".bmp", ".gif", ".tif", ".tiff", ".webp"})


PresetName = Literal[tuple(PRESETS)]


class ImageAugSpec(Strict):
    """Overrides of the method's augmentation preset; unset fields keep the preset's value."""

    preset: PresetName | None = Field(
        None, description="Augmentation parameter set; default: the one the method's paper uses."
    )
    crop_scale: Scale | None = Field(
        None, description="Random resized crop area range, as a fraction of the image."
    )
    jitter_prob: float | None = Field(None, ge=0, le=1, description="Colour jitter probability.")
    grayscale_prob: float | None = Field(None, ge=0, le=1, description="Grayscale probability.")
    blur_prob: float | None = Field(None, ge=0, le=1, description="Gaussian blur probability.")
    solarize_prob: float | None = Field(None, ge=0, le=1, description="Solarization probability.")
    local_crops: int | None = Field(
        None, ge=0, le=32, description="DINO multi-crop: number of local crops."
    )


@MODALITIES.register("image")
class ImageDataSpec(StreamSpec):
    order: ClassVar[int] = 10
    code: ClassVar[str] = "sslctl.modalities.image.modality:ImageModality"
    builtin: ClassVar[str | None] = "sslctl.modalities.image.builtin"
    file_suffixes: ClassVar[frozenset[str]] = IMAGE_SUFFIXES
    packer: ClassVar[str | None] = "sslctl.modalities.image.read:pack_arrays"
    view_kinds: ClassVar[dict[str, str]] = {
        "contrastive": "simclr",
        "asymmetric": "byol",
        "multi-crop": "dino",
        "masked": "mae",
        "context-targets": "ijepa",
    }
    modality: Literal["image"] = Field(description="Data modality.")
    train: Location = Field(
        description="Training data: folder (optional class subfolders), list file (.txt one "
        "path per line, or .csv with path[,label]), folder of shards from `sslctl pack`, "
        ".npz with x[/y], or builtin:NAME[:split] (digits, fashion-mnist)."
    )
    image_size: int = Field(
        32, gt=0, le=4096, description="Side of the square images the encoder sees."
    )
    max_image_pixels: int = Field(
        100_000_000,
        gt=0,
        le=10_000_000_000,
        description="Larger images (width x height) are refused as decompression bombs.",
    )
    channels: Literal[1, 3] | None = Field(
        None, description="Force 1 or 3 channels; default: what the data has."
    )
    augment: ImageAugSpec = Field(
        default_factory=ImageAugSpec, description="Augmentation overrides."
    )
