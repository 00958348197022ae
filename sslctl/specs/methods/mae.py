"""The recipe section of `sslctl/methods/mae.py`, torch-free: the CLI validates recipes
and prints help without importing the method."""

from __future__ import annotations

from typing import ClassVar, Literal

from pydantic import Field

from sslctl.specs.methods import METHODS
from sslctl.specs.methods.base import MethodSpec
from sslctl.views import ViewPlan


@METHODS.register("mae")
class MAESpec(MethodSpec):
    code: ClassVar[str] = "sslctl.methods.mae:MAE"
    order: ClassVar[int] = 60
    view_plan: ClassVar[ViewPlan] = ViewPlan(n_global=1, kind="masked")
    name: Literal["mae"] = Field(
        description="Masked autoencoder (He et al. 2022); ViT encoders only."
    )
    mask_ratio: float = Field(0.75, gt=0, lt=1, description="Fraction of patches masked.")
    decoder_dim: int = Field(128, gt=0, le=65536, description="Decoder width.")
    decoder_depth: int = Field(2, gt=0, le=64, description="Decoder transformer blocks.")
    decoder_heads: int = Field(4, gt=0, le=64, description="Decoder attention heads.")
    norm_pix_loss: bool = Field(True, description="Regress per-patch normalised pixels.")
