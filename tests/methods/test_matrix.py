"""Every registered method on every modality: each pair either trains (a few steps on 20
samples of each kind, all used for training, with a finite loss) or is refused with one line
naming the method, with exit 2 and no run left behind. Methods come from the registry, so a
method added later (plugins included) is tried on every modality too. docs/architecture.md
shows the matrix."""

from __future__ import annotations

import json

import numpy as np
import pytest
import yaml

from sslctl.specs.methods import METHODS
from tests.conftest import cli

# small settings for the built-in methods; a method not listed runs with its defaults
PARAMS = {
    "simclr": {"proj_hidden": 32, "proj_dim": 16},
    "byol": {"proj_hidden": 32, "proj_dim": 16},
    "barlow": {"proj_hidden": 32, "proj_dim": 16},
    "vicreg": {"proj_hidden": 32, "proj_dim": 16},
    "dino": {"out_dim": 64, "hidden_dim": 32, "bottleneck_dim": 16, "local_crops": 2},
    "mae": {"decoder_dim": 32, "decoder_depth": 1, "decoder_heads": 2},
    "lejepa": {"proj_hidden": 32, "proj_dim": 8, "views": 2, "slices": 16},
    "jepa": {"predictor_dim": 16, "predictor_depth": 1, "predictor_heads": 2},
}
_VIT = {"embed_dim": 32, "depth": 2, "num_heads": 2}
_VIT_AVG = {**_VIT, "class_token": False, "global_pool": "avg"}
# the encoder a method needs where the modality's usual one lacks what it uses (tokens, patches)
ENCODERS = {
    ("mae", "image"): {"name": "vit_tiny_patch16_224", "kwargs": {"patch_size": 4, **_VIT}},
    ("mae", "audio"): {"name": "vit_tiny_patch16_224", "kwargs": {"patch_size": [8, 10], **_VIT}},
    ("masked_series", "timeseries"): {
        "name": "patch_tst",
        "kwargs": {"patch_len": 8, "dim": 16, "depth": 1, "heads": 2},
    },
    # JEPA keeps the mean of the patch tokens: a ViT without a class token, pooling by average
    ("jepa", "image"): {"name": "vit_tiny_patch16_224", "kwargs": {"patch_size": 2, **_VIT_AVG}},
    ("jepa", "audio"): {
        "name": "vit_tiny_patch16_224",
        "kwargs": {"patch_size": [4, 5], **_VIT_AVG},
    },
    ("jepa", "timeseries"): {
        "name": "patch_tst",
        "kwargs": {"patch_len": 4, "dim": 16, "depth": 1, "heads": 2},
    },
}
# what the built-in methods do on each modality (docs/architecture.md has this table)
TRAINS = {
    "simclr": {"image", "audio", "timeseries", "graph", "graph (node level)"},
    "byol": {"image", "audio", "timeseries", "graph", "graph (node level)"},
    "barlow": {"image", "audio", "timeseries", "graph", "graph (node level)"},
    "vicreg": {"image", "audio", "timeseries", "graph", "graph (node level)"},
    "dino": {"image", "audio", "timeseries", "graph", "graph (node level)"},
    "mae": {"image", "audio"},
    "ts2vec": {"timeseries"},
    "masked_series": {"timeseries"},
    "graphmae": {"graph", "graph (node level)"},
    "graphcl": {"graph"},  # node level: its node dropping would break node alignment
    "lejepa": {"image", "audio", "timeseries", "graph", "graph (node level)"},
    "jepa": {"image", "audio", "timeseries"},
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


# a method that needs a teacher run (distill) trains on every modality in test_cli, test_audio,
# test_timeseries and test_graph, each against a teacher of that modality
PAIRS = [(m, d) for m in METHODS.names() if not METHODS.get(m).needs_teacher for d in MODALITIES]


@pytest.mark.slow
@pytest.mark.parametrize(("method", "modality"), PAIRS)
def test_method_trains_on_modality_or_is_refused(method, modality, tmp_path):
    data, encoder = MODALITIES[modality](tmp_path)
    tree = {
        "name": "matrix",
        "data": data,
        "encoder": ENCODERS.get((method, data["modality"]), encoder),
        "method": {"name": method, **PARAMS.get(method, {})},
        "optim": {"lr": 1e-3, "warmup_epochs": 0},
        "train": {"epochs": 2, "batch_size": 10, "log_every": 1},
    }
    (tmp_path / "r.yaml").write_text(yaml.safe_dump(tree))
    run = tmp_path / "run"
    result = cli("pretrain", tmp_path / "r.yaml", "--out", run, "--quiet")
    if result.returncode == 0:
        rows = [json.loads(line) for line in (run / "metrics.jsonl").read_text().splitlines()]
        assert len(rows) >= 4 and all(np.isfinite(r["loss"]) for r in rows)  # 2 epochs, 2+ steps
    else:
        lines = result.stderr.strip().splitlines()
        assert result.returncode == 2 and len(lines) == 1, result.stderr
        assert not run.exists()
    if method in TRAINS:
        assert (result.returncode == 0) == (modality in TRAINS[method]), result.stderr


def test_a_pair_that_cannot_work_is_refused_at_validation():
    from sslctl.errors import UserError
    from sslctl.recipe import validate

    tree = {"data": {"modality": "image", "train": "x.npz"}, "encoder": {"name": "resnet10t"}}
    tree["method"] = {"name": "graphcl"}
    with pytest.raises(UserError) as err:
        validate(tree, "r.yaml")
    assert str(err.value) == (
        "r.yaml: method.name: method graphcl needs graph-perturbation views (one random graph "
        "perturbation per view, as in GraphCL), which modality image does not make; it makes "
        "contrastive, asymmetric, multi-crop, masked, context-targets"
    )
