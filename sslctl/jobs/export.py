"""export: the encoder as ONNX (checked in onnxruntime) or safetensors.

The ONNX graph takes the modality's model input (images: float NCHW in [0, 1]; audio: the raw
waveform (batch, samples)); normalisation and any front end are inside the graph, and the
input spec is stored as model metadata. The check compares onnxruntime with PyTorch on random
inputs at several batch sizes, on the embeddings as they come out and after L2 normalisation
(the form kNN, retrieval and coresets use); the gate is 1e-4 on the latter.
"""

from __future__ import annotations

import json
import warnings
from pathlib import Path

import numpy as np
import torch

from sslctl.engine.checkpoint import save_weights
from sslctl.rundir import load_run

ONNX_TOLERANCE = 1e-4


def write_onnx(
    module: torch.nn.Module,
    example: torch.Tensor,
    out: Path,
    meta: dict[str, str],
    output_name: str = "embedding",
) -> None:
    """Export with a dynamic batch axis (opset 18) and attach `meta` as metadata_props."""
    import onnx

    batch = torch.export.Dim("batch", min=1)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        program = torch.onnx.export(
            module,
            (example,),
            input_names=["input"],
            output_names=[output_name],
            dynamic_shapes=({0: batch},),
            opset_version=18,
            dynamo=True,
            verbose=False,
        )
    program.save(str(out), external_data=False)
    model = onnx.load(str(out))
    for key, value in meta.items():
        model.metadata_props.add(key=key, value=value)
    onnx.save(model, str(out))


def compare_onnx(
    module: torch.nn.Module, make_input, path: Path, batches: tuple[int, ...] = (1, 3)
) -> dict[str, float]:
    """Largest |onnxruntime - PyTorch| over random inputs, raw and per-row L2-normalised."""
    import onnxruntime as ort

    session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    raw = normalised = 0.0
    torch.manual_seed(0)
    for b in batches:
        x = make_input(b)
        with torch.inference_mode():
            expected = module(x).reshape(b, -1).numpy()
        got = session.run(None, {session.get_inputs()[0].name: x.numpy()})[0].reshape(b, -1)
        raw = max(raw, float(np.abs(got - expected).max()))
        unit = lambda a: a / np.maximum(np.linalg.norm(a, axis=1, keepdims=True), 1e-12)  # noqa: E731
        normalised = max(normalised, float(np.abs(unit(got) - unit(expected)).max()))
    return {"max_abs_diff": raw, "max_abs_diff_l2_normalised": normalised}


def export(
    run_path: str | Path, fmt: str, out: str | None, check: bool
) -> tuple[Path, dict[str, float] | None]:
    run = load_run(run_path)
    suffix = ".onnx" if fmt == "onnx" else ".safetensors"
    path = Path(out) if out else Path(run_path) / f"encoder{suffix}"
    if fmt == "safetensors":
        if path.resolve() != (Path(run_path) / "encoder.safetensors").resolve():
            meta = {"encoder.json": (Path(run_path) / "encoder.json").read_text()}
            save_weights(path, run.encoder, meta)
        return path, None
    meta = {
        "input_spec": json.dumps(run.modality.input_spec),
        "embed_dim": str(run.encoder.embed_dim),
    }
    write_onnx(run.encoder, run.modality.export_example(2), path, meta)
    if not check:
        return path, None
    diffs = compare_onnx(run.encoder, run.modality.export_example, path)
    if diffs["max_abs_diff_l2_normalised"] > ONNX_TOLERANCE:
        raise RuntimeError(
            "ONNX check failed: max |onnxruntime - torch| on L2-normalised embeddings = "
            f"{diffs['max_abs_diff_l2_normalised']:.2e} > {ONNX_TOLERANCE:g}"
        )
    return path, diffs
