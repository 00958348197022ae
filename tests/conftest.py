"""Shared helpers: run the CLI (in this process, or in a real one) and write small recipes."""

from __future__ import annotations

import io
import os
import subprocess
import sys
import warnings
from contextlib import redirect_stderr, redirect_stdout
from pathlib import Path
from unittest import mock

import pytest
import yaml

from sslctl.cli import main

ROOT = Path(__file__).resolve().parent.parent
# For tests of the engine rather than the encoder: half resnet18's CPU step, same BatchNorm layout
FAST_ENCODER = {"name": "resnet10t"}

# Python's own warning filters, which a fresh `sslctl` process runs under (pytest swaps in its own)
_PYTHON_DEFAULT_FILTERS = (
    ("default", DeprecationWarning, "__main__"),
    ("ignore", DeprecationWarning, ""),
    ("ignore", PendingDeprecationWarning, ""),
    ("ignore", ImportWarning, ""),
    ("ignore", ResourceWarning, ""),
)


def _print_warning(message, category, filename, lineno, file=None, line=None) -> None:
    sys.stderr.write(warnings.formatwarning(message, category, filename, lineno, line))


def cli(*args: str, check: bool = False) -> subprocess.CompletedProcess:
    """`sslctl ARGS` through its real entry point, `sslctl.cli.main` (argument parsing, exit
    codes, stdout/stderr split, warnings printed to stderr), inside this process. A subprocess
    per call re-imports torch, timm and scikit-learn, 6 to 8 s each on a 2-core CPU: about 10
    of the suite's 23 minutes there. `cli_process` keeps the real process for the tests that
    need one (the `python -m sslctl` entry, exactly one line on stderr, signals)."""
    argv = ["sslctl", *map(str, args)]
    out, err = io.StringIO(), io.StringIO()
    code = 0
    with (
        mock.patch.object(sys, "argv", argv),
        mock.patch.dict(os.environ),
        warnings.catch_warnings(),
        redirect_stdout(out),
        redirect_stderr(err),
    ):
        os.environ.pop("SSLCTL_DEBUG", None)
        warnings.resetwarnings()
        for action, category, module in reversed(_PYTHON_DEFAULT_FILTERS):
            warnings.filterwarnings(action, category=category, module=module)
        warnings.showwarning = _print_warning
        try:
            main()
        except SystemExit as exc:
            code = exc.code if isinstance(exc.code, int) else int(exc.code is not None)
    return _checked(subprocess.CompletedProcess(argv, code, out.getvalue(), err.getvalue()), check)


def process_command(*args: str) -> dict:
    """`args` and `env` for subprocess.run/Popen: `python -m sslctl ARGS` as a user runs it."""
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    env.pop("SSLCTL_DEBUG", None)
    return {"args": [sys.executable, "-m", "sslctl", *map(str, args)], "env": env}


def cli_process(*args: str, check: bool = False) -> subprocess.CompletedProcess:
    """`python -m sslctl ARGS` in a fresh process, as a user runs it."""
    proc = subprocess.run(**process_command(*args), capture_output=True, text=True, timeout=600)
    return _checked(proc, check)


def _checked(proc: subprocess.CompletedProcess, check: bool) -> subprocess.CompletedProcess:
    if check and proc.returncode != 0:
        raise AssertionError(f"{' '.join(map(str, proc.args))} -> {proc.returncode}\n{proc.stderr}")
    return proc


def interrupted_at(*args: str, run: Path, lines: int, timeout: float = 300) -> int:
    """Start `python -m sslctl ARGS` (training into `run`), send SIGINT once its metrics.jsonl
    holds `lines` lines, check that it exits 130, and return the step its checkpoint holds."""
    import signal
    import time

    import torch

    proc = subprocess.Popen(**process_command(*args), stderr=subprocess.PIPE, text=True)
    metrics, deadline = run / "metrics.jsonl", time.time() + timeout
    while time.time() < deadline and not (
        metrics.exists() and len(metrics.read_text().splitlines()) >= lines
    ):
        time.sleep(0.02)
    proc.send_signal(signal.SIGINT)
    _, err = proc.communicate(timeout=timeout)
    assert proc.returncode == 130, err
    return torch.load(run / "checkpoints" / "last.pt", weights_only=True)["step"]


def one_line_exit_2(proc: subprocess.CompletedProcess, needle: str) -> None:
    """The bad-input contract: exit 2 and one line on stderr naming `needle`, no traceback."""
    assert proc.returncode == 2, proc.stderr
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and needle in lines[0] and "Traceback" not in proc.stderr, proc.stderr


def small_recipe(**sections) -> dict:
    """SimCLR on digits at 16px with a small projector: 22 steps an epoch, under 1 s each on CPU."""
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
