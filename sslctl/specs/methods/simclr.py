"""The recipe section of `sslctl/methods/simclr.py`, torch-free: the CLI validates recipes
and prints help without importing the method."""

from __future__ import annotations

from typing import ClassVar, Literal

from pydantic import Field

from sslctl.specs.methods import METHODS
from sslctl.specs.methods.base import HeadSpec, MethodSpec
from sslctl.specs.methods.sigreg import SIGRegOption
from sslctl.views import ViewPlan


@METHODS.register("simclr")
class SimCLRSpec(HeadSpec, SIGRegOption, MethodSpec):
    code: ClassVar[str] = "sslctl.methods.simclr:SimCLR"
    order: ClassVar[int] = 10
    view_plan: ClassVar[ViewPlan] = ViewPlan(kind="contrastive")
    name: Literal["simclr"] = Field(
        description="SimCLR: NT-Xent over two views (Chen et al. 2020)."
    )
    temperature: float = Field(0.2, gt=0, le=100, description="Softmax temperature of NT-Xent.")
