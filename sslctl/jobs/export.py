"""export: the encoder as ONNX (checked in onnxruntime) or safetensors.

The ONNX graph takes the modality's model input (images: float NCHW in [0, 1]; audio: the raw
waveform (batch, samples); series: (batch, channels, time) with NaN for missing steps; graphs:
three inputs x, edge_index and pick, the fields of a GraphBatch);
normalisation and any front end are inside the graph, and the input spec is stored as model
metadata. The axes the modality names (`export_axes`) are dynamic. The check compares
onnxruntime with PyTorch on the modality's random check inputs (other batch sizes, and other
lengths where the time axis is dynamic), on the embeddings as they come out and after L2
normalisation (the form kNN, retrieval and coresets use); the gate is 1e-4 on the latter.
"""

from __future__ import annotations

import json
import logging
import warnings
from pathlib import Path

import numpy as np
import torch

from sslctl.encoders.base import Normalize
from sslctl.encoders.timm_encoder import TimmEncoder
from sslctl.errors import UserError
from sslctl.io.atomic import atomic_write
from sslctl.io.weights import save_weights
from sslctl.rundir import Run, RunDir, check_output, load_run

ONNX_TOLERANCE = 1e-4


Axes = dict[int, str]
ModelInput = torch.Tensor | tuple[torch.Tensor, ...]  # a tensor, or a NamedTuple of tensors


class _Positional(torch.nn.Module):
    """Takes a NamedTuple input's fields as separate ONNX inputs and rebuilds it."""

    def __init__(self, module: torch.nn.Module, build: type) -> None:
        super().__init__()
        self.module, self.build = module, build

    def forward(self, *fields: torch.Tensor) -> torch.Tensor:
        return self.module(self.build(*fields))


def _inputs(example: ModelInput) -> tuple[tuple[torch.Tensor, ...], list[str]]:
    if isinstance(example, torch.Tensor):
        return (example,), ["input"]
    return tuple(example), list(example._fields)


def write_onnx(
    module: torch.nn.Module,
    example: ModelInput,
    out: Path,
    meta: dict[str, str],
    output_name: str = "embedding",
    axes: Axes | tuple[Axes, ...] | None = None,
) -> None:
    """Export (opset 18) with the named input axes dynamic (default: the batch axis) and
    attach `meta` as metadata_props. A NamedTuple input becomes one ONNX input per field,
    with `axes` a tuple of per-field dicts."""
    import onnx

    tensors, names = _inputs(example)
    if not isinstance(example, torch.Tensor):
        module = _Positional(module, type(example))
    per_input = (axes or {0: "batch"},) if isinstance(example, torch.Tensor) else axes
    dims = tuple(
        {i: torch.export.Dim(name, min=1) for i, name in spec.items()} for spec in per_input
    )
    if not isinstance(example, torch.Tensor):
        dims = (dims,)  # _Positional.forward(*fields): one variadic parameter
    # The exporter's notes are not the user's to act on: it lowers index_add_ (the graph
    # encoders' message passing) to a ScatterND whose empty index list makes onnx_ir log
    # "Attribute type is ambiguous ... Defaulted to INTS" (the right type). compare_onnx checks
    # the result numerically instead.
    ir_log = logging.getLogger("onnx_ir")
    level = ir_log.level
    ir_log.setLevel(logging.ERROR)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            program = torch.onnx.export(
                module,
                tensors,
                input_names=names,
                output_names=[output_name],
                dynamic_shapes=dims,
                opset_version=18,
                dynamo=True,
                verbose=False,
            )
    finally:
        ir_log.setLevel(level)
    program.save(str(out), external_data=False)
    model = onnx.load(str(out))
    for key, value in meta.items():
        model.metadata_props.add(key=key, value=value)
    onnx.save(model, str(out))


def compare_onnx(module: torch.nn.Module, inputs: list[ModelInput], path: Path) -> dict[str, float]:
    """Largest |onnxruntime - PyTorch| over `inputs`, raw and per-row L2-normalised."""
    import onnxruntime as ort

    session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    raw = normalised = 0.0
    for x in inputs:
        with torch.inference_mode():
            expected = module(x)
        b = len(expected)
        expected = expected.reshape(b, -1).numpy()
        feed = {i.name: t.numpy() for i, t in zip(session.get_inputs(), _inputs(x)[0], strict=True)}
        got = session.run(None, feed)[0].reshape(b, -1)
        raw = max(raw, float(np.abs(got - expected).max()))
        unit = lambda a: a / np.maximum(np.linalg.norm(a, axis=1, keepdims=True), 1e-12)  # noqa: E731
        normalised = max(normalised, float(np.abs(unit(got) - unit(expected)).max()))
    return {"max_abs_diff": raw, "max_abs_diff_l2_normalised": normalised}


