"""Frozen-encoder embeddings of samples, block by block (`embed_blocks`) or all at once
(`embed_samples`), in eval mode under inference mode: what probe, coreset, the embed command
and training's online evaluation all embed with, so they agree on every number.

A streamed source is decoded in workers as the encoder needs it.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import NamedTuple

import torch

from sslctl.errors import UserError
from sslctl.modalities.base import Modality, Samples, StreamingModality


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
        for x, kept in samples.eval_inputs(modality, device, batch_size, workers, on_error):
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
