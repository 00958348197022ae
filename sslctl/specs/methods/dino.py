"""The recipe section of `sslctl/methods/dino.py`, torch-free: the CLI validates recipes
and prints help without importing the method."""

from __future__ import annotations

from typing import ClassVar, Literal

from pydantic import Field

from sslctl.specs.methods import METHODS
from sslctl.specs.methods.base import MethodSpec
from sslctl.views import ViewPlan


@METHODS.register("dino")
class DINOSpec(MethodSpec):
    code: ClassVar[str] = "sslctl.methods.dino:DINO"
    order: ClassVar[int] = 50
    view_plan: ClassVar[ViewPlan] = ViewPlan(kind="multi-crop")
    name: Literal["dino"] = Field(description="DINO self-distillation (Caron et al. 2021).")
    out_dim: int = Field(4096, gt=0, le=262144, description="Prototype count K (paper: 65536).")
    hidden_dim: int = Field(2048, gt=0, le=65536, description="Head MLP hidden width.")
    bottleneck_dim: int = Field(256, gt=0, le=65536, description="Head bottleneck width.")
    student_temp: float = Field(0.1, gt=0, le=10, description="Student softmax temperature.")
    teacher_temp: float = Field(0.04, gt=0, le=10, description="Final teacher temperature.")
    warmup_teacher_temp: float = Field(
        0.04, gt=0, le=10, description="Initial teacher temperature."
    )
    warmup_teacher_temp_epochs: int = Field(
        0,
        ge=0,
        le=100_000,
        description="Epochs of linear teacher-temperature warm-up: warmup_teacher_temp at "
        "epoch 0 up to teacher_temp at epoch W-1, as the official schedule.",
    )
    center_momentum: float = Field(0.9, ge=0, lt=1, description="Centre EMA momentum.")
    momentum: float = Field(0.996, gt=0, lt=1, description="Base teacher EMA momentum.")
    local_crops: int = Field(6, ge=0, le=32, description="Number of local crops (multi-crop).")
    use_bn_in_head: bool = Field(
        False,
        description="BatchNorm after each hidden layer of the head (the official code's "
        "use_bn_in_head). For encoders whose embeddings share a large common component, such as "
        "the audio CNN's non-negative pooled features: without it their head outputs barely "
        "differ between clips and the centred teacher goes uniform.",
    )
    clip_grad: float | None = Field(
        None,
        gt=0,
        le=1e6,
        description="Clip each student parameter's gradient to this norm, one parameter at a "
        "time (the official clip_grad, 3.0 there); none: off. train.grad_clip instead clips "
        "the norm of all gradients together.",
    )
    freeze_last_layer: float = Field(
        0,
        ge=0,
        le=100_000,
        description="Epochs at the start during which the prototypes get no update, neither "
        "gradient nor weight decay (the official freeze_last_layer, 1 there): per the official "
        "code, keeping them fixed for the first epoch typically helps training; raise it if "
        "the loss does not decrease.",
    )
    local_size_ratio: float = Field(
        96 / 224,
        gt=0,
        le=1,
        description="Local crop side as a fraction of image_size (images); the "
        "local window as a fraction of the clip's frames (audio).",
    )