def write_timm(run: Run, path: Path) -> None:
    """The backbone's state dict as timm names it (no sslctl prefix, no head: the model was
    built with num_classes=0), with the input statistics and geometry as metadata."""
    if not (isinstance(run.encoder, TimmEncoder) and isinstance(run.encoder.normalize, Normalize)):
        raise UserError(
            f"--format timm: writes image encoders on timm backbones; {run.path}'s is "
            f"{run.recipe.encoder.name} on {run.modality.input_spec['modality']} (export "
            "safetensors or onnx)"
        )
    spec = run.modality.input_spec
    meta = {
        "timm_model": run.recipe.encoder.name,
        "mean": json.dumps(run.encoder.normalize.mean.flatten().tolist()),
        "std": json.dumps(run.encoder.normalize.std.flatten().tolist()),
        "in_chans": str(spec.get("channels", 1)),
        "input_spec": json.dumps(spec),
    }
    save_weights(path, run.encoder.backbone, meta)


def loading_line(run_path: str | Path, fmt: str, path: Path) -> str:
    """The Python that loads what `export` wrote, for the user to copy."""
    if fmt == "timm":
        run = load_run(run_path)
        extra = "".join(f", {k}={v!r}" for k, v in run.recipe.encoder.kwargs.items())
        channels = run.modality.input_spec.get("channels", 3)
        extra += "" if channels == 3 else f", in_chans={channels}"
        return (
            f"timm.create_model({run.recipe.encoder.name!r}, pretrained=True, "
            f"pretrained_cfg_overlay={{'file': {str(path)!r}}}, num_classes=0{extra})"
        )
    if fmt == "onnx":
        return (
            f"onnxruntime.InferenceSession({str(path)!r}).run(None, {{'input': x}})[0]  "
            "# x as the input_spec in its metadata says"
        )
    return f"sslctl.rundir.load_run({str(run_path)!r}).encoder  # or safetensors' load_file"


def export(
    run_path: str | Path, fmt: str, out: str | None, check: bool
) -> tuple[Path, dict[str, float] | None]:
    run = load_run(run_path)
    run_dir, files = Path(run_path), RunDir(Path(run_path))
    if fmt == "safetensors":
        # the run's own encoder.safetensors is already the export; a copy goes elsewhere
        if out is None or Path(out).resolve() == files.weights.resolve():
            return files.weights, None
        path = Path(out)
        check_output(path, files.files(), "--out")
        meta = {files.info.name: files.info.read_text()}
        save_weights(path, run.encoder, meta)
        return path, None
    if fmt == "timm":
        path = Path(out) if out else run_dir / "model.safetensors"
        check_output(path, files.files(), "--out")
        write_timm(run, path)
        return path, None
    path = Path(out) if out else run_dir / "encoder.onnx"
    check_output(path, files.files(), "--out")
    meta = {
        "input_spec": json.dumps(run.modality.input_spec),
        "embed_dim": str(run.encoder.embed_dim),
    }
    modality = run.modality
    diffs = None

    def write_checked(tmp: str) -> None:
        """Export to the temporary file and check it there: a model that fails the check
        never takes the output's name."""
        nonlocal diffs
        write_onnx(
            run.encoder, modality.export_example(2), Path(tmp), meta, axes=modality.export_axes
        )
        if not check:
            return
        torch.manual_seed(0)
        diffs = compare_onnx(run.encoder, modality.export_checks(), Path(tmp))
        if diffs["max_abs_diff_l2_normalised"] > ONNX_TOLERANCE:
            raise RuntimeError(
                "ONNX check failed: max |onnxruntime - torch| on L2-normalised embeddings = "
                f"{diffs['max_abs_diff_l2_normalised']:.2e} > {ONNX_TOLERANCE:g}"
            )

    atomic_write(path, write_checked)
    return path, diffs
