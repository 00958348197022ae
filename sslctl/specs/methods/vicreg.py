"""The recipe section of `sslctl/methods/vicreg.py`, torch-free: the CLI validates recipes
and prints help without importing the method."""

from __future__ import annotations

from typing import ClassVar, Literal

from pydantic import Field

from sslctl.specs.methods import METHODS
from sslctl.specs.methods.base import HeadSpec, MethodSpec
from sslctl.specs.methods.sigreg import SIGRegOption
from sslctl.views import ViewPlan


@METHODS.register("vicreg")
class VICRegSpec(HeadSpec, SIGRegOption, MethodSpec):
    code: ClassVar[str] = "sslctl.methods.vicreg:VICReg"
    order: ClassVar[int] = 40
    view_plan: ClassVar[ViewPlan] = ViewPlan(kind="asymmetric")
    name: Literal["vicreg"] = Field(description="VICReg (Bardes et al. 2022).")
    proj_hidden: int = Field(
        2048, gt=0, le=65536, description="Expander hidden width (paper: 8192)."
    )
    proj_dim: int = Field(2048, gt=0, le=65536, description="Expander output width (paper: 8192).")
    sim_coeff: float = Field(25.0, ge=0, le=1000, description="Invariance (MSE) weight.")
    std_coeff: float = Field(25.0, ge=0, le=1000, description="Variance hinge weight.")
    cov_coeff: float = Field(1.0, ge=0, le=1000, description="Covariance weight.")
