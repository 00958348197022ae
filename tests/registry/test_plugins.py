"""Plugins: a package outside sslctl (tests/registry/plugin, found through its .dist-info entry
points on PYTHONPATH, as `pip install` would place it) adds a method and a coreset strategy, which
then appear in the schema, `recipe list`, `--help` and error messages, and run."""

from __future__ import annotations

import json
import os
from pathlib import Path

import numpy as np
import pytest
import yaml

from tests.conftest import cli_process

PLUGIN = Path(__file__).parent / "plugin"


@pytest.fixture
def with_plugin(monkeypatch):
    path = os.pathsep.join(p for p in (str(PLUGIN), os.environ.get("PYTHONPATH")) if p)
    monkeypatch.setenv("PYTHONPATH", path)


@pytest.mark.slow
def test_a_plugin_method_and_strategy_show_up_and_run(with_plugin, tmp_path):
    schema = json.loads(cli_process("recipe", "schema", check=True).stdout)
    assert "SimSiamSpec" in schema["$defs"]
    units = cli_process("recipe", "list", "--units", check=True).stdout
    assert "method\tsimsiam\tsslctl_demo_plugin.simsiam:SimSiam" in units
    assert "strategy\tkmeanspp\tsslctl_demo_plugin.kmeanspp:select" in units
    assert "kmeanspp" in cli_process("coreset", "--help", check=True).stdout

    x = np.random.default_rng(0).random((40, 16, 16)).astype(np.float32)
    np.savez(tmp_path / "x.npz", x=x)
    tree = {
        "data": {"modality": "image", "train": str(tmp_path / "x.npz"), "image_size": 16},
        "encoder": {"name": "resnet10t"},
        "method": {"name": "simsiam", "proj_hidden": 32, "proj_dim": 16, "pred_hidden": 8},
        "optim": {"warmup_epochs": 0},
        "train": {"epochs": 2, "batch_size": 10, "log_every": 1},
    }
    (tmp_path / "r.yaml").write_text(yaml.safe_dump(tree))
    run = tmp_path / "run"
    cli_process("pretrain", tmp_path / "r.yaml", "--out", run, "--quiet", check=True)
    rows = [json.loads(line) for line in (run / "metrics.jsonl").read_text().splitlines()]
    assert len(rows) == 8 and all(-1.01 <= r["loss"] <= 1.01 for r in rows)  # a negative cosine

    picked = cli_process(
        "coreset", run, "--data", tmp_path / "x.npz", "--budget", "10", "--strategy", "kmeanspp",
        check=True,
    ).stdout.split()  # fmt: skip
    assert len(picked) == 10 and len(set(picked)) == 10


@pytest.mark.slow
def test_an_unknown_method_lists_the_plugin_one(with_plugin, tmp_path):
    tree = {"data": {"modality": "image", "train": "x.npz"}, "encoder": {"name": "resnet10t"}}
    (tmp_path / "r.yaml").write_text(yaml.safe_dump({**tree, "method": {"name": "simsam"}}))
    proc = cli_process("recipe", "validate", tmp_path / "r.yaml")
    assert proc.returncode == 2 and "'simsiam'" in proc.stderr, proc.stderr


def test_without_the_plugin_its_method_is_unknown():
    from sslctl.specs.methods import METHODS

    assert "simsiam" not in METHODS and "simclr" in METHODS
