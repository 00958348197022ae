"""timm backbones, always randomly initialised or loaded from a local file (never the hub)."""

from __future__ import annotations

from pathlib import Path

import timm
import torch

from sslctl.encoders.base import Encoder, Normalize
from sslctl.errors import UserError


def _create(name: str, in_chans: int, img_size: int, kwargs: dict) -> torch.nn.Module:
    base = dict(pretrained=False, num_classes=0, in_chans=in_chans, **kwargs)
    try:
        return timm.create_model(name, img_size=img_size, **base)
    except TypeError:  # CNNs take no img_size
        return timm.create_model(name, **base)


def load_weights(module: torch.nn.Module, path: str) -> None:
    """Initialise from a local .safetensors or .pt state dict; missing files are user errors."""
    file = Path(path)
    if not file.is_file():
        raise UserError(f"encoder.weights: file not found: {file}")
    if file.suffix == ".safetensors":
        from safetensors.torch import load_file

        state = load_file(str(file))
    else:
        state = torch.load(file, map_location="cpu", weights_only=True)
    missing, unexpected = module.load_state_dict(state, strict=False)
    if unexpected or len(missing) == len(list(module.state_dict())):
        raise UserError(f"encoder.weights: {file} does not match the encoder's parameters")


def build_timm_encoder(
    name: str,
    in_chans: int,
    img_size: int,
    mean: list[float],
    std: list[float],
    kwargs: dict | None = None,
    weights: str | None = None,
) -> Encoder:
    try:
        backbone = _create(name, in_chans, img_size, dict(kwargs or {}))
    except (RuntimeError, ValueError, AssertionError) as exc:
        raise UserError(
            f"encoder: cannot build {name} for {in_chans}x{img_size}px: {exc}"
        ) from None
    if weights:
        load_weights(backbone, weights)
    return Encoder(Normalize(mean, std), backbone, int(backbone.num_features))
