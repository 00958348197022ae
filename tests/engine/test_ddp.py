"""Two gloo processes with batch B give the loss and gradients of one process with batch 2B,
through the trainer's path: global BatchNorm, gathers with gradient, DistributedDataParallel."""

from __future__ import annotations

import os

import pytest
import torch
import torch.multiprocessing as mp

from sslctl.engine import distributed as ddp
from sslctl.methods import build_method
from sslctl.modalities.base import Views
from sslctl.modalities.image.modality import ImageModality
from sslctl.recipe import EncoderSpec, validate
from tests.conftest import small_recipe

SPEC = {"modality": "image", "channels": 1, "image_size": 16, "mean": [0.3], "std": [0.3]}
METHODS = {
    "simclr": {"name": "simclr", "proj_hidden": 32, "proj_dim": 16},
    "barlow": {"name": "barlow", "proj_hidden": 32, "proj_dim": 16},
    "vicreg": {"name": "vicreg", "proj_hidden": 32, "proj_dim": 16},
    "byol": {"name": "byol", "proj_hidden": 32, "proj_dim": 16},
    "dino": {
        "name": "dino",
        "out_dim": 32,
        "hidden_dim": 32,
        "bottleneck_dim": 16,
        "local_crops": 0,
    },
}


def _build(method: str):
    torch.manual_seed(0)
    recipe = validate(small_recipe(method=METHODS[method]), "t")
    encoder = ImageModality(SPEC).build_encoder(EncoderSpec(name="resnet18"))
    return build_method(recipe.method, encoder)


def _views(batch: int) -> Views:
    g = torch.Generator().manual_seed(1)
    return Views([torch.rand(batch, 1, 16, 16, generator=g) for _ in range(2)], 2, torch.cat)


def _grads(method) -> torch.Tensor:
    return torch.cat([p.grad.flatten() for p in method.parameters() if p.grad is not None])


def _worker(rank: int, method_name: str, port: int, out: str) -> None:
    os.environ.update(MASTER_ADDR="127.0.0.1", MASTER_PORT=str(port))
    torch.distributed.init_process_group("gloo", rank=rank, world_size=2)
    torch.set_num_threads(1)
    method = ddp.prepare_batchnorm(_build(method_name), torch.device("cpu")).train()
    model = ddp.wrap(method)  # as the trainer does: DDP reduces gradients during backward
    views = Views([v[rank * 8 : (rank + 1) * 8] for v in _views(16)], 2, torch.cat)
    loss, _ = model(views)
    loss.backward()
    total = loss.detach().clone()
    torch.distributed.all_reduce(total)
    if rank == 0:
        torch.save({"loss": total / 2, "grads": _grads(method)}, out)
    torch.distributed.destroy_process_group()


@pytest.mark.parametrize("method_name", list(METHODS))
def test_two_gloo_ranks_match_one_process(method_name, tmp_path):
    out = str(tmp_path / "rank0.pt")
    port = 29500 + list(METHODS).index(method_name) + os.getpid() % 200
    mp.spawn(_worker, args=(method_name, port, out), nprocs=2, join=True)
    dist = torch.load(out, weights_only=True)
    method = _build(method_name).train()
    loss, _ = method(_views(16))
    loss.backward()
    assert torch.allclose(dist["loss"], loss.detach(), rtol=1e-4, atol=1e-5)
    ref = _grads(method)
    assert dist["grads"].shape == ref.shape
    torch.testing.assert_close(dist["grads"], ref, rtol=1e-3, atol=1e-5 * ref.abs().max().item())
