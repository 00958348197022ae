"""Every joint-embedding method on every modality: SimCLR, BYOL, Barlow Twins, VICReg and DINO
train a few steps on tiny data of each kind (20 samples, all used for training) and keep a
finite loss. docs/architecture.md shows this matrix."""

from __future__ import annotations

import json

import numpy as np
import pytest
import yaml

from tests.conftest import cli

METHODS = {
    "simclr": {"proj_hidden": 32, "proj_dim": 16},
    "byol": {"proj_hidden": 32, "proj_dim": 16},
    "barlow": {"proj_hidden": 32, "proj_dim": 16},
    "vicreg": {"proj_hidden": 32, "proj_dim": 16},
    "dino": {"out_dim": 64, "hidden_dim": 32, "bottleneck_dim": 16, "local_crops": 2},
}


def _image(root):
    np.savez(root / "x.npz", x=np.random.default_rng(0).random((20, 16, 16)).astype(np.float32))
    return {"modality": "image", "train": str(root / "x.npz"), "image_size": 16}, {
        "name": "resnet10t"
    }


def _audio(root):
    t = np.arange(4000) / 8000
    x = np.stack([0.3 * np.sin(2 * np.pi * (200 + 40 * i) * t) for i in range(20)])
    np.savez(root / "a.npz", x=x.astype(np.float32), sample_rate=8000)
    data = {"modality": "audio", "train": str(root / "a.npz"), "sample_rate": 8000}
    data.update(clip_seconds=0.5, n_mels=32, win_length=200, hop_length=80, f_max=3900)
    return data, {"name": "audio_cnn", "kwargs": {"channels": 8, "dim": 32}}


def _series(root):
    x = np.random.default_rng(0).standard_normal((20, 2, 40)).astype(np.float32)
    np.save(root / "s.npy", x)
    return {"modality": "timeseries", "train": str(root / "s.npy")}, {
        "name": "dilated_cnn",
        "kwargs": {"hidden": 8, "dim": 16, "depth": 3},
    }


def _graphs(root):
    rng = np.random.default_rng(0)
    sizes = rng.integers(6, 12, 20)
    ptr = np.concatenate([[0], np.cumsum(sizes)])
    edges = np.concatenate(
        [np.stack([np.arange(s - 1), np.arange(1, s)]) + ptr[i] for i, s in enumerate(sizes)], 1
    )
    x = rng.random((ptr[-1], 3)).astype(np.float32)
    np.savez(root / "g.npz", x=x, edge_index=edges, ptr=ptr)
    return {"modality": "graph", "train": str(root / "g.npz")}, {
        "name": "gin",
        "kwargs": {"hidden": 16, "layers": 2},
    }


def _nodes(root):
    return {"modality": "graph", "train": "builtin:karate"}, {
        "name": "gcn",
        "kwargs": {"hidden": 16, "layers": 2},
    }


MODALITIES = {"image": _image, "audio": _audio, "timeseries": _series, "graph": _graphs}
MODALITIES["graph (node level)"] = _nodes


@pytest.mark.slow
@pytest.mark.parametrize("modality", list(MODALITIES))
@pytest.mark.parametrize("method", list(METHODS))
def test_method_trains_on_modality(method, modality, tmp_path):
    data, encoder = MODALITIES[modality](tmp_path)
    tree = {
        "name": "matrix",
        "data": data,
        "encoder": encoder,
        "method": {"name": method, **METHODS[method]},
        "optim": {"lr": 1e-3, "warmup_epochs": 0},
        "train": {"epochs": 2, "batch_size": 10, "log_every": 1},
    }
    (tmp_path / "r.yaml").write_text(yaml.safe_dump(tree))
    cli("pretrain", tmp_path / "r.yaml", "--out", tmp_path / "run", "--quiet", check=True)
    lines = (tmp_path / "run" / "metrics.jsonl").read_text().splitlines()
    rows = [json.loads(line) for line in lines]
    assert len(rows) >= 4 and all(np.isfinite(r["loss"]) for r in rows)  # 2 epochs of 2+ steps
