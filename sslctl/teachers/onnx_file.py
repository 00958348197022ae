"""`teacher: {onnx: FILE}`: any ONNX model whose first output is a (batch, dim) embedding, run
in onnxruntime (on its CUDA provider when training on a GPU and onnxruntime has one). The
input spec comes from the metadata `sslctl export` writes, otherwise from the recipe; the
graph's input rank and fixed sizes must be those of the data's views."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import torch

from sslctl.encoders.base import Features
from sslctl.errors import UserError, first_line
from sslctl.teachers.base import LoadedTeacher, Teacher, TeacherKind, require_image_geometry

if TYPE_CHECKING:
    from sslctl.modalities.base import Modality

CHECK_BATCH = 2  # the example batch the embedding width is read from


class OnnxTeacher(Teacher):
    """One onnxruntime session; its embeddings come back as torch tensors on the view's
    device. It has no token map (an ONNX export keeps only the pooled embedding)."""

    def __init__(self, session, path: Path) -> None:
        self.session, self.path = session, path
        self.input = session.get_inputs()[0].name
        self.embed_dim = 0

    def _move(self, device: torch.device) -> None:
        import onnxruntime as ort

        wanted = "CUDAExecutionProvider" if device.type == "cuda" else "CPUExecutionProvider"
        if wanted in ort.get_available_providers() and wanted not in self.session.get_providers():
            self.session.set_providers([wanted, "CPUExecutionProvider"])

    def _features(self, x: torch.Tensor) -> Features:
        out = self.session.run(None, {self.input: x.detach().float().cpu().numpy()})[0]
        return Features(torch.from_numpy(np.asarray(out, dtype=np.float32)).to(x.device))


class OnnxTeacherKind(TeacherKind):
    """Loads a `teacher: {onnx: ...}` section (OnnxTeacherSpec)."""

    def load(self, modality: Modality, seed: int) -> LoadedTeacher:
        import onnxruntime as ort

        path = Path(self.spec.onnx)
        if not path.is_file():
            raise UserError(f"teacher.onnx: file not found: {path}")
        try:
            session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
        except Exception as exc:  # noqa: BLE001 - truncated, not ONNX, crafted: one answer
            raise UserError(
                f"teacher.onnx: {path} is not a loadable ONNX model ({first_line(exc):.200})"
            ) from None
        self._check_spec(session, modality)
        example = modality.export_example(CHECK_BATCH)
        if not isinstance(example, torch.Tensor) or len(session.get_inputs()) != 1:
            raise UserError(
                "teacher.onnx: ONNX teachers take one input tensor (images, audio or series)"
            )
        self._check_shape(session, tuple(example.shape), path)
        teacher = OnnxTeacher(session, path)
        out = teacher._features(example).pooled
        if out.dim() != 2 or out.shape[0] != CHECK_BATCH:
            raise UserError(
                f"teacher.onnx: {path}'s first output is {tuple(out.shape)} for a "
                f"batch of {CHECK_BATCH}; a teacher gives (batch, dim) embeddings"
            )
        teacher.embed_dim = int(out.shape[1])
        return LoadedTeacher(teacher, modality)

    def _check_spec(self, session, modality: Modality) -> None:
        """The input spec sslctl recorded in the file, else the recipe's: images must agree
        with the data on channels and size."""
        meta = session.get_modelmeta().custom_metadata_map
        try:
            recorded = json.loads(meta["input_spec"]) if "input_spec" in meta else None
        except ValueError:
            recorded = None
        if isinstance(recorded, dict):
            kind = recorded.get("modality")
            if kind != modality.input_spec["modality"]:
                raise UserError(
                    f"teacher.onnx: the file was exported for {kind!r:.20} input; "
                    f"the data is {modality.input_spec['modality']}"
                )
            if kind == "image":
                channels, size = recorded.get("channels"), recorded.get("image_size")
                require_image_geometry(modality, "teacher.onnx", channels, size)
        elif self.spec.channels is not None or self.spec.image_size is not None:
            require_image_geometry(modality, "teacher", self.spec.channels, self.spec.image_size)

    @staticmethod
    def _check_shape(session, example: tuple[int, ...], path: Path) -> None:
        shape = session.get_inputs()[0].shape
        if len(shape) != len(example):
            raise UserError(
                f"teacher.onnx: {path} takes rank-{len(shape)} input {shape}; the "
                f"data's views are rank {len(example)} {list(example)}"
            )
        for axis, (want, have) in enumerate(zip(shape, example, strict=True)):
            if axis and isinstance(want, int) and want != have:
                raise UserError(
                    f"teacher.onnx: {path} takes input {shape}; the data's views "
                    f"are {list(example)} (axis {axis})"
                )
