"""timm backbones, always randomly initialised or loaded from a local file (never the hub).

timm is imported where a backbone is built, not at module import: it pulls in torchvision and
torch._dynamo (2.5 s on a 2-core CPU), which every command on an audio-CNN, series or graph run
would otherwise pay."""

from __future__ import annotations

from pathlib import Path

import torch

from sslctl.encoders.base import Encoder, Normalize
from sslctl.errors import UserError


def create_timm_backbone(
    name: str, in_chans: int, img_size: int | tuple[int, int], kwargs: dict | None = None
) -> torch.nn.Module:
    """A headless timm model (num_classes=0) for `in_chans` x `img_size` inputs."""
    import timm

    base = dict(pretrained=False, num_classes=0, in_chans=in_chans, **(kwargs or {}))
    try:
        try:
            return timm.create_model(name, img_size=img_size, **base)
        except TypeError:  # CNNs take no img_size
            return timm.create_model(name, **base)
    except (RuntimeError, ValueError, AssertionError, TypeError) as exc:
        raise UserError(
            f"encoder: cannot build {name} for {in_chans}x{img_size} inputs: {exc}"
        ) from None


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
    backbone = create_timm_backbone(name, in_chans, img_size, kwargs)
    if weights:
        load_weights(backbone, weights)
    return Encoder(Normalize(mean, std), backbone, int(backbone.num_features))
