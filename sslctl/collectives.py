"""The collectives below both methods and engine: the losses gather across ranks through
these (so N ranks with batch B give the loss and gradients of one process with batch N*B), and
the engine asks who and how many the ranks are. Single-process runs pay nothing."""

from __future__ import annotations

import warnings

import torch
import torch.distributed as dist
import torch.distributed.nn.functional as dist_nn

# torch 2.14 marks the differentiable collectives of torch.distributed.nn deprecated in favour
# of the private torch.distributed._functional_collectives; the losses' gathers with gradient
# keep the public ones, without a warning in every run's output.
warnings.filterwarnings(
    "ignore", r"torch\.distributed\.nn\.functional\.\w+ is deprecated", FutureWarning
)


def world_size() -> int:
    return dist.get_world_size() if dist.is_available() and dist.is_initialized() else 1


def rank() -> int:
    return dist.get_rank() if world_size() > 1 else 0


def is_main() -> bool:
    return rank() == 0


def gather_with_grad(x: torch.Tensor) -> torch.Tensor:
    """Concatenate `x` from every rank in rank order; gradients flow back to each owner."""
    if world_size() == 1:
        return x
    return torch.cat(dist_nn.all_gather(x), dim=0)


def all_reduce_sum(x: torch.Tensor) -> torch.Tensor:
    """Differentiable sum over ranks."""
    return x if world_size() == 1 else dist_nn.all_reduce(x)
