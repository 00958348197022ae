"""DINO keeps its teacher, as the official evaluation does (`--checkpoint_key teacher`), and the
teacher keeps BatchNorm statistics of its own, from its forwards on the global views: what a
run ships is the EMA network with statistics that describe it, not the student's. Its
prototypes stay put for the first freeze_last_layer epochs, as the official code's."""

from __future__ import annotations

from pathlib import Path

import torch
import yaml

from sslctl.engine.checkpoint import load_checkpoint
from sslctl.io.weights import load_weights_file
from tests.conftest import cli
from tests.methods.test_matrix import PARAMS, _graphs


def _run(tmp_path, name: str, epochs: int, **method) -> Path:
    """A DINO run on 20 small graphs (GIN: BatchNorm in every layer); returns its directory."""
    data, encoder = _graphs(tmp_path)
    tree = {
        "name": name,
        "data": data,
        "encoder": encoder,
        "method": {"name": "dino", **PARAMS["dino"], "momentum": 0.9, **method},
        "optim": {"lr": 1e-2, "warmup_epochs": 0, "weight_decay": 0.1},
        "train": {"epochs": epochs, "batch_size": 10},
    }
    (tmp_path / f"{name}.yaml").write_text(yaml.safe_dump(tree))
    run = tmp_path / name
    cli("pretrain", tmp_path / f"{name}.yaml", "--out", run, "--quiet", check=True)
    return run


def _method_state(run: Path) -> dict[str, torch.Tensor]:
    return load_checkpoint(run / "checkpoints" / "last.pt")["method"]


def test_dino_prototypes_stay_put_while_frozen(tmp_path):
    """freeze_last_layer=1: after one epoch (two updates) the prototypes are still the
    initial ones, weight decay included, while the rest of the head moved; unfrozen, they move."""
    start = _method_state(_run(tmp_path, "init", 0))
    frozen = _method_state(_run(tmp_path, "frozen", 1, freeze_last_layer=1, clip_grad=3.0))
    free = _method_state(_run(tmp_path, "free", 1, clip_grad=3.0))
    key = "head.prototypes"
    assert torch.equal(frozen[key], start[key])
    assert not torch.equal(free[key], start[key])
    assert not torch.equal(frozen["head.mlp.0.weight"], start["head.mlp.0.weight"])


def test_dino_run_ships_the_teacher_with_its_own_batchnorm_statistics(tmp_path):
    run = _run(tmp_path, "dino-teacher", 2)
    method = _method_state(run)
    shipped = load_weights_file(run / "encoder.safetensors")
    teacher, student = (
        {k.removeprefix(prefix): v for k, v in method.items() if k.startswith(prefix)}
        for prefix in ("teacher_encoder.", "encoder.")
    )
    assert teacher.keys() == student.keys() == shipped.keys()
    for key, value in shipped.items():
        assert torch.equal(value, teacher[key]), key
    weights = [k for k in shipped if k.endswith(".weight")]
    assert any(not torch.equal(shipped[k], student[k]) for k in weights)  # EMA lags the student
    stats = [k for k in shipped if k.endswith("running_mean")]
    assert stats and all(not torch.equal(shipped[k], student[k]) for k in stats)
    assert all(shipped[k].abs().sum() > 0 for k in stats)  # the teacher's forwards moved them
