"""The embed command: a run's embeddings of a data source into a .npy or .npz, written as
`engine/embedding.py`'s blocks come (`.npy` row by row), so memory does not grow with the
source."""

from __future__ import annotations

import sys
import zipfile
from pathlib import Path

import numpy as np
import torch

from sslctl.engine.embedding import embed_blocks
from sslctl.errors import UserError
from sslctl.io.atomic import atomic_write
from sslctl.rundir import Run, RunDir, check_output, load_run
from sslctl.sources.npy import NpyRowWriter


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
