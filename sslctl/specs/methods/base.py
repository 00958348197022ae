"""What every method's recipe section declares besides its fields, torch-free: the registry,
`sslctl recipe validate` and the CLI read it without importing the method's code."""

from __future__ import annotations

from typing import ClassVar

from pydantic import Field

from sslctl.specs import PLUGIN_ORDER, Strict
from sslctl.views import ViewPlan


class MethodSpec(Strict):
    # A `method` section (no docstring: pydantic would give every section its text as schema).
    # `code` ("module:Class") names the Method built from it, imported only when a job builds
    # it; `view_plan` the views it asks for (their kind is checked against the data's modality
    # when the recipe is validated; a method may set the counts from its fields when built);
    # `needs_teacher`: it learns from a frozen teacher (recipe `teacher`, `sslctl distill`);
    # `order`: where it stands in the schema, `recipe list` and error messages (plugins,
    # which leave it, come after the built-in methods).
    code: ClassVar[str]
    view_plan: ClassVar[ViewPlan] = ViewPlan()
    needs_teacher: ClassVar[bool] = False
    order: ClassVar[int] = PLUGIN_ORDER


class HeadSpec(Strict):
    # the projector settings several methods share (a base: not a section of its own)
    proj_hidden: int = Field(2048, gt=0, le=65536, description="Projector hidden width.")
    proj_dim: int = Field(128, gt=0, le=65536, description="Projector output width.")
