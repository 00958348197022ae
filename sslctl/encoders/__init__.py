"""Encoder registry: name -> builder. Images use any timm model; later modalities add names here."""

from __future__ import annotations

import timm

from sslctl.encoders.base import Encoder
from sslctl.encoders.timm_encoder import build_timm_encoder

__all__ = ["Encoder", "build_timm_encoder", "known_encoder", "suggest_encoders"]


def known_encoder(name: str) -> bool:
    return timm.is_model(name)


def suggest_encoders(name: str) -> str:
    from sslctl.recipe import suggest

    return suggest(name, timm.list_models())
