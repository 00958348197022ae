"""Encoder registry: any timm model, plus sslctl's own backbones, each registered beside its
code as an `OwnEncoder` (the modality whose input it takes and how to build it from that
modality's input spec). Plugins add theirs through the `sslctl.encoders` entry-point group."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from sslctl.registry import Registry

if TYPE_CHECKING:
    from torch import nn


@dataclass(frozen=True)
class OwnEncoder:
    """`build(input_spec, kwargs)`: the backbone for a modality's input spec (what encoder.json
    records: channels, n_mels, features ...) and the recipe's `encoder.kwargs`."""

    modality: str
    build: Callable[[dict[str, Any], dict[str, Any]], nn.Module]


ENCODERS: Registry[OwnEncoder] = Registry(
    "encoder",
    "sslctl.encoders",
    "sslctl.encoders",
    first=("audio_cnn", "dilated_cnn", "resnet1d", "patch_tst", "gnn"),
)


def own_encoders(modality: str) -> list[str]:
    """sslctl's own backbones for one modality, in registration order."""
    return [name for name, unit in ENCODERS.items() if unit.modality == modality]


def known_encoder(name: str) -> bool:
    if name in ENCODERS:
        return True
    import timm  # only for timm names; see timm_encoder's docstring

    return timm.is_model(name)


def suggest_encoders(name: str) -> str:
    import timm

    from sslctl.errors import suggest

    return suggest(name, ENCODERS.names() + timm.list_models())
