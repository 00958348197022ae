"""The methods' code, one module per method beside its loss; each method's recipe section and
registration are in `sslctl/specs/methods/` (torch-free), which names its class here."""

from __future__ import annotations

from typing import TYPE_CHECKING

from sslctl.specs.methods import METHODS

if TYPE_CHECKING:
    from sslctl.encoders.base import Encoder
    from sslctl.methods.base import Method
    from sslctl.specs.methods.base import MethodSpec


def build_method(spec: MethodSpec, encoder: Encoder) -> Method:
    """The Method for a recipe's `method` section on one encoder (its code imported now)."""
    return METHODS.load(spec.name).build(spec, encoder)
