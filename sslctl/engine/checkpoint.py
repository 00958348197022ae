"""The training state a resume needs, written atomically and read without running code."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import torch

from sslctl.errors import UserError
from sslctl.io.atomic import atomic_write
from sslctl.io.weights import safe_torch_load


def save_checkpoint(path: Path, state: dict[str, Any]) -> None:
    atomic_write(path, lambda tmp: torch.save(state, tmp))


def load_checkpoint(path: Path) -> dict[str, Any]:
    if not path.is_file():
        raise UserError(f"{path}: no checkpoint to resume from")
    state = safe_torch_load(path, "checkpoint")
    if not isinstance(state, dict) or not {"step", "method", "optimizer", "rng"} <= set(state):
        raise UserError(f"{path}: not an sslctl checkpoint (missing training state)")
    return state
