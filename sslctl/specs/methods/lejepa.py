"""The recipe section of `sslctl/methods/lejepa.py`, torch-free: the CLI validates recipes
and prints help without importing the method."""

from __future__ import annotations

from typing import ClassVar, Literal

from pydantic import Field

from sslctl.specs.methods import METHODS
from sslctl.specs.methods.base import HeadSpec, MethodSpec
from sslctl.specs.methods.sigreg import SLICES
from sslctl.views import ViewPlan


@METHODS.register("lejepa")
class LeJEPASpec(HeadSpec, MethodSpec):
    code: ClassVar[str] = "sslctl.methods.lejepa:LeJEPA"
    order: ClassVar[int] = 110
    view_plan: ClassVar[ViewPlan] = ViewPlan(kind="contrastive")
    name: Literal["lejepa"] = Field(
        description="LeJEPA: views predict their mean, SIGReg keeps embeddings Gaussian "
        "(Balestriero & LeCun 2025); no teacher, no stop-gradient."
    )
    proj_dim: int = Field(16, gt=0, le=65536, description="Projector output width (paper: 16).")
    views: int = Field(4, ge=2, le=16, description="Augmented views per sample (paper: 4).")
    lamb: float = Field(
        0.02, ge=0, le=1, description="SIGReg's share of the loss, the one trade-off (0.02)."
    )
    slices: int = Field(
        SLICES, gt=0, le=4096, description="Random directions SIGReg tests along per step."
    )
