"""The recipe section of `sslctl/methods/ts2vec.py`, torch-free: the CLI validates recipes
and prints help without importing the method."""

from __future__ import annotations

from typing import ClassVar, Literal

from pydantic import Field

from sslctl.specs.methods import METHODS
from sslctl.specs.methods.base import MethodSpec
from sslctl.views import ViewPlan


@METHODS.register("ts2vec")
class TS2VecSpec(MethodSpec):
    code: ClassVar[str] = "sslctl.methods.ts2vec:TS2Vec"
    order: ClassVar[int] = 70
    view_plan: ClassVar[ViewPlan] = ViewPlan(kind="overlapping-crops")
    name: Literal["ts2vec"] = Field(
        description="TS2Vec hierarchical contrastive learning (Yue et al. 2022); series only."
    )
    alpha: float = Field(
        0.5, ge=0, le=1, description="Weight of the instance-wise term (1 - alpha: temporal)."
    )
    temporal_unit: int = Field(
        0, ge=0, le=64, description="Pyramid level from which the temporal term is added."
    )
    keep_prob: float = Field(
        0.5, gt=0, le=1, description="Chance a projected timestamp is kept (binomial masking)."
    )
    average_weights: bool = Field(
        True,
        description="Keep the equal-weight average of all iterates (the official code's "
        "AveragedModel); false: the last iterate.",
    )
