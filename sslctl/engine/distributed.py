"""torchrun and DDP for the engine: joining the process group, wrapping the method in
DistributedDataParallel, global BatchNorm, and the rare collectives of checkpoints and the stop
flag. The losses' own gathers live in sslctl/collectives.py, below methods and engine."""

from __future__ import annotations

import os
import warnings

import torch
import torch.distributed as dist
from torch import nn

from sslctl.collectives import all_reduce_sum, gather_with_grad, is_main, rank, world_size

__all__ = [
    "all_reduce_sum", "any_rank", "all_ranks", "barrier", "gather_with_grad", "init_from_env",
    "is_main", "prepare_batchnorm", "rank", "world_size", "wrap",
]  # fmt: skip


def init_from_env(device: torch.device) -> None:
    """Join the process group torchrun describes in the environment (no-op for one process).

    The group's keys go under a prefix of their own per restart attempt: after `torchrun
    --max-restarts` restarts a failed group, the rendezvous store still holds the failed
    attempt's addresses, and a rank reading one before its peer rewrote it connected to a
    dead process and failed the restart (reproduced with two bare gloo ranks)."""
    if int(os.environ.get("WORLD_SIZE", "1")) > 1 and not dist.is_initialized():
        store, rank, world = next(dist.rendezvous("env://"))
        attempt = os.environ.get("TORCHELASTIC_RESTART_COUNT", "0")
        store = dist.PrefixStore(f"sslctl/attempt_{attempt}", store)
        backend = "nccl" if device.type == "cuda" else "gloo"
        dist.init_process_group(backend, store=store, rank=rank, world_size=world)


