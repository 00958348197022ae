"""Decoding a file source in DataLoader worker processes, one batch per request.

The engine asks for batches by (epoch, positions); a worker opens each file, decodes it with
the modality's decoder and stacks fixed-size arrays, so only tensors of a known shape cross the
process boundary. A training sample's random crop is drawn from its own generator, seeded by
(seed, epoch, sample), never from worker state: which worker decodes it, and when, cannot
change what it sees, so a resumed run sees exactly the crops an uninterrupted one would.

A file that fails to decode is not an exception inside the worker (the DataLoader would
re-raise it as a multi-line traceback): the batch carries the failures, and the main process
stops with the file named, or skips and counts it (`data.on_decode_error`).
"""

from __future__ import annotations

import os
import signal
import sys
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, BinaryIO, NamedTuple

import numpy as np
import torch

from sslctl.errors import DecodeError, UserError, first_line
from sslctl.sources.files import FileSource

if TYPE_CHECKING:
    from sslctl.specs import StreamSpec

# A decoder turns one open file into fixed-size arrays; rng is None for evaluation (no
# randomness: centre crops), else the sample's own generator.
Decoder = Callable[[BinaryIO, "np.random.Generator | None"], tuple[np.ndarray, ...]]


class FileSamples:
    """`Samples.x` of a streamed source: the source and the rows of it in use. Indexing picks
    rows (a probe split, a coreset) without reading any file."""

    def __init__(self, source: FileSource, rows: np.ndarray | None = None) -> None:
        self.source = source
        self.rows = np.arange(len(source)) if rows is None else rows

    def __len__(self) -> int:
        return len(self.rows)

    def __getitem__(self, index: Any) -> FileSamples:
        index = index.numpy() if isinstance(index, torch.Tensor) else np.asarray(index)
        return FileSamples(self.source, self.rows[index])


class Request(NamedTuple):
    epoch: int  # -1: evaluation (no random crops)
    positions: np.ndarray  # positions in the FileSamples


class Decoded(NamedTuple):
    outputs: tuple[torch.Tensor, ...]  # each (kept, ...) stacked
    kept: torch.Tensor  # positions that decoded
    errors: list[str]  # "FILE: reason" of those that did not


class DecodeBatches(torch.utils.data.Dataset):
    def __init__(self, samples: FileSamples, decoder: Decoder, seed: int) -> None:
        self.samples, self.decoder, self.seed = samples, decoder, seed

    def __len__(self) -> int:
        return len(self.samples)

    def __getitem__(self, request: Request) -> Decoded:
        outputs: list[tuple[np.ndarray, ...]] = []
        kept, errors = [], []
        source = self.samples.source
        for pos in request.positions:
            row = int(self.samples.rows[pos])
            rng = (
                None
                if request.epoch < 0
                else np.random.default_rng([self.seed, request.epoch, row])
            )
            try:
                with source.open(row) as fh:
                    outputs.append(self.decoder(fh, rng))
                kept.append(int(pos))
            except Exception as exc:  # noqa: BLE001 - any failure is this file's, reported by name
                errors.append(f"{source.name(row)}: {_reason(exc)}")
        stacked = tuple(torch.from_numpy(np.stack(parts)) for parts in zip(*outputs, strict=True))
        return Decoded(stacked, torch.tensor(kept, dtype=torch.int64), errors)


def _reason(exc: BaseException) -> str:
    if isinstance(exc, DecodeError):
        return str(exc)
    text = first_line(exc, limit=200, empty="")
    return f"cannot decode ({exc.__class__.__name__}{': ' + text if text else ''})"


class _Requests:
    """The DataLoader's sampler: one Request per batch, in order."""

    def __init__(self, requests: Iterable[Request]) -> None:
        self.requests = requests

    def __iter__(self) -> Iterator[Request]:
        return iter(self.requests)


def _worker_init(_: int) -> None:
    torch.set_num_threads(1)  # decoding is per-sample numpy/PIL work; threads only contend
    # SIGTERM sent to the whole process group (timeout, Slurm) must not kill the workers
    # under the main process, which checkpoints and stops them itself; torch's own handler
    # would end a worker on any SIGTERM not sent by its parent.
    signal.signal(signal.SIGTERM, signal.SIG_IGN)


def usable_cpus() -> int:
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1


def resolve_workers(setting: int | str) -> int:
    """`auto`: one worker per usable CPU, at most 8 (beyond that the main process's
    host-to-device copies, not decoding, bound a GPU's input rate)."""
    if setting == "auto":
        return min(usable_cpus(), 8)
    return int(setting)


