"""One registry per kind of unit (method, modality, encoder, probe protocol, coreset strategy,
teacher kind).

A unit registers itself beside its code (`@PROBES.register("knn")`), as timm's
`@register_model` does; nothing else lists it: every module of the kind's package is imported
on first use, so a new unit is one new file. Packages outside sslctl add units through
Python entry points, one group per kind (`sslctl.methods`, `sslctl.encoders`, `sslctl.probes`,
`sslctl.strategies`, `sslctl.modalities`, `sslctl.teachers`): an entry point names a module
(or object) whose import registers the unit. Built-in units are imported first, so a plugin
cannot shadow them; a plugin that fails to import is one warning, not a broken CLI.
"""

from __future__ import annotations

import pkgutil
import sys
from collections.abc import Callable, Iterator
from importlib import import_module, metadata
from typing import Generic, TypeVar

from sslctl.errors import first_line

T = TypeVar("T")


class Registry(Generic[T]):
    """name -> unit, in registration order: the modules named in `first` (the order users
    already see in the schema, `recipe list` and error messages), then the package's other
    modules alphabetically, then plugins."""

    def __init__(
        self,
        kind: str,
        group: str,
        package: str,
        first: tuple[str, ...] = (),
        folders: bool = False,
    ) -> None:
        """`folders`: each unit is a sub-package (a modality's folder), so the package's plain
        modules (shared base classes) are not units and are not imported to list them."""
        self.kind, self.group, self.package, self.first = kind, group, package, first
        self.folders = folders
        self._units: dict[str, T] = {}
        self._modules: dict[str, str] = {}
        self._loaded = False

    def register(self, name: str) -> Callable[[T], T]:
        module = sys._getframe(1).f_globals.get("__name__", "?")  # the unit's own module

        def add(unit: T) -> T:
            if name in self._units and self._units[name] is not unit:
                raise ValueError(f"{self.kind} {name!r} is registered twice")
            self._units[name] = unit
            self._modules[name] = module
            return unit

        return add

    def _load(self) -> None:
        if self._loaded:
            return
        self._loaded = True
        path = import_module(self.package).__path__
        found = sorted(m.name for m in pkgutil.iter_modules(path) if m.ispkg or not self.folders)
        for module in [*self.first, *(m for m in found if m not in self.first)]:
            import_module(f"{self.package}.{module}")
        for entry in metadata.entry_points(group=self.group):
            try:
                entry.load()
            except Exception as exc:  # noqa: BLE001 - a broken plugin must not break sslctl
                reason = first_line(exc)
                print(f"warning: plugin {entry.value} ({self.group}): {reason}", file=sys.stderr)

    def names(self) -> list[str]:
        self._load()
        return list(self._units)

    def get(self, name: str) -> T:
        self._load()
        return self._units[name]

    def module(self, name: str) -> str:
        """The module that registered `name` (a plugin's shows its package)."""
        self._load()
        return self._modules[name]

    def __contains__(self, name: str) -> bool:
        self._load()
        return name in self._units

    def items(self) -> Iterator[tuple[str, T]]:
        self._load()
        return iter(list(self._units.items()))
