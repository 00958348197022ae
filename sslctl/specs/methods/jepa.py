"""The recipe section of `sslctl/methods/jepa.py`, torch-free: the CLI validates recipes
and prints help without importing the method."""

from __future__ import annotations

from typing import ClassVar, Literal

from pydantic import Field, model_validator

from sslctl.specs.methods import METHODS
from sslctl.specs.methods.base import MethodSpec
from sslctl.specs.methods.sigreg import SIGRegOption
from sslctl.views import ViewPlan


@METHODS.register("jepa")
class JEPASpec(SIGRegOption, MethodSpec):
    code: ClassVar[str] = "sslctl.methods.jepa:JEPA"
    order: ClassVar[int] = 120
    view_plan: ClassVar[ViewPlan] = ViewPlan(n_global=1, kind="context-targets")
    name: Literal["jepa"] = Field(
        description="Joint-embedding predictive architecture (I-JEPA, Assran et al. 2023): "
        "predict an EMA target encoder's embeddings of masked patch tokens; ViT or patch_tst."
    )
    predictor_dim: int = Field(96, gt=0, le=65536, description="Predictor width (narrow).")
    predictor_depth: int = Field(4, gt=0, le=64, description="Predictor transformer blocks.")
    predictor_heads: int = Field(4, gt=0, le=64, description="Predictor attention heads.")
    momentum: float = Field(
        0.996, gt=0, le=1, description="Target EMA momentum at the start; rises linearly to 1."
    )
    fixed_positions: bool = Field(
        True,
        description="Give a ViT I-JEPA's fixed 2-D sin-cos position table (not trained) "
        "instead of timm's learned one; without it the encoders can learn to code position "
        "alone, which the predictor then reads off its mask tokens' positions.",
    )
    loss: Literal["smooth_l1", "l2"] = Field(
        "smooth_l1", description="smooth_l1 (the official code) or l2 (squared error)."
    )

    @model_validator(mode="after")
    def _heads_divide_width(self) -> JEPASpec:
        if self.predictor_dim % self.predictor_heads:
            raise ValueError(
                f"predictor_dim {self.predictor_dim} must be divisible by predictor_heads "
                f"{self.predictor_heads}"
            )
        return self
