"""Method registry: recipe `method.name` -> its recipe section, declared torch-free in
`sslctl/specs/methods/NAME.py` (`@METHODS.register(NAME)`), whose `code` names the Method
class beside its loss in `sslctl/methods/NAME.py`. Importing a section imports neither torch
nor the method. Plugins add theirs through the `sslctl.methods` entry-point group."""

from __future__ import annotations

from typing import TYPE_CHECKING

from sslctl.registry import Registry

if TYPE_CHECKING:
    from sslctl.specs.methods.base import MethodSpec

METHODS: Registry[type[MethodSpec]] = Registry("method", "sslctl.methods", "sslctl.specs.methods")
