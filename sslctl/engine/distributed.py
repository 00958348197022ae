"""torchrun/DDP helpers. Losses that need the global batch gather through these, so N ranks with
batch B give the loss (and gradients) of one process with batch N*B. Only rank 0 writes files.
"""

from __future__ import annotations

import os

import torch
import torch.distributed as dist
import torch.distributed.nn.functional as dist_nn
from torch import nn


def world_size() -> int:
    return dist.get_world_size() if dist.is_available() and dist.is_initialized() else 1


def rank() -> int:
    return dist.get_rank() if world_size() > 1 else 0


def is_main() -> bool:
    return rank() == 0


def init_from_env(device: torch.device) -> None:
    """Join the process group torchrun describes in the environment (no-op for one process)."""
    if int(os.environ.get("WORLD_SIZE", "1")) > 1 and not dist.is_initialized():
        dist.init_process_group("nccl" if device.type == "cuda" else "gloo")


def gather_with_grad(x: torch.Tensor) -> torch.Tensor:
    """Concatenate `x` from every rank in rank order; gradients flow back to each owner."""
    if world_size() == 1:
        return x
    return torch.cat(dist_nn.all_gather(x), dim=0)


def all_reduce_sum(x: torch.Tensor) -> torch.Tensor:
    """Differentiable sum over ranks."""
    return x if world_size() == 1 else dist_nn.all_reduce(x)


class GlobalBatchNorm(nn.modules.batchnorm._BatchNorm):
    """BatchNorm whose training statistics span all ranks, on any backend (SyncBatchNorm refuses
    CPU/gloo). Differentiable all_reduce of per-channel sums makes it exact, gradients included."""

    def _check_input_dim(self, x: torch.Tensor) -> None:
        if x.dim() < 2:
            raise ValueError(f"expected at least 2D input, got {x.dim()}D")

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if not self.training or world_size() == 1:
            return super().forward(x)
        dims = [0] + list(range(2, x.dim()))
        count = all_reduce_sum(torch.tensor(float(x.numel() // x.shape[1]), device=x.device))
        total = all_reduce_sum(torch.stack([x.sum(dims), (x * x).sum(dims)]))
        mean = total[0] / count
        var = total[1] / count - mean * mean
        if self.track_running_stats and self.running_mean is not None:
            with torch.no_grad():
                m = self.momentum if self.momentum is not None else 0.1
                unbiased = var * count / (count - 1).clamp(min=1)
                self.running_mean.mul_(1 - m).add_(mean, alpha=m)
                self.running_var.mul_(1 - m).add_(unbiased, alpha=m)
                self.num_batches_tracked.add_(1)
        shape = [1, -1] + [1] * (x.dim() - 2)
        out = (x - mean.view(shape)) * torch.rsqrt(var.view(shape) + self.eps)
        if self.affine:
            out = out * self.weight.view(shape) + self.bias.view(shape)
        return out


def convert_batchnorm(module: nn.Module) -> nn.Module:
    """Swap every BatchNorm for GlobalBatchNorm, keeping parameters and running statistics."""
    if isinstance(module, nn.modules.batchnorm._BatchNorm) and not isinstance(
        module, GlobalBatchNorm
    ):
        new = GlobalBatchNorm(
            module.num_features,
            module.eps,
            module.momentum,
            module.affine,
            module.track_running_stats,
        )
        new.load_state_dict(module.state_dict())
        return new
    for name, child in module.named_children():
        setattr(module, name, convert_batchnorm(child))
    return module


def broadcast_parameters(module: nn.Module) -> None:
    """Start every rank from rank 0's weights and buffers."""
    if world_size() > 1:
        for tensor in list(module.parameters()) + list(module.buffers()):
            dist.broadcast(tensor.data, src=0)


def average_gradients(module: nn.Module) -> None:
    """Mean of every gradient over ranks, in one flattened all_reduce.

    Done after backward rather than by DDP's bucketed reducer: losses and GlobalBatchNorm issue
    collectives inside backward, and DDP's asynchronous bucket all-reduces interleave with them
    (gradients then differ from the single-process ones; the 2-rank test catches this)."""
    if world_size() == 1:
        return
    grads = [p.grad for p in module.parameters() if p.grad is not None]
    if not grads:
        return
    flat = torch._utils._flatten_dense_tensors(grads)
    dist.all_reduce(flat)
    flat /= world_size()
    for grad, synced in zip(grads, torch._utils._unflatten_dense_tensors(flat, grads), strict=True):
        grad.copy_(synced)
