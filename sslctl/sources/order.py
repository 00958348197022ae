"""Which samples a rank reads in an epoch: pure functions of (seed, epoch, rank, world), so a
resumed run reads exactly what the uninterrupted one would have.

Sources held in memory or listed from a folder take one global permutation per epoch, and
each step's global batch is split across ranks: N ranks with batch B see the batches one
process with batch N*B sees, which is what makes multi-process training match one process.

WebDataset shards are read as shards are meant to be read at scale: each epoch permutes the
shards, each rank takes its own contiguous part of that shard sequence (so ranks read
disjoint shards, apart from the one shard at each boundary, which two ranks split), and the
samples are shuffled within windows of a few consecutive shards, so a rank reads a handful
of shards at a time instead of seeking across all of them.
"""

from __future__ import annotations

import numpy as np
import torch

SHUFFLE_WINDOW = 4  # shards whose samples are shuffled together


def global_order(n: int, seed: int, epoch: int) -> torch.Tensor:
    g = torch.Generator().manual_seed(seed * 1_000_003 + epoch)
    return torch.randperm(n, generator=g)


def shard_order(shard_of: np.ndarray, seed: int, epoch: int, rank: int, world: int) -> torch.Tensor:
    """This rank's `len(shard_of) // world` sample positions for `epoch`; `shard_of[i]` is
    sample i's shard, samples of one shard being contiguous."""
    rng = np.random.default_rng([seed, epoch])
    starts = np.flatnonzero(np.r_[True, shard_of[1:] != shard_of[:-1]])
    ends = np.r_[starts[1:], len(shard_of)]
    order = rng.permutation(len(starts))
    sequence = np.concatenate([np.arange(starts[s], ends[s]) for s in order])
    per_rank = len(shard_of) // world
    mine = sequence[rank * per_rank : (rank + 1) * per_rank]
    window = SHUFFLE_WINDOW * max(1, len(shard_of) // len(starts))
    local = np.random.default_rng([seed, epoch, rank + 1])
    for start in range(0, len(mine), window):
        local.shuffle(mine[start : start + window])
    return torch.from_numpy(mine)
