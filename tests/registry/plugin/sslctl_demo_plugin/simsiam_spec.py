"""SimSiam's recipe section, torch-free, naming its code (sslctl_demo_plugin.simsiam)."""

from __future__ import annotations

from typing import ClassVar, Literal

from pydantic import Field

from sslctl.specs.methods import METHODS
from sslctl.specs.methods.base import HeadSpec, MethodSpec
from sslctl.views import ViewPlan


@METHODS.register("simsiam")
class SimSiamSpec(HeadSpec, MethodSpec):
    code: ClassVar[str] = "sslctl_demo_plugin.simsiam:SimSiam"
    view_plan: ClassVar[ViewPlan] = ViewPlan(kind="contrastive")
    name: Literal["simsiam"] = Field(description="SimSiam (Chen & He 2021), from a plugin.")
    pred_hidden: int = Field(512, gt=0, le=65536, description="Predictor bottleneck width.")