class _GlobalNormalize(torch.autograd.Function):
    """(x - mean) / sqrt(var + eps) with mean and var over every rank's batch, as one autograd
    node with explicit collectives in forward and backward (the scheme of torch's
    SyncBatchNorm). Collectives inside a single node, rather than differentiable all_reduces
    spread through the graph, keep DDP's gradient buckets right: with the latter, BYOL's and
    DINO's gradients under DDP differed from one process's."""

    @staticmethod
    def forward(ctx, x: torch.Tensor, eps: float) -> tuple[torch.Tensor, ...]:
        """Each rank's mean and variance (two-pass, precise), combined over ranks with the
        parallel-variance formula, as torch's SyncBatchNorm does; E[x^2] - E[x]^2 from
        global sums loses digits that later steps amplify."""
        dims = [0] + list(range(2, x.dim()))
        c = x.shape[1]
        count = torch.tensor([float(x.numel() // c)], device=x.device, dtype=x.dtype)
        local = torch.cat([x.mean(dims), x.var(dims, unbiased=False), count])
        parts = [torch.empty_like(local) for _ in range(dist.get_world_size())]
        dist.all_gather(parts, local)
        stats = torch.stack(parts)  # (ranks, 2C + 1)
        n_i, n = stats[:, -1:], stats[:, -1].sum()
        mean = (stats[:, :c] * n_i).sum(0) / n
        var = ((stats[:, c : 2 * c] + (stats[:, :c] - mean) ** 2) * n_i).sum(0) / n
        invstd = torch.rsqrt(var + eps)
        shape = [1, -1] + [1] * (x.dim() - 2)
        xhat = (x - mean.view(shape)) * invstd.view(shape)
        ctx.save_for_backward(xhat, invstd, n)
        ctx.dims, ctx.shape = dims, shape
        ctx.mark_non_differentiable(mean, var, n)
        return xhat, mean, var, n

    @staticmethod
    def backward(ctx, dxhat: torch.Tensor, *_) -> tuple[torch.Tensor, None]:
        xhat, invstd, n = ctx.saved_tensors
        dims, shape = ctx.dims, ctx.shape
        sums = torch.cat([dxhat.sum(dims), (dxhat * xhat).sum(dims)])
        dist.all_reduce(sums)
        c = xhat.shape[1]
        mean_d, mean_dx = (sums[:c] / n).view(shape), (sums[c:] / n).view(shape)
        return (dxhat - mean_d - xhat * mean_dx) * invstd.view(shape), None


class GlobalBatchNorm(nn.modules.batchnorm._BatchNorm):
    """BatchNorm whose training statistics span all ranks, on any backend (torch's
    SyncBatchNorm refuses CPU modules and gloo, so multi-process CPU runs and the tests use
    this; CUDA runs use SyncBatchNorm). Exact, gradients included."""

    def _check_input_dim(self, x: torch.Tensor) -> None:
        if x.dim() < 2:
            raise ValueError(f"expected at least 2D input, got {x.dim()}D")

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if not self.training or world_size() == 1:
            return super().forward(x)
        out, mean, var, count = _GlobalNormalize.apply(x, self.eps)
        if self.track_running_stats and self.running_mean is not None:
            with torch.no_grad():
                m = self.momentum if self.momentum is not None else 0.1
                unbiased = var * count / (count - 1).clamp(min=1)
                self.running_mean.mul_(1 - m).add_(mean, alpha=m)
                self.running_var.mul_(1 - m).add_(unbiased, alpha=m)
                self.num_batches_tracked.add_(1)
        if self.affine:
            shape = [1, -1] + [1] * (x.dim() - 2)
            out = out * self.weight.view(shape) + self.bias.view(shape)
        return out


def convert_batchnorm(module: nn.Module) -> nn.Module:
    """Swap every BatchNorm for GlobalBatchNorm, keeping parameters (and whether they are
    trained) and running statistics."""
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
        for fresh, old in zip(new.parameters(), module.parameters(), strict=True):
            fresh.requires_grad_(old.requires_grad)  # a frozen teacher's BatchNorm stays frozen
        return new
    for name, child in module.named_children():
        setattr(module, name, convert_batchnorm(child))
    return module


def prepare_batchnorm(module: nn.Module, device: torch.device) -> nn.Module:
    """BatchNorm statistics over the global batch: torch's SyncBatchNorm on CUDA (NCCL), our
    GlobalBatchNorm elsewhere, since SyncBatchNorm refuses CPU modules and the gloo backend."""
    if device.type == "cuda":
        return nn.SyncBatchNorm.convert_sync_batchnorm(module)
    return convert_batchnorm(module)


def wrap(module: nn.Module) -> nn.parallel.DistributedDataParallel:
    """DistributedDataParallel, whose bucketed gradient all-reduces overlap backward.

    The losses' gathers and GlobalBatchNorm's reductions run inside backward on the same
    (default) process group; the autograd graph is the same on every rank, so every rank
    issues the collectives in the same order (a group of DDP's own was tried: under
    `torchrun --max-restarts` its store keys from the failed attempt made the restarted
    group's connection fail). Frozen submodules stay outside DDP.

    Parameters and buffers start from rank 0's (DDP broadcasts them once; frozen teachers
    start equal, being copies of the seeded student). Buffers are not broadcast at every
    forward: BatchNorm statistics are global already, and the EMA teacher, DINO's centre and
    TS2Vec's average are updated from global quantities on every rank. Inputs are not moved
    (device_ids=None): views are made on the device already, and are a list type of the
    modality's that DDP's input scatter would rebuild as a plain list."""
    frozen = _frozen_names(module)
    nn.parallel.DistributedDataParallel._set_params_and_buffers_to_ignore_for_model(module, frozen)
    with warnings.catch_warnings():  # broadcast_buffers=False is the documented way, for now
        warnings.simplefilter("ignore", FutureWarning)
        return nn.parallel.DistributedDataParallel(module, device_ids=None, broadcast_buffers=False)


def _frozen_names(module: nn.Module) -> list[str]:
    """Parameters and buffers of the frozen submodules (EMA teachers, a distillation teacher,
    TS2Vec's weight average): they stay outside DDP. Inside it, BYOL's and DINO's gradients
    under DDP differed from one process's (tests/engine/test_ddp.py)."""
    names = []
    for prefix, sub in module.named_modules():
        params = list(sub.parameters())
        if prefix and params and not any(p.requires_grad for p in params):
            names += [f"{prefix}.{n}" for n, _ in sub.named_parameters()]
            names += [f"{prefix}.{n}" for n, _ in sub.named_buffers()]
    return sorted(set(names))


def barrier() -> None:
    if world_size() > 1:
        dist.barrier()


def all_ranks(obj: object) -> list:
    """`obj` from every rank, in rank order (checkpoints: each rank's RNG state)."""
    if world_size() == 1:
        return [obj]
    out: list = [None] * world_size()
    dist.all_gather_object(out, obj)
    return out


def any_rank(flag: bool, device: torch.device) -> bool:
    """True when `flag` is set on any rank; a collective and a host read, so called only at
    log boundaries (the stop flag), never every step."""
    if world_size() == 1:
        return flag
    t = torch.tensor(float(flag), device=device)
    dist.all_reduce(t)
    return bool(t.item() > 0)
