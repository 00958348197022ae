"""The recipe section of `sslctl/methods/masked_series.py`, torch-free: the CLI validates recipes
and prints help without importing the method."""

from __future__ import annotations

from typing import ClassVar, Literal

from pydantic import Field

from sslctl.specs.methods import METHODS
from sslctl.specs.methods.base import MethodSpec
from sslctl.views import ViewPlan


@METHODS.register("masked_series")
class MaskedSeriesSpec(MethodSpec):
    code: ClassVar[str] = "sslctl.methods.masked_series:MaskedSeries"
    order: ClassVar[int] = 80
    view_plan: ClassVar[ViewPlan] = ViewPlan(n_global=1, kind="masked")
    name: Literal["masked_series"] = Field(
        description="Masked patch modelling on series (PatchTST pre-training); patch_tst only."
    )
    mask_ratio: float = Field(0.4, gt=0, lt=1, description="Share of observed patches masked.")
