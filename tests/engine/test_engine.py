"""Engine contracts: seeded runs repeat exactly, a killed run resumes to the same weights,
a NaN loss stops with the step named, checkpoints load with weights_only=True."""

from __future__ import annotations

import json
import subprocess

import pytest
import torch
from safetensors.torch import load_file

from tests.conftest import (
    FAST_ENCODER,
    cli,
    interrupted_at,
    one_line_exit_2,
    process_command,
    small_recipe,
)


def _metrics(run) -> list[dict]:
    rows = [json.loads(line) for line in (run / "metrics.jsonl").read_text().splitlines()]
    for row in rows:
        row.pop("throughput")
    return rows


def test_same_seed_same_metrics(write_recipe, tmp_path):
    recipe = write_recipe(small_recipe(encoder=FAST_ENCODER, train={"epochs": 1, "log_every": 2}))
    for name in ("a", "b"):
        cli("pretrain", recipe, "--out", tmp_path / name, "--quiet", check=True)
    a, b = _metrics(tmp_path / "a"), _metrics(tmp_path / "b")
    assert len(a) == 11 and a == b
    assert a[-1]["loss"] < a[0]["loss"]


@pytest.mark.slow
def test_resume_after_sigint_matches_uninterrupted(write_recipe, tmp_path):
    tree = small_recipe(
        encoder=FAST_ENCODER, train={"epochs": 2, "log_every": 1, "checkpoint_every": 1000}
    )
    tree["method"]["name"] = "byol"  # EMA teacher and BatchNorm state must survive too
    tree["method"].update(proj_hidden=64, proj_dim=32)
    recipe = write_recipe(tree)
    cli("pretrain", recipe, "--out", tmp_path / "full", "--quiet", check=True)

    killed = tmp_path / "killed"
    stopped_at = interrupted_at(
        "pretrain", recipe, "--out", killed, "--quiet", run=killed, lines=12
    )
    assert 12 <= stopped_at < 44  # mid-run, and mid-epoch unless it landed exactly on 22
    assert not (killed / "encoder.safetensors").exists()

    cli("pretrain", recipe, "--out", killed, "--resume", "--quiet", check=True)
    full, resumed = (
        load_file(tmp_path / "full" / "encoder.safetensors"),
        load_file(killed / "encoder.safetensors"),
    )
    assert full.keys() == resumed.keys()
    for key in full:
        torch.testing.assert_close(resumed[key], full[key], rtol=1e-4, atol=1e-5)
    resumed_log, full_log = _metrics(killed), _metrics(tmp_path / "full")
    assert [r["step"] for r in resumed_log] == [r["step"] for r in full_log]
    assert [r["loss"] for r in resumed_log] == pytest.approx(
        [r["loss"] for r in full_log], rel=1e-4
    )


def test_refuses_to_overwrite_and_resume_without_checkpoint(write_recipe, tmp_path):
    recipe = write_recipe(small_recipe(train={"epochs": 0}))
    cli("pretrain", recipe, "--out", tmp_path / "r", "--quiet", check=True)
    again = cli("pretrain", recipe, "--out", tmp_path / "r", "--quiet")
    one_line_exit_2(again, "--resume")
    missing = cli("pretrain", recipe, "--out", tmp_path / "none", "--resume", "--quiet")
    one_line_exit_2(missing, "does not exist")


def test_nan_loss_stops_with_step_and_keeps_last_checkpoint(write_recipe, tmp_path, monkeypatch):
    """The loss turns NaN at its third call (lr is bounded now, so it cannot be made to
    diverge from the recipe): the run stops naming that step, keeping the checkpoint before."""
    from sslctl.methods import simclr

    calls, loss = [], simclr.nt_xent

    def diverging(*args, **kwargs):
        calls.append(1)
        value = loss(*args, **kwargs)
        return value * float("nan") if len(calls) >= 3 else value

    monkeypatch.setattr(simclr, "nt_xent", diverging)
    tree = small_recipe(train={"epochs": 2, "log_every": 50, "checkpoint_every": 1})
    proc = cli("pretrain", write_recipe(tree), "--out", tmp_path / "r", "--quiet")
    assert proc.returncode == 1
    line = proc.stderr.strip()
    assert line.startswith("error: loss became NaN/inf at step ") and "\n" not in line
    bad = int(line.split("at step ")[1].split(";")[0])
    assert bad == 2  # the third step (0-based), where the loss first became NaN
    ckpt = torch.load(tmp_path / "r" / "checkpoints" / "last.pt", weights_only=True)
    assert ckpt["step"] == bad  # the state the bad step started from; nothing after it
    for value in ckpt["method"].values():
        assert torch.isfinite(value.float()).all()


@pytest.mark.slow
def test_compiled_training_matches_eager(write_recipe, tmp_path):
    """train.compile: true (torch.compile, inductor on CPU) trains the same 3 steps as eager
    mode, losses within 1e-4 relative (kernels fuse and reorder float arithmetic)."""
    recipe = write_recipe(small_recipe(encoder=FAST_ENCODER, train={"steps": 3, "log_every": 1}))
    for name, sets in (("eager", []), ("compiled", ["--set", "train.compile=true"])):
        proc = subprocess.run(
            **process_command("pretrain", recipe, "--out", tmp_path / name, "--quiet", *sets),
            capture_output=True,
            text=True,
            timeout=900,
        )
        assert proc.returncode == 0, proc.stderr[-2000:]
    eager, compiled = _metrics(tmp_path / "eager"), _metrics(tmp_path / "compiled")
    assert [r["step"] for r in eager] == [r["step"] for r in compiled] == [1, 2, 3]
    assert [r["loss"] for r in compiled] == pytest.approx([r["loss"] for r in eager], rel=1e-4)
