"""The recipe section of `sslctl/methods/barlow.py`, torch-free: the CLI validates recipes
and prints help without importing the method."""

from __future__ import annotations

from typing import ClassVar, Literal

from pydantic import Field

from sslctl.specs.methods import METHODS
from sslctl.specs.methods.base import HeadSpec, MethodSpec
from sslctl.specs.methods.sigreg import SIGRegOption
from sslctl.views import ViewPlan


@METHODS.register("barlow")
class BarlowSpec(HeadSpec, SIGRegOption, MethodSpec):
    code: ClassVar[str] = "sslctl.methods.barlow:BarlowTwins"
    order: ClassVar[int] = 30
    view_plan: ClassVar[ViewPlan] = ViewPlan(kind="asymmetric")
    name: Literal["barlow"] = Field(description="Barlow Twins (Zbontar et al. 2021).")
    proj_hidden: int = Field(
        2048, gt=0, le=65536, description="Projector hidden width (paper: 8192)."
    )
    proj_dim: int = Field(2048, gt=0, le=65536, description="Projector output width (paper: 8192).")
    lambd: float = Field(
        0.0051, gt=0, le=1, description="Weight of the off-diagonal redundancy term."
    )
