"""Model inputs for the training loop and for embedding passes, whatever holds the data: a
source in memory is indexed directly; a streamed one (`FileSamples`) is decoded by DataLoader
workers and the modality turns each decoded batch into its model input on the device, with
pinned memory and non-blocking copies on GPU."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Any

import torch

from sslctl.modalities.base import Modality, Samples
from sslctl.sources.stream import DecodeLog, FileSamples, Request, decoded_batches, eval_requests
from sslctl.views import ViewPlan


def is_streamed(samples: Samples) -> bool:
    return isinstance(samples.x, FileSamples)


def train_inputs(
    modality: Modality,
    samples: Samples,
    schedule: Iterable[tuple[int, torch.Tensor]],
    plan: ViewPlan,
    device: torch.device,
    workers: int,
    seed: int,
    log: DecodeLog,
) -> Iterator[Any]:
    """One model input per (epoch, sample indices) of `schedule`, in order."""
    if not is_streamed(samples):
        for _, index in schedule:
            yield modality.batch(samples, index, device)
        return
    requests = (Request(epoch, index.numpy()) for epoch, index in schedule)
    batches = decoded_batches(
        samples.x,
        modality.train_decoder(plan),
        requests,
        workers,
        seed,
        device.type == "cuda",
        log,
        training=True,
    )
    for batch in batches:
        outputs = batch.outputs
        if len(batch.kept) == 1:  # the rest skipped: BatchNorm and contrastive losses need 2
            outputs = tuple(torch.cat([o, o]) for o in outputs)
        yield modality.from_decoded(outputs, device, train=True)


def eval_inputs(
    modality: Modality,
    samples: Samples,
    device: torch.device,
    batch_size: int,
    workers: int,
    on_error: str = "fail",
) -> Iterator[tuple[Any, torch.Tensor]]:
    """(model input, positions it holds) in sample order. A streamed source skips the
    positions that failed to decode under `on_error: skip`, so the positions say which
    labels go with which embeddings."""
    n = len(samples)
    if not is_streamed(samples):
        for start in range(0, n, batch_size):
            index = torch.arange(start, min(start + batch_size, n))
            yield modality.batch(samples, index, device), index
        return
    log = DecodeLog(on_error)
    requests = eval_requests(n, batch_size)
    decoder = modality.eval_decoder()
    for batch in decoded_batches(
        samples.x, decoder, requests, workers, 0, device.type == "cuda", log
    ):
        yield modality.from_decoded(batch.outputs, device, train=False), batch.kept
    log.report()
