"""Shared by the benchmark scripts (run as `python benchmarks/NAME.py`, so this is importable)."""

from __future__ import annotations

import statistics
import subprocess
import time

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


def mean_spread(values: list[float]) -> str:
    """`mean ± population std` over seeds, or the mean alone for one seed."""
    mean = statistics.mean(values)
    return f"{mean:.1f} ± {statistics.pstdev(values):.1f}" if len(values) > 1 else f"{mean:.1f}"
