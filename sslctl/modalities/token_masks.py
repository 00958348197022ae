"""Context and target masks over a grid of patch tokens, for latent prediction (JEPA).

A modality that makes `context-targets` views attaches one of these maskings to them; the
method cuts its encoder's patch tokens by the masks it samples. Every mask of one batch has the
same token counts, so the context and the targets of all samples stack into one tensor each, as
I-JEPA's collator makes them: targets of one batch share one block size, and contexts are cut
to the batch's smallest, keeping their first tokens in raster order.

Masks are sampled on the CPU with torch's (seeded, checkpointed) generator, in batched tensor
ops, and handed to the device without a host sync: their sizes are known on the host.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Protocol

import torch

from sslctl.errors import UserError

RESAMPLES = 100  # rows whose context is too small are drawn again, at most this often


class Masking(Protocol):
    """A modality's masking of patch tokens: masks for `batch` samples on a token grid."""

    def sample(self, batch: int, grid: tuple[int, ...]) -> TokenMasks: ...


@dataclass(frozen=True)
class TokenMasks:
    """Token indices into the row-major flattened grid, both in raster order: `context` (B, Nc),
    what the context encoder sees; `targets` (B, M, Nt), M target sets it predicts."""

    context: torch.Tensor
    targets: torch.Tensor


def _block_area(rng_u: float, tokens: int, scale: tuple[float, float]) -> int:
    """Tokens a block covers: `scale` of `tokens`, interpolated by one uniform draw."""
    return int(tokens * (scale[0] + rng_u * (scale[1] - scale[0])))


def _block_side(rng_u: float, tokens: int, scale: tuple[float, float], aspect: tuple[float, float]):
    """(height, width) of a block covering `scale` of `tokens` at height/width `aspect`; one
    uniform draw sets both, as I-JEPA's `_sample_block_size` does."""
    area = _block_area(rng_u, tokens, scale)
    ratio = aspect[0] + rng_u * (aspect[1] - aspect[0])
    return round(math.sqrt(area * ratio)), round(math.sqrt(area / ratio))


def _blocks(batch: int, count: int, size: tuple[int, int], grid: tuple[int, int]) -> torch.Tensor:
    """(batch, count, H, W) bool: `count` blocks of `size` per sample, each placed uniformly
    anywhere it fits."""
    (h, w), (gh, gw) = size, grid
    top = torch.randint(0, gh - h + 1, (batch, count, 1, 1))
    left = torch.randint(0, gw - w + 1, (batch, count, 1, 1))
    rows = torch.arange(gh).view(1, 1, gh, 1)
    cols = torch.arange(gw).view(1, 1, 1, gw)
    return (rows >= top) & (rows < top + h) & (cols >= left) & (cols < left + w)


def _first_true(mask: torch.Tensor, count: int) -> torch.Tensor:
    """Per row of a (B, N) bool mask, the indices of its first `count` True entries (each row
    has at least that many), in raster order."""
    order = torch.sort((~mask).to(torch.uint8), dim=1, stable=True).indices
    return order[:, :count]


def _too_small(grid: tuple[int, ...], what: str) -> UserError:
    return UserError(
        f"encoder: a {'x'.join(map(str, grid))} patch grid is too small for {what}; use smaller "
        "patches or larger inputs"
    )