@dataclass
class DecodeLog:
    """Counts skipped files across batches (on_decode_error: skip) and names the first."""

    on_error: str
    skipped: int = 0
    first: str | None = None
    seen: int = 0
    names: list[str] = field(default_factory=list)

    def check(self, batch: Decoded, asked: int, training: bool) -> None:
        """Count a batch's failures, or stop on the first (on_decode_error: fail). A training
        batch with no file left stops too; an evaluation batch may be empty (a lone bad file
        at the end of a listing), as long as something decodes in the end."""
        self.seen += asked
        if not batch.errors:
            return
        if self.on_error == "fail":
            raise UserError(f"{batch.errors[0]} (data.on_decode_error: skip to skip such files)")
        self.skipped += len(batch.errors)
        self.first = self.first or batch.errors[0]
        if training and len(batch.kept) == 0:
            raise UserError(f"every file of a batch failed to decode (first: {batch.errors[0]})")

    def report(self) -> None:
        if self.skipped:
            print(
                f"skipped {self.skipped} undecodable file(s) of {self.seen} read "
                f"(first: {self.first})",
                file=sys.stderr,
            )


def decoded_batches(
    samples: FileSamples,
    decoder: Decoder,
    requests: Iterable[Request],
    workers: int,
    seed: int,
    pin: bool,
    log: DecodeLog,
    training: bool = False,
) -> Iterator[Decoded]:
    """Decoded batches in request order, from `workers` processes (0: this process)."""
    loader = torch.utils.data.DataLoader(
        DecodeBatches(samples, decoder, seed),
        sampler=_Requests(requests),
        batch_size=None,
        num_workers=workers,
        pin_memory=pin,
        worker_init_fn=_worker_init if workers else None,
        prefetch_factor=2 if workers else None,
        # its own generator: the loader draws a seed when it starts, which from torch's global
        # generator would shift every augmentation after a resume
        generator=torch.Generator().manual_seed(seed),
    )
    for batch in loader:
        log.check(batch, len(batch.kept) + len(batch.errors), training)
        if len(batch.kept):  # evaluation passes over a batch whose files all failed
            yield batch


@dataclass(frozen=True)
class StreamSettings:
    """How a modality with file sources reads them: a data spec's `StreamSpec` fields, kept
    by the modality so a saved run reads evaluation data as its recipe said. A modality whose
    decoder needs more (images: a pixel limit) subclasses it."""

    cache: str = "auto"
    cache_budget_mb: float = 1024.0
    on_decode_error: str = "fail"

    @classmethod
    def of(cls, data: StreamSpec) -> StreamSettings:
        return cls(data.cache, data.cache_budget_mb, data.on_decode_error)


def choose_streaming(
    source: FileSource, stream: StreamSettings, per_item: int, kind: str
) -> tuple[bool, str]:
    """(stream?, a line that says which and why). `auto` streams when the decoded set would
    exceed the budget; the training log prints the line, since the choice decides memory use
    and start-up time."""
    size_mb = len(source) * per_item / 2**20
    if stream.cache == "auto":
        streamed = size_mb > stream.cache_budget_mb
        why = f"decoded ~{size_mb:,.0f} MB, data.cache_budget_mb {stream.cache_budget_mb:,.0f}"
    else:
        streamed, why = stream.cache == "stream", f"data.cache: {stream.cache}"
    way = "streamed from disk" if streamed else "decoded into memory"
    return streamed, f"data: {len(source)} {kind} files {way} ({why})"


def eval_requests(n: int, batch_size: int) -> Iterator[Request]:
    for start in range(0, n, batch_size):
        yield Request(-1, np.arange(start, min(start + batch_size, n)))


def decode_all(
    files: FileSamples, decoder: Decoder, workers: int, on_error: str, report: bool = True
) -> tuple[tuple[torch.Tensor, ...], torch.Tensor]:
    """Every file through `decoder` (a modality's evaluation decoder), stacked on the CPU, and
    the positions that decoded: the in-memory copy of a small file source, or (report=False:
    files skipped there are named later, when training reads them) the few samples input
    statistics are estimated on."""
    log = DecodeLog(on_error)
    parts, kept = [], []
    for batch in decoded_batches(
        files, decoder, eval_requests(len(files), 256), workers, 0, False, log
    ):
        parts.append(batch.outputs)
        kept.append(batch.kept)
    if report:
        log.report()
    if not kept:
        raise UserError(f"{files.source.source}: no file decoded (first: {log.first})")
    return tuple(torch.cat(p) for p in zip(*parts, strict=True)), torch.cat(kept)
