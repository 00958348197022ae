"""The recipe section of `sslctl/methods/graphcl.py`, torch-free: the CLI validates recipes
and prints help without importing the method."""

from __future__ import annotations

from typing import ClassVar, Literal

from pydantic import Field

from sslctl.specs.methods import METHODS
from sslctl.specs.methods.base import HeadSpec, MethodSpec
from sslctl.views import ViewPlan


@METHODS.register("graphcl")
class GraphCLSpec(HeadSpec, MethodSpec):
    code: ClassVar[str] = "sslctl.methods.graphcl:GraphCL"
    order: ClassVar[int] = 100
    view_plan: ClassVar[ViewPlan] = ViewPlan(kind="graph-perturbation")
    name: Literal["graphcl"] = Field(
        description="GraphCL (You et al. 2020): NT-Xent between two augmented graph views, "
        "negatives from the other view."
    )
    proj_hidden: int = Field(128, gt=0, le=65536, description="Projection head hidden width.")
    proj_dim: int = Field(128, gt=0, le=65536, description="Projection head output width.")
    temperature: float = Field(0.2, gt=0, le=100, description="Softmax temperature.")