@dataclass(frozen=True)
class BlockMasking:
    """I-JEPA's multi-block masking on a 2-D grid (images; spectrograms' frequency x time):
    `targets` blocks of one size per batch (scale and aspect ratio drawn by one uniform
    number, as the official sampler), and one context block (aspect 1) with every target
    removed, so context and targets never share a token; a sample whose context keeps fewer
    than `min_context` tokens is drawn again (the official sampler instead lets the context
    overlap targets after repeated failures). Unlike the official sampler, whose exclusive
    bounds keep blocks off the last row and column (on its 14x14 grid the context is always the
    top-left 13x13), blocks may reach every edge and may span a whole side.

    `full_height` makes every block span all rows (on a spectrogram's mel x time grid: every
    mel band), its width in columns set by its scale alone: the targets are stretches of time,
    which cannot be filled in from the same frames' other bands, and on a grid of one row (frame
    tokens, patches as tall as the spectrogram) the context still covers 85-100 % of it."""

    targets: int = 4
    target_scale: tuple[float, float] = (0.15, 0.2)
    target_aspect: tuple[float, float] = (0.75, 1.5)
    context_scale: tuple[float, float] = (0.85, 1.0)
    min_context: int = 10
    full_height: bool = False

    def sample(self, batch: int, grid: tuple[int, ...]) -> TokenMasks:
        if len(grid) != 2:
            raise UserError(f"encoder: block masking needs a 2-D patch grid, not {grid}")
        target_size = self._size(grid, self.target_scale, self.target_aspect)
        context_size = self._size(grid, self.context_scale, (1.0, 1.0))
        targets = _blocks(batch, self.targets, target_size, grid)
        context = _blocks(batch, 1, context_size, grid)[:, 0] & ~targets.any(1)
        for _ in range(RESAMPLES):
            short = context.flatten(1).sum(1) < self.min_context
            if not short.any():
                break
            again = _blocks(batch, self.targets, target_size, grid)
            targets = torch.where(short[:, None, None, None], again, targets)
            fresh = _blocks(batch, 1, context_size, grid)[:, 0] & ~targets.any(1)
            context = torch.where(short[:, None, None], fresh, context)
        else:
            raise _too_small(grid, f"a context of {self.min_context} tokens beside the targets")
        kept = int(context.flatten(1).sum(1).min())
        tokens = targets.flatten(2)
        per_target = target_size[0] * target_size[1]
        target_index = _first_true(tokens.flatten(0, 1), per_target).view(batch, self.targets, -1)
        return TokenMasks(_first_true(context.flatten(1), kept), target_index)

    def _size(
        self, grid: tuple[int, int], scale: tuple[float, float], aspect: tuple[float, float]
    ) -> tuple[int, int]:
        """(height, width) of this batch's blocks covering `scale` of the grid, from one uniform
        draw, fitted to the grid: at height/width `aspect`, or with `full_height` every row and
        the width the scale asks (a square context on a grid of one row would keep a handful of
        tokens)."""
        rng_u = float(torch.rand(()))
        gh, gw = grid
        if self.full_height:
            size = gh, round(_block_area(rng_u, gh * gw, scale) / gh)
        else:
            size = _block_side(rng_u, gh * gw, scale, aspect)
        return tuple(min(max(1, side), g) for side, g in zip(size, grid, strict=True))


@dataclass(frozen=True)
class SpanMasking:
    """ECG-JEPA's masking on a 1-D grid of time patches (series; the mask is shared by every
    channel): a share `keep` of the patches (drawn once per batch) is the context and the rest,
    in `spans` contiguous runs, is the one target set. Runs and the kept stretches between them
    have random lengths (uniform compositions), drawn per sample in one batched op."""

    keep: tuple[float, float] = (0.15, 0.25)
    spans: int = 4

    def sample(self, batch: int, grid: tuple[int, ...]) -> TokenMasks:
        if len(grid) != 1:
            raise UserError(f"encoder: span masking needs a 1-D patch grid, not {grid}")
        (n,) = grid
        if n < 2:
            raise _too_small(grid, "a context and a target")
        ratio = self.keep[0] + float(torch.rand(())) * (self.keep[1] - self.keep[0])
        kept = min(n - 1, max(1, math.ceil(ratio * n)))
        masked = n - kept
        runs = min(self.spans, masked)
        # target run lengths: `runs` parts >= 1 of `masked`; kept stretches: runs + 1 parts
        # >= 0 of `kept` (stars and bars), both from sorted random cut points
        cuts = torch.rand(batch, masked - 1).argsort(1)[:, : runs - 1].sort(1).values + 1
        bounds = torch.cat(
            [torch.zeros(batch, 1, dtype=torch.long), cuts, torch.full((batch, 1), masked)], 1
        )
        run_len = bounds.diff(1)
        bars = torch.rand(batch, kept + runs).argsort(1)[:, :runs].sort(1).values
        gap_bounds = torch.cat(
            [torch.full((batch, 1), -1), bars, torch.full((batch, 1), kept + runs)], 1
        )
        gap_len = gap_bounds.diff(1) - 1
        lengths = torch.stack([gap_len[:, :-1], run_len], 2).flatten(1)
        lengths = torch.cat([lengths, gap_len[:, -1:]], 1)  # gap, run, gap, ..., run, gap
        ends = lengths.cumsum(1)
        segment = torch.searchsorted(
            ends, torch.arange(n).expand(batch, n).contiguous(), right=True
        )
        target = segment % 2 == 1
        return TokenMasks(_first_true(~target, kept), _first_true(target, masked)[:, None])
