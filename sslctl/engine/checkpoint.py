"""Atomic writes (temp file + rename, so a crash never leaves a half-written file) and safe loads
(`weights_only=True`)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import torch
from safetensors.torch import load_file, save_file

from sslctl.atomic import atomic_write
from sslctl.errors import UserError


def save_checkpoint(path: Path, state: dict[str, Any]) -> None:
    atomic_write(path, lambda tmp: torch.save(state, tmp))


def _reason(exc: BaseException) -> str:
    return (str(exc).strip().splitlines() or [exc.__class__.__name__])[0][:160]


def safe_torch_load(path: Path, what: str) -> Any:
    """torch.load with weights_only=True (tensors and plain containers; a pickle that would
    run code is refused), its warnings silenced and any failure a one-line UserError."""
    import warnings

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return torch.load(path, map_location="cpu", weights_only=True)
    except Exception as exc:  # noqa: BLE001 - truncated, corrupt or crafted: all one answer
        raise UserError(f"{path}: not a readable {what} ({_reason(exc)})") from None


def load_checkpoint(path: Path) -> dict[str, Any]:
    if not path.is_file():
        raise UserError(f"{path}: no checkpoint to resume from")
    state = safe_torch_load(path, "checkpoint")
    if not isinstance(state, dict) or not {"step", "method", "optimizer", "rng"} <= set(state):
        raise UserError(f"{path}: not an sslctl checkpoint (missing training state)")
    return state


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
        raise UserError(f"{path}: not readable safetensors ({_reason(exc)})") from None


def write_text(path: Path, text: str) -> None:
    atomic_write(path, lambda tmp: Path(tmp).write_text(text))


def write_json(path: Path, obj: Any) -> None:
    write_text(path, json.dumps(obj, indent=2) + "\n")
