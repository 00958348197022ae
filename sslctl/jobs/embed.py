"""Frozen-encoder embeddings of a data source, shared by probe, coreset and the embed command."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch

from sslctl.errors import UserError
from sslctl.modalities import Modality, Samples
from sslctl.rundir import Run, load_run


def embed_samples(
    encoder: torch.nn.Module,
    modality: Modality,
    samples: Samples,
    device: torch.device,
    batch_size: int = 512,
) -> torch.Tensor:
    """(N, D) float32 embeddings on CPU, computed in eval mode under inference_mode."""
    encoder = encoder.to(device).eval()
    chunks = []
    with torch.inference_mode():
        for start in range(0, len(samples), batch_size):
            index = torch.arange(start, min(start + batch_size, len(samples)))
            chunks.append(encoder(modality.batch(samples, index, device)).float().cpu())
    return torch.cat(chunks).clone()  # clone: a normal tensor, usable outside inference mode


def embed(run: str | Path, data: str, out: Path, device: torch.device) -> tuple[Run, int]:
    loaded = load_run(run)
    samples = loaded.modality.load(data)
    feats = embed_samples(loaded.encoder, loaded.modality, samples, device).numpy()
    if out.suffix == ".npy":
        np.save(out, feats)
    elif out.suffix == ".npz":
        extra = {} if samples.y is None else {"y": samples.y.numpy()}
        np.savez(out, x=feats, **extra)
    else:
        raise UserError(f"--out {out}: must end in .npy or .npz")
    return loaded, len(feats)
