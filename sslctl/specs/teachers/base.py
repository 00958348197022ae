"""What every teacher kind's recipe section declares besides its fields, torch-free."""

from __future__ import annotations

from typing import ClassVar

from sslctl.specs import PLUGIN_ORDER, Strict


class TeacherSpec(Strict):
    # A teacher kind's recipe section (no docstring: pydantic would give every section its
    # text as schema). `kind` is its one required key; `code` ("module:Class") the
    # TeacherKind that loads it, imported only when distill runs; `order` its place in the
    # schema and error messages (plugins, which leave it, come last); `usage` how a recipe
    # writes it (`run: DIR`), for help text and errors.
    kind: ClassVar[str]
    code: ClassVar[str]
    order: ClassVar[int] = PLUGIN_ORDER
    usage: ClassVar[str]
