"""The recipe section of `sslctl/methods/byol.py`, torch-free: the CLI validates recipes
and prints help without importing the method."""

from __future__ import annotations

from typing import ClassVar, Literal

from pydantic import Field

from sslctl.specs.methods import METHODS
from sslctl.specs.methods.base import HeadSpec, MethodSpec
from sslctl.specs.methods.sigreg import SIGRegOption
from sslctl.views import ViewPlan


@METHODS.register("byol")
class BYOLSpec(HeadSpec, SIGRegOption, MethodSpec):
    code: ClassVar[str] = "sslctl.methods.byol:BYOL"
    order: ClassVar[int] = 20
    view_plan: ClassVar[ViewPlan] = ViewPlan(kind="asymmetric")
    name: Literal["byol"] = Field(description="BYOL: predictor + EMA target (Grill et al. 2020).")
    proj_hidden: int = Field(
        4096, gt=0, le=65536, description="Projector and predictor hidden width."
    )
    proj_dim: int = Field(256, gt=0, le=65536, description="Projector output width.")
    momentum: float = Field(
        0.996, gt=0, lt=1, description="Base EMA momentum, cosine-increased to 1 over training."
    )
