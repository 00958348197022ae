"""Encoder registry: any timm model, plus sslctl's own encoders for the other modalities."""

from __future__ import annotations

from sslctl.encoders.base import Encoder
from sslctl.encoders.timm_encoder import build_timm_encoder, create_timm_backbone, load_weights

# sslctl's own encoders, by name -> the modalities they accept
OWN_ENCODERS: dict[str, tuple[str, ...]] = {
    "audio_cnn": ("audio",),
    "dilated_cnn": ("timeseries",),
    "resnet1d": ("timeseries",),
    "patch_tst": ("timeseries",),
    "gin": ("graph",),
    "gcn": ("graph",),
}

__all__ = [
    "OWN_ENCODERS",
    "Encoder",
    "build_timm_encoder",
    "create_timm_backbone",
    "known_encoder",
    "load_weights",
    "suggest_encoders",
]


def known_encoder(name: str) -> bool:
    if name in OWN_ENCODERS:
        return True
    import timm  # only for timm names; see timm_encoder's docstring

    return timm.is_model(name)


def suggest_encoders(name: str) -> str:
    import timm

    from sslctl.errors import suggest

    return suggest(name, list(OWN_ENCODERS) + timm.list_models())
