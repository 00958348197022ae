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


def _unwrap(state: Any) -> Any:
    """A training checkpoint's state dict, where a .pth keeps it under "state_dict" or
    "model" (torchvision, DeiT and DINO checkpoints do)."""
    for key in ("state_dict", "model"):
        if isinstance(state, dict) and isinstance(state.get(key), dict):
            return state[key]
    return state


def read_state_dict(path: Path, field: str) -> tuple[dict[str, torch.Tensor], dict[str, str]]:
    """(tensors by name, the file's metadata) from a .safetensors file or a .pt/.pth state
    dict read with weights_only=True; anything else is one UserError line naming `field`."""
    from safetensors import safe_open

    if not path.is_file():
        raise UserError(f"{field}: file not found: {path}")
    if path.suffix == ".safetensors":
        try:
            with safe_open(str(path), framework="pt") as fh:
                meta = dict(fh.metadata() or {})
                state = {k: fh.get_tensor(k) for k in fh.keys()}  # noqa: SIM118 - not a dict
        except Exception as exc:  # noqa: BLE001 - SafetensorError, OSError, ...: a bad file
            raise UserError(
                f"{field}: {path} is not readable safetensors ({first_line(exc)})"
            ) from None
    else:
        state, meta = _unwrap(safe_torch_load(path, "state dict")), {}
    if (
        not isinstance(state, dict)
        or not state
        or not all(isinstance(k, str) and torch.is_tensor(v) for k, v in state.items())
    ):
        raise UserError(f"{field}: {path} is not a state dict of tensors")
    return state, meta


def load_weights_file(path: Path) -> dict[str, torch.Tensor]:
    if not path.is_file():
        raise UserError(f"{path}: encoder weights not found")
    try:
        return load_file(str(path))
    except Exception as exc:  # noqa: BLE001 - SafetensorError, OSError, ...: the file is bad
        raise UserError(f"{path}: not readable safetensors ({first_line(exc)})") from None
