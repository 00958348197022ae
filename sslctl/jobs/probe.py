"""probe: judge a frozen encoder with weighted kNN, a linear probe, RankMe and (on request)
TS2Vec's SVM protocol."""

from __future__ import annotations

from pathlib import Path

import torch

from sslctl.probing import probe_data, run_protocols
from sslctl.rundir import load_run


def probe(
    run: str | Path,
    data: str | None,
    protocols: list[str] | None,
    device: torch.device,
    quiet: bool = True,
) -> dict:
    """The requested protocols, in that order; None: the run's recipe's `probe.protocols`."""
    loaded = load_run(run)
    probed = probe_data(loaded, data, device, quiet)
    return run_protocols(probed, protocols or loaded.recipe.probe.protocols, quiet)
