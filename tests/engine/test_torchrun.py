"""The engine under torchrun: DistributedDataParallel gives the weights of one process with
the ranks' batches together (accumulation included), two localhost agents act as two nodes,
a killed rank makes the group restart and resume, and no step reads the device's values."""

from __future__ import annotations

import json
import socket
import subprocess
import sys

import pytest
import torch
import yaml
from safetensors.torch import load_file

from tests.conftest import FAST_ENCODER, ROOT, cli, process_command, small_recipe

ENTRY = str(ROOT / "tests" / "engine" / "torchrun_entry.py")


def _port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _env(**extra: str) -> dict:
    env = {**process_command()["env"], "PYTHONPATH": str(ROOT), "OMP_NUM_THREADS": "1"}
    env.update(extra)
    return env


def torchrun(args: list, nproc: int, env: dict, nnodes: int = 1, rdzv: str = "", **popen):
    """One torchrun agent running tests/engine/torchrun_entry.py with `args` (the sslctl CLI)."""
    command = [sys.executable, "-m", "torch.distributed.run", f"--nproc-per-node={nproc}"]
    if nnodes > 1:
        command += [f"--nnodes={nnodes}", "--rdzv-backend=c10d", f"--rdzv-endpoint={rdzv}"]
        command += ["--rdzv-id=sslctl-test"]
    else:
        command += [f"--master-port={_port()}"]
    command += popen.pop("torchrun_args", [])
    return [*command, ENTRY, *map(str, args)], env


def run(command_env, **kwargs) -> subprocess.CompletedProcess:
    command, env = command_env
    return subprocess.run(command, env=env, capture_output=True, text=True, timeout=600, **kwargs)


def _recipe(tmp_path, name: str, **train) -> str:
    """SimCLR on 16 px digits with SGD. Ranks sum in another order than one process, and this
    small network amplifies float-level differences fast (one process with 1 and with 2 CPU
    threads already differs by 1e-4 in its stem after two steps; Adam turns them into full
    +-lr updates), so weights are compared after one full optimizer step: DDP's bucketed
    reduction, no_sync over the micro-batches, BatchNorm and the loss gathers all take part."""
    tree = small_recipe(
        encoder=FAST_ENCODER,
        method={"name": "simclr", "proj_hidden": 32, "proj_dim": 16},
        optim={"name": "sgd", "lr": 0.05, "momentum": 0.9, "warmup_epochs": 0},
        train={"epochs": 1, "log_every": 1, "checkpoint_every": 1000, **train},
    )
    tree["data"]["image_size"] = 16
    path = tmp_path / f"{name}.yaml"
    path.write_text(yaml.safe_dump(tree))
    return str(path)


def _single(tmp_path, recipe: str, out: str) -> None:
    command = [sys.executable, ENTRY, "pretrain", recipe, "--out", tmp_path / out, "--quiet"]
    proc = subprocess.run(
        [*map(str, command)],
        env=_env(SSLCTL_TEST_IDENTITY_VIEWS="1"),
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]


def _assert_same_weights(a, b) -> None:
    wa, wb = load_file(a / "encoder.safetensors"), load_file(b / "encoder.safetensors")
    assert wa.keys() == wb.keys()
    for key in wa:
        torch.testing.assert_close(wa[key], wb[key], rtol=1e-4, atol=1e-5)


@pytest.mark.slow
def test_two_ranks_with_accumulation_match_one_process(tmp_path):
    """2 ranks x batch 8 x accumulate 2 and 1 process x batch 16 x accumulate 2 train on the
    same global micro-batches; DDP (no_sync on the first micro-batch) must give its weights.
    The restart test below runs 10 steps of 2 ranks against 10 steps of 2 ranks.
    (One process with batch 32 and no accumulation is a different objective for SimCLR and
    BatchNorm, whose losses and statistics span a micro-batch, so it is not the reference.)"""
    dist_recipe = _recipe(tmp_path, "dist", batch_size=8, accumulate=2, steps=1)
    one_recipe = _recipe(tmp_path, "one", batch_size=16, accumulate=2, steps=1)
    env = _env(SSLCTL_TEST_IDENTITY_VIEWS="1")
    proc = run(torchrun(["pretrain", dist_recipe, "--out", tmp_path / "dist", "--quiet"], 2, env))
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert proc.stdout.splitlines() == [str(tmp_path / "dist")]  # one line, not one per rank
    _single(tmp_path, one_recipe, "one")
    _assert_same_weights(tmp_path / "dist", tmp_path / "one")
    assert sorted(p.name for p in (tmp_path / "dist").iterdir()) == sorted(
        p.name for p in (tmp_path / "one").iterdir()
    )  # rank 0 alone wrote the run


