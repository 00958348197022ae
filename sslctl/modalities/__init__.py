"""Modality registry: `data.modality` -> the class that reads, augments and exports that kind.

Each modality's module is imported only when that modality is used, so an image job never
loads the audio, series or graph libraries (torchaudio, soundfile, aeon, networkx,
scikit-image, torch_geometric), and a missing or broken one fails only the modality that needs it.
"""

from __future__ import annotations

from importlib import import_module

from sslctl.errors import UserError
from sslctl.modalities.base import Modality, Samples

# name -> "module:Class"; the module is imported on first use.
MODALITIES: dict[str, str] = {
    "image": "sslctl.modalities.image:ImageModality",
    "audio": "sslctl.modalities.audio:AudioModality",
    "timeseries": "sslctl.modalities.timeseries:TimeSeriesModality",
    "graph": "sslctl.modalities.graph:GraphModality",
}

__all__ = ["MODALITIES", "Modality", "Samples", "get_modality"]


def get_modality(name: str) -> type[Modality]:
    if name not in MODALITIES:
        raise UserError(f"modality: unknown {name!r}; use one of {', '.join(MODALITIES)}")
    module, cls = MODALITIES[name].split(":")
    return getattr(import_module(module), cls)
