"""Method registry: recipe `method.name` -> its class, registered beside its code
(`@METHODS.register(NAME)`), with its recipe section as the class's `Spec`. A new method is one
file; plugins add theirs through the `sslctl.methods` entry-point group."""

from __future__ import annotations

from typing import TYPE_CHECKING

from sslctl.registry import Registry

if TYPE_CHECKING:
    from sslctl.encoders.base import Encoder
    from sslctl.methods.base import Method

METHODS: Registry[type[Method]] = Registry(
    "method",
    "sslctl.methods",
    "sslctl.methods",
    first=("simclr", "byol", "barlow", "vicreg", "dino", "mae", "ts2vec", "masked_series",
           "graphmae", "graphcl", "lejepa", "jepa", "distill"),
)  # fmt: skip


def build_method(spec, encoder: Encoder) -> Method:
    return METHODS.get(spec.name).build(spec, encoder)
