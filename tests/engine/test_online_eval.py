"""Training you can watch: online kNN, RankMe and embedding std at each train.eval_every step
(in metrics.jsonl and TensorBoard), without changing what the run learns."""

from __future__ import annotations

import json

import pytest
import torch
from safetensors.torch import load_file

from tests.conftest import cli, interrupted_at

RECIPE = "recipes/image/fashion-mnist/simclr.yaml"
# 9 steps of 32 images; an evaluation every 3 steps on 200 probe-train and 50 probe-test
SETS = {
    "encoder.name": "resnet10t",
    "method.proj_hidden": 64,
    "method.proj_dim": 32,
    "train.steps": 9,
    "train.batch_size": 32,
    "train.log_every": 1,
    "train.eval_every": 3,
    "train.eval_samples": 200,
    "train.checkpoint_every": 1000,
    "train.tensorboard": "true",
}
ARGS = [a for key, value in SETS.items() for a in ("--set", f"{key}={value}")]


def _lines(run) -> list[dict]:
    return [json.loads(line) for line in (run / "metrics.jsonl").read_text().splitlines()]


@pytest.fixture(scope="module")
def full_run(tmp_path_factory):
    run = tmp_path_factory.mktemp("online") / "full"
    cli("pretrain", RECIPE, "--out", run, "--quiet", *ARGS, check=True)
    return run


@pytest.mark.slow
def test_metrics_hold_knn_and_rankme_at_each_eval_step(full_run):
    lines = _lines(full_run)
    evaluated = [r["step"] for r in lines if "knn_top1" in r]
    assert evaluated == [3, 6, 9]
    for r in lines:
        assert {"loss", "lr", "wd", "grad_norm", "throughput"} <= r.keys()
        if r["step"] in evaluated:
            assert 10 < r["knn_top1"] <= 100  # 10 classes: chance is 10
            assert 1 < r["rankme"] <= 512  # resnet10t embeds in 512 dimensions
            assert 0 < r["emb_std"] <= 1 and r["eval_s"] > 0
        else:
            assert not {"knn_top1", "rankme", "emb_std"} & r.keys()


@pytest.mark.slow
def test_resume_across_an_eval_step_gives_identical_weights(full_run, tmp_path):
    killed = tmp_path / "killed"
    stopped_at = interrupted_at(
        "pretrain", RECIPE, "--out", killed, "--quiet", *ARGS, run=killed, lines=4
    )
    assert 4 <= stopped_at < 9  # evaluated at 3, and the resumed part crosses 6 and 9
    cli("pretrain", RECIPE, "--out", killed, "--resume", "--quiet", *ARGS, check=True)

    full, resumed = (load_file(p / "encoder.safetensors") for p in (full_run, killed))
    assert full.keys() == resumed.keys()
    for key in full:
        assert torch.equal(resumed[key], full[key]), key
    drop = ("throughput", "eval_s")
    strip = lambda rows: [{k: v for k, v in r.items() if k not in drop} for r in rows]  # noqa: E731
    assert strip(_lines(killed)) == strip(_lines(full_run))


@pytest.mark.slow
def test_evaluating_changes_nothing_the_run_learns(full_run, tmp_path):
    """The evaluation draws no random number from training's generators: the same recipe
    without it learns the same weights, step for step."""
    plain = tmp_path / "plain"
    off = ["--set", "train.eval_every=null", "--set", "train.tensorboard=false"]
    cli("pretrain", RECIPE, "--out", plain, "--quiet", *ARGS, *off, check=True)
    full, without = (load_file(p / "encoder.safetensors") for p in (full_run, plain))
    for key in full:
        assert torch.equal(without[key], full[key]), key
    assert [r["loss"] for r in _lines(plain)] == [r["loss"] for r in _lines(full_run)]


@pytest.mark.slow
def test_tensorboard_reader_finds_the_tags(full_run):
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    events = EventAccumulator(str(full_run / "tb"))
    events.Reload()
    tags = set(events.Tags()["scalars"])
    expected = {f"train/{k}" for k in ("loss", "lr", "wd", "throughput", "grad_norm")}
    expected |= {f"eval/{k}" for k in ("knn_top1", "rankme", "emb_std", "eval_s")}
    assert expected <= tags, expected - tags
    assert [e.step for e in events.Scalars("eval/knn_top1")] == [3, 6, 9]
    knn = [r["knn_top1"] for r in _lines(full_run) if "knn_top1" in r]
    assert [e.value for e in events.Scalars("eval/knn_top1")] == pytest.approx(knn)


def test_embedding_std_tells_spread_from_collapse():
    from sslctl.engine.online_eval import embedding_std

    spread = torch.randn(4000, 64)
    assert embedding_std(spread) == pytest.approx(64**-0.5, rel=0.05)
    collapsed = torch.ones(4000, 64) + 1e-6 * torch.randn(4000, 64)
    assert embedding_std(collapsed) < 1e-4


def test_the_fixed_sample_draws_nothing_from_the_training_rng():
    from sslctl.engine.online_eval import fixed_subset
    from sslctl.modalities.base import Samples

    samples = Samples(torch.arange(100).float()[:, None], torch.arange(100) % 3, "s")
    before = torch.get_rng_state()
    first = fixed_subset(samples, 10, seed=7)
    assert torch.equal(torch.get_rng_state(), before)
    assert torch.equal(first.x, fixed_subset(samples, 10, seed=7).x)  # the same every time
    assert torch.equal(first.y, first.x[:, 0].long() % 3)  # labels follow their samples
