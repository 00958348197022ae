"""The run plan said before the first step: what the loop will do, and warnings naming the
field when the warm-up outlasts the run or batches leave a fifth of the data out."""

from __future__ import annotations

import json
import math

import pytest

from sslctl.engine.run_plan import plan_run, plan_warnings
from sslctl.specs import OptimSpec, TrainSpec
from tests.conftest import cli, small_recipe


def test_the_plan_counts_steps_drops_and_schedule_ends():
    train = TrainSpec(epochs=3, batch_size=64, accumulate=2)
    optim = OptimSpec(lr=1e-3, min_lr=1e-5, warmup_epochs=1, weight_decay=0.04,
                      weight_decay_end=0.4)  # fmt: skip
    plan = plan_run(1000, train, optim, world=2, start_step=0, device="cpu")
    assert plan.effective_batch == 256 and plan.steps_per_epoch == 3 and plan.total_steps == 9
    assert plan.dropped_per_epoch == 1000 - 768 and plan.warmup_steps == 3
    # the values the first and the last step (8: 5/6 of the cosine after warm-up) train with
    last_lr = 1e-5 + (1e-3 - 1e-5) * (1 + math.cos(math.pi * 5 / 6)) / 2
    assert plan.lr == pytest.approx((1e-3 / 3, last_lr))
    last_wd = 0.4 + (0.04 - 0.4) * (1 + math.cos(math.pi * 8 / 9)) / 2
    assert plan.weight_decay == pytest.approx((0.04, last_wd))
    assert plan.momentum is None
    assert [w.split(":")[0] for w in plan_warnings(plan)] == ["train.batch_size"]  # 23 % dropped


def test_a_warm_up_longer_than_the_run_is_a_warning_naming_the_field():
    """I-JEPA's recipe with train.steps=10: the whole run inside a 468-step warm-up."""
    plan = plan_run(60000, TrainSpec(steps=10, batch_size=128), OptimSpec(warmup_epochs=1),
                    world=1, start_step=0, device="cpu")  # fmt: skip
    (warning,) = plan_warnings(plan)
    assert warning.startswith("optim.warmup_epochs: the warm-up (468 steps) is longer than the")
    assert plan_warnings(plan_run(60000, TrainSpec(steps=500, batch_size=128), OptimSpec(),
                                  world=1, start_step=0, device="cpu")) == []  # fmt: skip


def test_the_plan_is_the_first_json_line_when_piped_and_warnings_follow(write_recipe, tmp_path):
    """400 samples in batches of 256 drop 36 % each epoch (LeJEPA's recipe on a small set)."""
    tree = small_recipe(train={"epochs": 1, "batch_size": 1000, "log_every": 1})
    proc = cli("pretrain", write_recipe(tree), "--out", tmp_path / "run", check=True)
    lines = proc.stderr.splitlines()
    plan = json.loads(lines[0])["plan"]
    assert plan["samples"] == 1437 and plan["total_steps"] == 1 and plan["dropped_per_epoch"] == 437
    assert lines[1].startswith("warning: train.batch_size: 437 of 1437 samples (30 %)")
    quiet = cli("pretrain", write_recipe(tree), "--out", tmp_path / "quiet", "--quiet")
    assert quiet.stderr.startswith("warning: train.batch_size")  # warnings survive --quiet
