"""Shared helpers: run the real CLI in a subprocess and write small, fast recipes."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parent.parent


def cli(*args: str, check: bool = False, timeout: int = 600) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    env.pop("SSLCTL_DEBUG", None)
    proc = subprocess.run(
        [sys.executable, "-m", "sslctl", *map(str, args)],
        capture_output=True,
        text=True,
        timeout=timeout,
        env=env,
    )
    if check and proc.returncode != 0:
        raise AssertionError(
            f"sslctl {' '.join(map(str, args))} -> {proc.returncode}\n{proc.stderr}"
        )
    return proc


def small_recipe(**sections) -> dict:
    """SimCLR on digits at 16px with a small projector: a CPU step takes ~50 ms."""
    tree = {
        "name": "test",
        "seed": 0,
        "data": {"modality": "image", "train": "builtin:digits:train", "image_size": 16},
        "encoder": {"name": "resnet18"},
        "method": {"name": "simclr", "proj_hidden": 128, "proj_dim": 64},
        "optim": {"lr": 1e-3, "warmup_epochs": 0},
        "train": {"epochs": 1, "batch_size": 64, "log_every": 2},
        "probe": {"train": "builtin:digits:train", "test": "builtin:digits:test"},
    }
    for key, value in sections.items():
        merge = isinstance(value, dict) and key != "method"
        tree[key] = {**tree.get(key, {}), **value} if merge else value
    return tree


@pytest.fixture
def write_recipe(tmp_path):
    def write(tree: dict, name: str = "recipe.yaml") -> Path:
        path = tmp_path / name
        path.write_text(yaml.safe_dump(tree))
        return path

    return write
