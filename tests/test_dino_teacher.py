"""DINO keeps its teacher, as the official evaluation does (`--checkpoint_key teacher`), and the
teacher keeps BatchNorm statistics of its own, from its forwards on the global views: what a
run ships is the EMA network with statistics that describe it, not the student's."""

from __future__ import annotations

import torch
import yaml

from sslctl.engine.checkpoint import load_checkpoint, load_weights_file
from tests.conftest import cli
from tests.test_matrix import PARAMS, _graphs


def test_dino_run_ships_the_teacher_with_its_own_batchnorm_statistics(tmp_path):
    data, encoder = _graphs(tmp_path)  # GIN: BatchNorm in every layer
    tree = {
        "name": "dino-teacher",
        "data": data,
        "encoder": encoder,
        "method": {"name": "dino", **PARAMS["dino"], "momentum": 0.9},
        "optim": {"lr": 1e-2, "warmup_epochs": 0},
        "train": {"epochs": 2, "batch_size": 10},
    }
    (tmp_path / "r.yaml").write_text(yaml.safe_dump(tree))
    run = tmp_path / "run"
    cli("pretrain", tmp_path / "r.yaml", "--out", run, "--quiet", check=True)
    method = load_checkpoint(run / "checkpoints" / "last.pt")["method"]
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
