"""Modality registry: `data.modality` -> the module that reads, augments and exports that kind."""

from __future__ import annotations

from sslctl.modalities.base import Modality, Samples
from sslctl.modalities.image import ImageModality

MODALITIES: dict[str, type[Modality]] = {"image": ImageModality}

__all__ = ["MODALITIES", "Modality", "Samples", "get_modality"]


def get_modality(name: str) -> type[Modality]:
    return MODALITIES[name]