@pytest.mark.slow
def test_two_nodes_of_two_ranks_match_one_process_and_read_disjoint_shards(tmp_path):
    """Two torchrun agents on localhost form a 2-node x 2-process group (c10d rendezvous): the
    4 ranks with batch 8 end with the weights of one process with batch 32, and on WebDataset
    shards the 4 ranks read disjoint shards that together hold every sample once."""
    rdzv = f"127.0.0.1:{_port()}"
    four = _recipe(tmp_path, "four", batch_size=8, steps=1)
    one = _recipe(tmp_path, "one", batch_size=32, steps=1)

    def two_agents(args, env):
        command, env = torchrun(args, 2, env, nnodes=2, rdzv=rdzv)
        agents = [
            subprocess.Popen(
                command, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
            )
            for _ in range(2)
        ]
        return [(a.wait(timeout=600), a.stderr.read()) for a in agents]

    for code, err in two_agents(
        ["pretrain", four, "--out", tmp_path / "four", "--quiet"],
        _env(SSLCTL_TEST_IDENTITY_VIEWS="1"),
    ):
        assert code == 0, err[-3000:]
    _single(tmp_path, one, "one")
    _assert_same_weights(tmp_path / "four", tmp_path / "one")

    shards = tmp_path / "shards"
    cli("pack", "builtin:digits:test", shards, "--shard-size", "30", "--quiet", check=True)
    tree = yaml.safe_load(open(four))
    tree["data"].update(train=str(shards), cache="stream")
    tree["train"].update(num_workers=0, batch_size=10, epochs=1, steps=None)
    (tmp_path / "sh.yaml").write_text(yaml.safe_dump(tree))
    rdzv = f"127.0.0.1:{_port()}"
    env = _env(SSLCTL_TEST_TRACE=str(tmp_path / "trace"))
    for code, err in two_agents(
        ["pretrain", tmp_path / "sh.yaml", "--out", tmp_path / "sh", "--quiet"], env
    ):
        assert code == 0, err[-3000:]
    seen = []
    for rank in range(4):
        lines = (tmp_path / f"trace.{rank}").read_text().splitlines()
        seen.append([r for epoch, rows in map(json.loads, lines) for r in rows if epoch == 0])
    assert all(len(s) == 90 for s in seen)  # 360 test digits / 4 ranks, 9 batches of 10
    assert sorted(sum(seen, [])) == list(range(360))
    from sslctl.sources.files import open_file_source

    shard_of = open_file_source(str(shards), {".png"}, "image").members[:, 0]
    touched = [set(shard_of[s].tolist()) for s in seen]
    for i in range(4):
        for j in range(i + 1, 4):
            assert len(touched[i] & touched[j]) <= 1  # at most the shard split at a boundary


@pytest.mark.slow
def test_a_killed_rank_restarts_the_group_which_resumes_to_the_same_weights(tmp_path):
    recipe = _recipe(tmp_path, "r", batch_size=8, steps=10, checkpoint_every=4)
    args = ["pretrain", recipe, "--out", tmp_path / "full", "--quiet"]
    proc = run(torchrun(args, 2, _env()))
    assert proc.returncode == 0, proc.stderr[-3000:]
    args = ["pretrain", recipe, "--out", tmp_path / "killed", "--quiet"]
    env = _env(SSLCTL_TEST_KILL="1:7")  # rank 1 dies starting step 7; checkpoint at step 4
    proc = run(torchrun(args, 2, env, torchrun_args=["--max-restarts=1"]))
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert "exitcode: -9" in proc.stderr  # rank 1 was killed, and the restarted group finished
    _assert_same_weights(tmp_path / "full", tmp_path / "killed")
    steps = [json.loads(line)["step"] for line in open(tmp_path / "killed" / "metrics.jsonl")]
    assert steps == list(range(1, steps[-1] + 1))  # resumed from step 4, no step logged twice


@pytest.mark.slow
def test_online_evaluation_under_two_ranks_logs_once_and_leaves_the_weights_alone(tmp_path):
    """Rank 0 alone evaluates at train.eval_every while rank 1 waits in the next step's
    gradient reduction: the run finishes (no rank deadlocks on the SyncBatchNorm the encoder
    is converted to), metrics.jsonl holds each step once with kNN and RankMe at the
    evaluation steps, and the weights are those of the same two-rank run without it."""
    watched = _recipe(tmp_path, "w", batch_size=8, steps=4, eval_every=2, eval_samples=100)
    plain = _recipe(tmp_path, "p", batch_size=8, steps=4)
    for recipe, out in ((watched, "watched"), (plain, "plain")):
        args = ["pretrain", recipe, "--out", tmp_path / out, "--quiet"]
        proc = run(torchrun(args, 2, _env()))
        assert proc.returncode == 0, proc.stderr[-3000:]
    lines = [json.loads(line) for line in open(tmp_path / "watched" / "metrics.jsonl")]
    assert [r["step"] for r in lines] == [1, 2, 3, 4]
    assert [r["step"] for r in lines if "knn_top1" in r and "rankme" in r] == [2, 4]
    assert all(10 < r["knn_top1"] <= 100 for r in lines if "knn_top1" in r)
    _assert_same_weights(tmp_path / "watched", tmp_path / "plain")


def test_no_step_reads_the_device_between_log_boundaries(write_recipe, tmp_path, monkeypatch):
    """Every .item(), float(), int() or bool() of a device tensor is a device-to-host sync on
    GPU: a run of 8 steps must make exactly as many as a run of 4 (the log boundary's, the
    run's end). torch's optimizers read their step counters with .item(), but those live on
    the host (non-capturable optimizers keep them there to avoid syncs), so they are not
    counted."""
    reads = []

    def counting(real):
        def read(self, *args, **kwargs):
            if "torch/optim/" not in sys._getframe(1).f_code.co_filename:
                reads.append(1)
            return real(self, *args, **kwargs)

        return read

    for name in ("item", "__float__", "__int__", "__bool__", "tolist"):
        monkeypatch.setattr(torch.Tensor, name, counting(getattr(torch.Tensor, name)))
    counts = []
    for steps in (4, 8):
        tree = small_recipe(encoder=FAST_ENCODER, train={"steps": steps, "log_every": 100})
        reads.clear()
        recipe = write_recipe(tree, f"r{steps}.yaml")
        cli("pretrain", recipe, "--out", tmp_path / str(steps), "--quiet", check=True)
        counts.append(len(reads))
    assert counts[0] == counts[1], counts
