"""What a distillation teacher is to the distill method: a frozen function from the student's
views to `Features` (a pooled embedding and, where it has one, a token map), run without
gradients, in bf16 on CUDA, and never part of the student's checkpoint."""

from __future__ import annotations

from abc import ABC, abstractmethod
from contextlib import nullcontext
from dataclasses import dataclass
from typing import TYPE_CHECKING

import torch

from sslctl.encoders.base import Encoder, Features
from sslctl.errors import UserError

if TYPE_CHECKING:
    from sslctl.modalities.base import Modality
    from sslctl.specs.teachers.base import TeacherSpec


class Teacher(ABC):
    """Called on a view batch already on the training device; outputs are float32 and
    ordinary tensors (made under `inference_mode`, then copied out of it, so a loss may keep
    them for its backward pass)."""

    embed_dim: int
    token_dim: int | None = None  # None: the teacher gives no token map
    device = torch.device("cpu")

    @abstractmethod
    def _features(self, x: torch.Tensor) -> Features: ...

    @abstractmethod
    def _move(self, device: torch.device) -> None: ...

    def to(self, device: torch.device) -> Teacher:
        self.device = device
        self._move(device)
        return self

    def __call__(self, x: torch.Tensor) -> Features:
        bf16 = self.device.type == "cuda"
        cast = torch.autocast("cuda", dtype=torch.bfloat16) if bf16 else nullcontext()
        with torch.inference_mode(), cast:
            f = self._features(x)
        tokens = None if f.tokens is None else f.tokens.float().clone()
        return Features(f.pooled.float().clone(), tokens, f.grid)


class EncoderTeacher(Teacher):
    """A torch encoder as a teacher (a run's, a timm model's, a random one), in eval mode so
    its BatchNorm statistics stay as they are. `pool` replaces the pooled embedding by the
    class token (`cls`) or the mean of the tokens (`mean`)."""

    def __init__(self, encoder: Encoder, pool: str = "default") -> None:
        self.encoder = encoder.eval()
        for p in self.encoder.parameters():
            p.requires_grad_(False)
        self.pool = pool
        self.embed_dim = encoder.token_dim if pool != "default" else encoder.embed_dim
        self.token_dim = encoder.token_dim if encoder.gives_tokens else None

    def _move(self, device: torch.device) -> None:
        self.encoder.to(device)

    def _features(self, x: torch.Tensor) -> Features:
        f = self.encoder.features(x) if self.token_dim or self.pool != "default" else None
        if f is None:
            return Features(self.encoder(x))
        if self.pool == "mean":
            f.pooled = f.tokens.mean(dim=1)
        elif self.pool == "cls":
            f.pooled = f.cls
        return f


@dataclass
class LoadedTeacher:
    """A teacher and the training modality set up to feed it (a run teacher may need the
    student's views made as its own were, e.g. an audio front end's statistics)."""

    teacher: Teacher
    modality: Modality


class TeacherKind(ABC):
    """What loads one teacher kind's recipe section (`spec`, declared in
    sslctl/specs/teachers/): `teacher_kind(spec)` imports it only when distill runs."""

    def __init__(self, spec: TeacherSpec) -> None:
        self.spec = spec

    @abstractmethod
    def load(self, modality: Modality, seed: int) -> LoadedTeacher:
        """The teacher, refusing (UserError naming the field) one whose input the data's views
        cannot be: the distill job calls this before it writes anything."""

    def init_student(  # noqa: B027 - an optional hook; most kinds leave a student as built
        self, student: Encoder, spec: object, teacher: Teacher, where: str
    ) -> None:
        """Set a fresh student's weights where the kind asks it (Random Teachers: a copy of
        the teacher); `where` names the student's recipe field for errors."""


def teacher_kind(spec: TeacherSpec) -> TeacherKind:
    """The loader of a recipe's `teacher` section, by the code its kind declares."""
    from sslctl.specs.teachers import TEACHERS

    return TEACHERS.load(spec.kind)(spec)


def require_image_geometry(
    modality: Modality, field: str, channels: int | None, image_size: int | None
) -> None:
    """A teacher declaring image channels or size the data's views do not have is refused:
    the views go to the teacher as they are."""
    spec = modality.input_spec
    if spec["modality"] != "image":
        raise UserError(f"{field}: this teacher takes images; the data is {spec['modality']}")
    if channels is not None and channels != spec["channels"]:
        raise UserError(
            f"{field}: the teacher takes {channels}-channel images; the data gives "
            f"{spec['channels']} (data.channels)"
        )
    if image_size is not None and image_size != spec["image_size"]:
        raise UserError(
            f"{field}: the teacher takes {image_size} px images; the data gives "
            f"{spec['image_size']} (set data.image_size: {image_size})"
        )
