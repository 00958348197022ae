"""The recipe section of `sslctl/methods/distill.py`, torch-free: the CLI validates recipes
and prints help without importing the method."""

from __future__ import annotations

from typing import Annotated, ClassVar, Literal

from pydantic import Field, field_validator

from sslctl.specs.methods import METHODS
from sslctl.specs.methods.base import MethodSpec
from sslctl.views import ViewPlan

LossName = Literal["cosine", "queue_kl", "token_kl", "token_mse"]


@METHODS.register("distill")
class DistillSpec(MethodSpec):
    code: ClassVar[str] = "sslctl.methods.distill:Distill"
    order: ClassVar[int] = 130
    view_plan: ClassVar[ViewPlan] = ViewPlan(n_global=1, kind="contrastive")
    needs_teacher: ClassVar[bool] = True
    name: Literal["distill"] = Field(
        description="Label-free distillation of a frozen teacher (recipe `teacher`)."
    )
    losses: dict[LossName, Annotated[float, Field(ge=0, le=1000)]] = Field(
        default_factory=lambda: {"cosine": 1.0},
        description="Loss terms and their weights: cosine, queue_kl (LightlyTrain v3 global), "
        "token_kl (v3 local), token_mse (v2). v3's default: {queue_kl: 1.0, token_kl: 1.0}.",
    )
    proj_hidden: int = Field(
        1024, gt=0, le=65536, description="Hidden width of the cosine term's MLP head."
    )
    queue_size: int = Field(
        0,
        ge=0,
        le=65536,
        description="queue_kl's queue of teacher embeddings; 0: from the dataset size, 16 up "
        "to 8192 (v3's auto buckets).",
    )
    temperature: float = Field(0.07, gt=0, le=100, description="queue_kl temperature.")
    token_temperature: float = Field(0.07, gt=0, le=100, description="token_kl temperature.")
    mixup: bool = Field(False, description="Mix each batch with a shuffled copy (v3 does).")

    @field_validator("losses")
    @classmethod
    def _weights(cls, losses: dict[str, float]) -> dict[str, float]:
        if not any(losses.values()):
            raise ValueError("at least one loss weight must be > 0")
        return losses
