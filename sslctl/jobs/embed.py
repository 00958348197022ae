"""Frozen-encoder embeddings of a data source, shared by probe, coreset and the embed command.

Embeddings come block by block from `embed_blocks`, so the embed command writes them as they
come (`.npy` row by row) and a streamed source is decoded in workers as the encoder needs it.
"""

from __future__ import annotations

import sys
import zipfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import NamedTuple

import numpy as np
import torch

from sslctl.engine.feed import eval_inputs
from sslctl.errors import UserError
from sslctl.io.atomic import atomic_write
from sslctl.modalities.base import Modality, Samples, StreamingModality
from sslctl.rundir import Run, RunDir, check_output, load_run
from sslctl.sources.npy import NpyRowWriter


class Embedded(NamedTuple):
    x: torch.Tensor  # (n, D) float32 on CPU
    kept: torch.Tensor  # the sample positions embedded (all but undecodable skipped files)


def embed_blocks(
    encoder: torch.nn.Module,
    modality: Modality,
    samples: Samples,
    device: torch.device,
    batch_size: int = 512,
) -> Iterator[Embedded]:
    """(embeddings, positions) per batch, in eval mode under inference_mode."""
    encoder = encoder.to(device).eval()
    streaming = isinstance(modality, StreamingModality)
    on_error = modality.stream.on_decode_error if streaming else "fail"
    workers = modality.workers if streaming else 0
    with torch.inference_mode():
        for x, kept in eval_inputs(modality, samples, device, batch_size, workers, on_error):
            yield Embedded(encoder(x).float().cpu().clone(), kept)


def embed_samples(
    encoder: torch.nn.Module,
    modality: Modality,
    samples: Samples,
    device: torch.device,
    batch_size: int = 512,
    on_progress: Callable[[int, int], None] | None = None,
) -> Embedded:
    """All embeddings at once (probes and coresets need them together); `on_progress(done,
    total)` after each block, for a progress bar."""
    blocks = []
    for block in embed_blocks(encoder, modality, samples, device, batch_size):
        blocks.append(block)
        if on_progress is not None:
            on_progress(sum(len(b.kept) for b in blocks), len(samples))
    if not blocks:
        raise UserError(f"{samples.source}: no samples to embed")
    return Embedded(torch.cat([b.x for b in blocks]), torch.cat([b.kept for b in blocks]))


def _write_npz(out: Path, npy: Path, arrays: dict[str, np.ndarray]) -> None:
    """x (from the finished .npy, copied in chunks) and `arrays` into an uncompressed .npz,
    as np.savez writes it, under a temporary name."""

    def write(tmp: str) -> None:
        with zipfile.ZipFile(tmp, "w", zipfile.ZIP_STORED, allowZip64=True) as zf:
            zf.write(npy, "x.npy")
            for name, array in arrays.items():
                with zf.open(f"{name}.npy", "w") as fh:
                    np.lib.format.write_array(fh, array)

    atomic_write(out, write)


def embed(
    run: str | Path, data: str, out: Path, device: torch.device, paths: bool = False
) -> tuple[Run, int]:
    """Embeddings into `out`: a .npy of rows, or a .npz with x, `index` (each row's position
    in the source's whole listing, so rows map back after undecodable files are skipped), y
    when labelled and, with `paths`, each row's file."""
    if out.suffix not in (".npy", ".npz"):
        raise UserError(f"--out {out}: must end in .npy or .npz")
    if paths and out.suffix != ".npz":
        raise UserError(f"--out {out}: --paths needs a .npz (the paths are stored beside x)")
    check_output(out, [*RunDir(Path(run)).files(), Path(data)], "--out")
    loaded = load_run(run)
    samples = loaded.modality.load(data)
    out.parent.mkdir(parents=True, exist_ok=True)
    kept = []
    target = out if out.suffix == ".npy" else out.with_name(f".{out.name}.x.npy")
    try:
        with NpyRowWriter(target) as writer:
            for block in embed_blocks(loaded.encoder, loaded.modality, samples, device):
                writer.write(block.x.numpy())
                kept.append(block.kept)
            if writer.rows == 0:
                raise UserError(f"{data}: no sample could be embedded")
        positions = torch.cat(kept)
        rows = samples.source_rows(positions)
        if out.suffix == ".npz":
            arrays = {"index": rows.numpy()}
            if samples.y is not None:
                arrays["y"] = samples.y[positions].numpy()
            if paths:
                arrays["paths"] = np.array(samples.source_names(rows))
            _write_npz(out, target, arrays)
        elif len(rows) and int(rows[-1]) != len(rows) - 1:
            print(
                f"warning: {out}: rows skip undecodable samples; a .npz keeps each row's "
                "source index",
                file=sys.stderr,
            )
    finally:
        if target != out and target.exists():
            target.unlink()
    return loaded, writer.rows
