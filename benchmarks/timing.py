"""Shared by the benchmark scripts (run as `python benchmarks/NAME.py`, so this is importable)."""

from __future__ import annotations

import shutil
import statistics
import subprocess
import time
from pathlib import Path

import torch


def seconds_per_call(fn, steps: int, device: torch.device) -> float:
    """Mean wall time of `fn` over `steps` calls after one warm-up, synchronising CUDA."""
    fn()  # warm-up
    if device.type == "cuda":
        torch.cuda.synchronize()
    start = time.perf_counter()
    for _ in range(steps):
        fn()
    if device.type == "cuda":
        torch.cuda.synchronize()
    return (time.perf_counter() - start) / steps


def sslctl(*args: str) -> str:
    """Run the installed CLI; its stdout (raises if it exits non-zero)."""
    return subprocess.run(["sslctl", *args], check=True, capture_output=True, text=True).stdout


def builtin_sets(name: str) -> list[str]:
    """`--set` values that pretrain on builtin:NAME's train split and probe on its test split."""
    return [f"data.train=builtin:{name}:train"] + [
        f"probe.{split}=builtin:{name}:{split}" for split in ("train", "test")
    ]


def pretrain(recipe: str, out: Path, sets: list[str]) -> float:
    """`sslctl pretrain RECIPE` into a fresh OUT with `--set` overrides; its wall seconds."""
    shutil.rmtree(out, ignore_errors=True)
    overrides = [a for s in sets for a in ("--set", s)]
    start = time.perf_counter()
    sslctl("pretrain", recipe, "--out", str(out), "--quiet", *overrides)
    return time.perf_counter() - start


def mean_spread(values: list[float]) -> str:
    """`mean ± population std` over seeds, or the mean alone for one seed."""
    mean = statistics.mean(values)
    return f"{mean:.1f} ± {statistics.pstdev(values):.1f}" if len(values) > 1 else f"{mean:.1f}"
