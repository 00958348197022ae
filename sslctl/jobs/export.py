"""export: the encoder as ONNX (checked in onnxruntime) or safetensors.

The ONNX graph takes the modality's model input (images: float NCHW in [0, 1]); normalisation
is inside the graph, and the input spec is stored as model metadata."""

from __future__ import annotations

import json
import warnings
from pathlib import Path

import numpy as np
import torch

from sslctl.engine.checkpoint import save_weights
from sslctl.rundir import load_run

ONNX_TOLERANCE = 1e-4


def _onnx(run, out: Path) -> None:
    import onnx

    example = run.modality.export_example(2)
    batch = torch.export.Dim("batch", min=1)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        program = torch.onnx.export(
            run.encoder,
            (example,),
            input_names=["input"],
            output_names=["embedding"],
            dynamic_shapes=({0: batch},),
            opset_version=18,
            dynamo=True,
            verbose=False,
        )
    program.save(str(out), external_data=False)
    model = onnx.load(str(out))
    meta = {
        "input_spec": json.dumps(run.modality.input_spec),
        "embed_dim": str(run.encoder.embed_dim),
    }
    for key, value in meta.items():
        model.metadata_props.add(key=key, value=value)
    onnx.save(model, str(out))


def check_onnx(run, path: Path, batches: tuple[int, ...] = (1, 3)) -> float:
    """Largest |onnxruntime - PyTorch| over random inputs at several batch sizes."""
    import onnxruntime as ort

    session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    worst = 0.0
    torch.manual_seed(0)
    for b in batches:
        x = run.modality.export_example(b)
        with torch.inference_mode():
            expected = run.encoder(x).numpy()
        got = session.run(None, {session.get_inputs()[0].name: x.numpy()})[0]
        worst = max(worst, float(np.abs(got - expected).max()))
    return worst


def export(
    run_path: str | Path, fmt: str, out: str | None, check: bool
) -> tuple[Path, float | None]:
    run = load_run(run_path)
    suffix = ".onnx" if fmt == "onnx" else ".safetensors"
    path = Path(out) if out else Path(run_path) / f"encoder{suffix}"
    if fmt == "safetensors":
        if path.resolve() != (Path(run_path) / "encoder.safetensors").resolve():
            meta = {"encoder.json": (Path(run_path) / "encoder.json").read_text()}
            save_weights(path, run.encoder, meta)
        return path, None
    _onnx(run, path)
    if not check:
        return path, None
    diff = check_onnx(run, path)
    if diff > ONNX_TOLERANCE:
        raise RuntimeError(f"ONNX check failed: max |onnxruntime - torch| = {diff:.2e} > 1e-4")
    return path, diff
