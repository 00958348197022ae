"""Shared by the benchmark scripts (run as `python benchmarks/NAME.py`, so this is importable)."""

from __future__ import annotations

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
