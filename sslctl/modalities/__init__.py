"""Modality registry: `data.modality` -> its data spec, registered in the modality's folder
(sslctl/modalities/NAME/spec.py, pydantic only), whose `code` ("module:Class") names
the class that reads, augments and exports that kind.

That class's module is imported only when the modality is used, so an image job never loads
the audio, series or graph libraries (torchaudio, soundfile, aeon, networkx, scikit-image,
torch_geometric), and a missing or broken one fails only the modality that needs it. A new
modality is one folder; plugins add theirs through the `sslctl.modalities` entry-point group.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from sslctl.errors import UserError
from sslctl.registry import Registry

if TYPE_CHECKING:
    from sslctl.modalities.base import Modality

MODALITIES: Registry[Any] = Registry(
    "modality", "sslctl.modalities", "sslctl.modalities", folders=True
)


def get_modality(name: str) -> type[Modality]:
    if name not in MODALITIES:
        raise UserError(f"modality: unknown {name!r}; use one of {', '.join(MODALITIES.names())}")
    return MODALITIES.load(name)
