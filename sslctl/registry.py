"""One registry per kind of unit (method, modality, encoder, probe protocol, coreset strategy,
teacher kind).

A unit is declared in a torch-free module of its kind's declaration package
(`sslctl/specs/methods/simclr.py`: `@METHODS.register("simclr")` on the method's recipe
section), which names the code that does the work by a "module:attr" string; nothing else
lists it: every module of the declaration package is imported on first use, so a new unit
is one declaration and its code. Packages outside sslctl add units through Python entry
points, one group per kind (`sslctl.methods`, `sslctl.encoders`, `sslctl.probes`,
`sslctl.strategies`, `sslctl.modalities`, `sslctl.teachers`): an entry point names a module
whose import registers the unit. Built-in units are imported first, so a plugin cannot
shadow them; a plugin that fails to import is one warning, not a broken CLI.
"""

from __future__ import annotations

import pkgutil
import sys
from collections.abc import Callable, Iterator
from importlib import import_module, metadata
from typing import Any, Generic, TypeVar

from sslctl.errors import first_line

T = TypeVar("T")


class Registry(Generic[T]):
    """name -> unit. A unit is a declaration, importable without torch (a recipe section's
    class or a small dataclass): its `code` ("module:attr") names what does the work, which
    `load` imports on first use, so listing, validating and `--help` load no model code. Units
    are listed by the `order` each declares (plugins, which leave it, after the built-in
    units), then in registration order: the package's modules alphabetically, then
    plugins."""

    def __init__(self, kind: str, group: str, package: str, folders: bool = False) -> None:
        """`package`: the torch-free package whose every module declares units; `folders`:
        each unit is a sub-package (a modality's folder), so the package's plain modules
        (shared base classes) are not units and are not imported to list them."""
        self.kind, self.group, self.package, self.folders = kind, group, package, folders
        self._units: dict[str, T] = {}
        self._loaded = False

    def register(self, name: str) -> Callable[[T], T]:
        def add(unit: T) -> T:
            if name in self._units and self._units[name] is not unit:
                raise ValueError(f"{self.kind} {name!r} is registered twice")
            self._units[name] = unit
            return unit

        return add

    def _load(self) -> None:
        if self._loaded:
            return
        self._loaded = True
        path = import_module(self.package).__path__
        for found in sorted(
            m.name for m in pkgutil.iter_modules(path) if m.ispkg or not self.folders
        ):
            import_module(f"{self.package}.{found}")
        for entry in metadata.entry_points(group=self.group):
            try:
                entry.load()
            except Exception as exc:  # noqa: BLE001 - a broken plugin must not break sslctl
                reason = first_line(exc)
                print(f"warning: plugin {entry.value} ({self.group}): {reason}", file=sys.stderr)
        ranked = sorted(enumerate(self._units.items()), key=lambda it: (it[1][1].order, it[0]))
        self._units = dict(unit for _, unit in ranked)

    def names(self) -> list[str]:
        self._load()
        return list(self._units)

    def get(self, name: str) -> T:
        self._load()
        return self._units[name]

    def load(self, name: str) -> Any:
        """What the unit's `code` names, imported now (its module may import torch)."""
        return load_attribute(self.get(name).code)

    def __contains__(self, name: str) -> bool:
        self._load()
        return name in self._units

    def items(self) -> Iterator[tuple[str, T]]:
        self._load()
        return iter(list(self._units.items()))


def load_attribute(path: str) -> Any:
    """What a "module:attr" string names, its module imported now."""
    module, attr = path.split(":")
    return getattr(import_module(module), attr)
