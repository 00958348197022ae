"""The hostile-input corpus runs under an address-space limit, so a bomb that slips through
fails its test with a MemoryError instead of taking the machine down."""

from __future__ import annotations

import resource

import pytest

HEADROOM = 6 * 2**30  # above what the process already maps (torch's CUDA libraries map a lot)


def _mapped_bytes() -> int:
    with open("/proc/self/status") as fh:
        for line in fh:
            if line.startswith("VmSize:"):
                return int(line.split()[1]) * 1024
    raise RuntimeError("no VmSize in /proc/self/status")


@pytest.fixture(autouse=True)
def memory_limit():
    soft, hard = resource.getrlimit(resource.RLIMIT_AS)
    limit = _mapped_bytes() + HEADROOM
    if hard != resource.RLIM_INFINITY:
        limit = min(limit, hard)
    resource.setrlimit(resource.RLIMIT_AS, (limit, hard))
    try:
        yield limit
    finally:
        resource.setrlimit(resource.RLIMIT_AS, (soft, hard))
