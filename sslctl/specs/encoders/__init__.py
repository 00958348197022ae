"""Encoder registry: any timm model, plus sslctl's own backbones, each declared torch-free in
`sslctl/specs/encoders/NAME.py` as an `OwnEncoder` (the modality whose input it takes, and
the function in `sslctl/encoders/` that builds it from that modality's input spec). Plugins
add theirs through the `sslctl.encoders` entry-point group."""

from __future__ import annotations

from dataclasses import dataclass

from sslctl.registry import Registry
from sslctl.specs import PLUGIN_ORDER


@dataclass(frozen=True)
class OwnEncoder:
    """`code` ("module:function"): `build(input_spec, kwargs)`, the backbone for a modality's
    input spec (what encoder.json records: channels, n_mels, features ...) and the recipe's
    `encoder.kwargs`; `order`: its place in listings."""

    modality: str
    code: str
    order: int = PLUGIN_ORDER


ENCODERS: Registry[OwnEncoder] = Registry("encoder", "sslctl.encoders", "sslctl.specs.encoders")


def own_encoders(modality: str) -> list[str]:
    """sslctl's own backbones for one modality, in registration order."""
    return [name for name, unit in ENCODERS.items() if unit.modality == modality]


def known_encoder(name: str) -> bool:
    from sslctl.timm_names import is_timm_model

    return name in ENCODERS or is_timm_model(name)


def suggest_encoders(name: str) -> str:
    from sslctl.errors import suggest
    from sslctl.timm_names import timm_model_names

    return suggest(name, ENCODERS.names() + sorted(timm_model_names()))
