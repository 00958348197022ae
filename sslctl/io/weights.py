"""Loading and saving tensors without ever running a file's code: safetensors, or torch.load
with `weights_only=True`; any failure is one UserError line naming the file."""

from __future__ import annotations

import warnings
from pathlib import Path
from typing import Any

import torch
from safetensors.torch import load_file, save_file

from sslctl.errors import UserError, first_line
from sslctl.io.atomic import atomic_write


def safe_torch_load(path: Path, what: str) -> Any:
    """torch.load with weights_only=True (tensors and plain containers; a pickle that would
    run code is refused), its warnings silenced and any failure a one-line UserError."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return torch.load(path, map_location="cpu", weights_only=True)
    except Exception as exc:  # noqa: BLE001 - truncated, corrupt or crafted: all one answer
        raise UserError(f"{path}: not a readable {what} ({first_line(exc)})") from None


def save_weights(
    path: Path, module: torch.nn.Module, metadata: dict[str, str] | None = None
) -> None:
    state = {k: v.detach().contiguous().cpu() for k, v in module.state_dict().items()}
    atomic_write(path, lambda tmp: save_file(state, tmp, metadata=metadata))


def load_weights_file(path: Path) -> dict[str, torch.Tensor]:
    if not path.is_file():
        raise UserError(f"{path}: encoder weights not found")
    try:
        return load_file(str(path))
    except Exception as exc:  # noqa: BLE001 - SafetensorError, OSError, ...: the file is bad
        raise UserError(f"{path}: not readable safetensors ({first_line(exc)})") from None
