"""The recipe section of `sslctl/methods/graphmae.py`, torch-free: the CLI validates recipes
and prints help without importing the method."""

from __future__ import annotations

from typing import ClassVar, Literal

from pydantic import Field

from sslctl.specs.methods import METHODS
from sslctl.specs.methods.base import MethodSpec
from sslctl.views import ViewPlan


@METHODS.register("graphmae")
class GraphMAESpec(MethodSpec):
    code: ClassVar[str] = "sslctl.methods.graphmae:GraphMAE"
    order: ClassVar[int] = 90
    view_plan: ClassVar[ViewPlan] = ViewPlan(n_global=1, kind="masked")
    name: Literal["graphmae"] = Field(
        description="GraphMAE masked feature reconstruction (Hou et al. 2022); graphs only."
    )
    mask_rate: float = Field(0.5, gt=0, lt=1, description="Share of nodes masked.")
    replace_rate: float = Field(
        0.1,
        ge=0,
        lt=1,
        description="Share of masked nodes given another node's features instead of the "
        "[MASK] token.",
    )
    alpha: float = Field(
        2.0, ge=1, le=10, description="Scaled cosine error exponent (official alpha_l)."
    )
    drop_edge_rate: float = Field(
        0.0, ge=0, lt=1, description="Edges dropped from the encoder's graph each step."
    )
