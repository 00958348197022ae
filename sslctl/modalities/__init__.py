"""Modality registry: `data.modality` -> the module that reads, augments and exports that kind."""

from __future__ import annotations

from sslctl.modalities.audio import AudioModality
from sslctl.modalities.base import Modality, Samples
from sslctl.modalities.graph import GraphModality
from sslctl.modalities.image import ImageModality
from sslctl.modalities.timeseries import TimeSeriesModality

MODALITIES: dict[str, type[Modality]] = {
    "image": ImageModality,
    "audio": AudioModality,
    "timeseries": TimeSeriesModality,
    "graph": GraphModality,
}

__all__ = ["MODALITIES", "Modality", "Samples", "get_modality"]


def get_modality(name: str) -> type[Modality]:
    return MODALITIES[name]
