"""Time series: readers (.ts, UCR text, arrays), bad files, views, TS2Vec's loss against the
official formulation, padding-invariant encoders, and the CLI end to end on archive data
(pretrain -> probe/embed/coreset -> ONNX with dynamic batch and length)."""

from __future__ import annotations

import json

import numpy as np
import onnx
import pytest
import torch

from sslctl.encoders.dilated_cnn import DilatedCNN
from sslctl.encoders.patch_tst import PatchTST
from sslctl.encoders.resnet1d import ResNet1D
from sslctl.errors import UserError
from sslctl.modalities.timeseries.augment import (
    magnitude_warp,
    overlapping_crops,
    permute_segments,
    random_crop,
    time_mask,
)
from sslctl.modalities.timeseries.formats import read_ts, read_ucr_text
from tests.conftest import cli, one_line_exit_2, small_recipe

TS_FILE = """# comment
@problemName Toy
@timeStamps false
@missing true
@univariate false
@dimensions 2
@equalLength false
@classLabel true up down
@data
1,2,3,4:5,6,7,8:up
1,?,3:4,5,6:down
0.5,0.25:1,2:up
"""


def series_recipe(source: str, **sections) -> dict:
    tree = small_recipe(
        data={"modality": "timeseries", "train": source},
        encoder={"name": "dilated_cnn", "kwargs": {"hidden": 16, "dim": 32, "depth": 3}},
        method={"name": "ts2vec"},
        train={"epochs": 1, "batch_size": 8, "log_every": 1},
        probe={"train": source, "test": source},
    )
    tree["data"] = {"modality": "timeseries", "train": source, **sections.pop("data", {})}
    for key, value in sections.items():
        tree[key] = {**tree[key], **value} if key in ("train", "probe") else value
    return tree


# ------------------------------------------------------------------ readers
def test_ts_reader_pads_variable_length_and_keeps_missing_as_nan(tmp_path):
    path = tmp_path / "toy.ts"
    path.write_text(TS_FILE)
    x, y = read_ts(path)
    assert x.shape == (3, 2, 4) and x.dtype == np.float32
    assert y.tolist() == [0, 1, 0]  # order of @classLabel
    assert np.isnan(x[1, 0, 1]) and x[1, 1, 2] == 6  # '?' is missing, not zero
    assert np.isnan(x[1, :, 3]).all() and np.isnan(x[2, :, 2:]).all()  # end padding


def test_ucr_text_reader_keeps_signed_labels_as_they_are(tmp_path):
    """Not ranked per file: a test file holding only the 1s must still call them 1 (the probe
    numbers train's and test's classes together)."""
    path = tmp_path / "toy.tsv"
    path.write_text("-1\t0.1\t0.2\t0.3\n1\t0.4\t0.5\tNaN\n-1\t1\t2\t3\n")
    x, y = read_ucr_text(path)
    assert x.shape == (3, 1, 3) and y.tolist() == [-1, 1, -1]
    assert np.isnan(x[1, 0, 2])


@pytest.mark.parametrize(
    "name, content, problem",
    [
        ("rank.npy", np.zeros((2, 3, 4, 5)), "must be (N, C, T)"),
        ("labels.npz", {"x": np.zeros((4, 1, 8)), "y": np.arange(3)}, "3 labels for 4 series"),
        ("nodata.ts", "@problemName a\n@classLabel true a b\n1,2:a\n", "expected a @tag or @data"),
        ("tag.ts", "@problemName a\n@dimensons 2\n@data\n", "unknown .ts header tag"),
        ("dims.ts", "@dimensions two\n@classLabel false\n@data\n1,2\n", "positive integer"),
        ("label.ts", "@classLabel true a b\n@data\n1,2:c\n", "not in @classLabel"),
        ("chans.ts", "@dimensions 2\n@classLabel false\n@data\n1,2\n", "1 channels, the header"),
    ],
)
def test_bad_series_files_exit_2_naming_file_and_problem(
    tmp_path, write_recipe, name, content, problem
):
    path = tmp_path / name
    if name.endswith(".npy"):
        np.save(path, content)
    elif name.endswith(".npz"):
        np.savez(path, **content)
    else:
        path.write_text(content)
    proc = cli("pretrain", write_recipe(series_recipe(str(path))), "--out", tmp_path / "r")
    one_line_exit_2(proc, name)
    assert problem in proc.stderr


def test_builtin_without_aeon_names_the_install_command(monkeypatch):
    import importlib.util

    from sslctl.modalities.timeseries import builtin as series_builtin

    monkeypatch.setattr(importlib.util, "find_spec", lambda name: None)
    with pytest.raises(UserError, match=r"pip install 'sslctl\[data\]'"):
        series_builtin.load_builtin_series("builtin:GunPoint")


def test_builtin_archive_sets_have_official_splits():
    from sslctl.modalities.timeseries.builtin import load_builtin_series

    x, y = load_builtin_series("builtin:JapaneseVowels:train")
    xt, yt = load_builtin_series("builtin:JapaneseVowels:test")
    assert x.shape[:2] == (270, 12) and xt.shape[:2] == (370, 12)
    assert np.isnan(x).any() and set(y.tolist()) == set(range(9))  # variable length, 9 speakers
    x, y = load_builtin_series("builtin:BasicMotions:test")
    assert x.shape == (40, 6, 100) and np.bincount(y).tolist() == [10, 10, 10, 10]


# ------------------------------------------------------------------ views
def test_overlapping_crops_share_their_segment():
    torch.manual_seed(0)
    x = torch.arange(4 * 2 * 50, dtype=torch.float32).view(4, 2, 50)
    for _ in range(20):
        pair = overlapping_crops(x)
        v1, v2 = pair
        assert torch.equal(v1[:, :, v1.shape[2] - pair.overlap :], v2[:, :, : pair.overlap])
        assert pair.overlap >= 2


def test_series_augmentations_keep_shapes_and_content():
    torch.manual_seed(0)
    x = torch.randn(5, 3, 40)
    shuffled = permute_segments(x, 5)
    assert torch.equal(shuffled.sort(dim=2).values, x.sort(dim=2).values)
    assert not torch.equal(shuffled, x)
    masked = time_mask(x, 2, 0.2)
    hidden = torch.isnan(masked)
    assert hidden.any() and (hidden.all(dim=1) == hidden.any(dim=1)).all()  # whole timesteps
    assert random_crop(x, (0.5, 0.5)).shape == (5, 3, 20)
    curve = magnitude_warp(torch.ones(200, 1, 40), 0.2, 4)
    assert abs(curve.mean().item() - 1) < 0.05 and curve.std().item() > 0.05


# ------------------------------------------------------------------ encoders
@pytest.mark.parametrize("backbone", [DilatedCNN(3, 16, 32, 4), ResNet1D(3, 8), PatchTST(3, 4, 16)])
def test_encoders_ignore_trailing_padding_and_take_any_length(backbone):
    torch.manual_seed(0)
    backbone.eval()
    x = torch.randn(2, 3, 23)
    padded = torch.cat([x, torch.full((2, 3, 30), float("nan"))], dim=2)
    with torch.inference_mode():
        alone, in_batch = backbone(x), backbone(padded)
        assert torch.allclose(alone, in_batch, atol=1e-5)
        assert backbone(torch.randn(1, 3, 5)).shape == (1, backbone.num_features)


# ------------------------------------------------------------------ CLI end to end
@pytest.fixture(scope="module")
def gunpoint_run(tmp_path_factory):
    out = tmp_path_factory.mktemp("ts") / "run"
    tree = series_recipe(
        "builtin:GunPoint:train",
        probe={"train": "builtin:GunPoint:train", "test": "builtin:GunPoint:test"},
    )
    recipe = tmp_path_factory.mktemp("ts_recipe") / "r.yaml"
    import yaml

    recipe.write_text(yaml.safe_dump(tree))
    cli("pretrain", recipe, "--out", out, "--quiet", check=True)
    return out


def test_series_run_records_normalisation_and_probes(gunpoint_run):
    info = json.loads((gunpoint_run / "encoder.json").read_text())
    spec = info["input"]
    assert spec["modality"] == "timeseries" and spec["channels"] == 1 and spec["length"] == 150
    assert len(spec["mean"]) == 1 and spec["std"][0] > 0
    result = json.loads(cli("probe", gunpoint_run, "--json", check=True).stdout)
    assert result["n_train"] == 50 and result["n_test"] == 150 and result["linear_top1"] > 60


def test_embed_coreset_and_onnx_on_series_of_other_lengths(gunpoint_run, tmp_path):
    rng = np.random.default_rng(0)
    x = np.full((5, 1, 90), np.nan, dtype=np.float32)
    for i, length in enumerate((30, 45, 60, 75, 90)):  # none as long as the training series
        x[i, 0, :length] = rng.standard_normal(length)
    np.savez(tmp_path / "short.npz", x=x, y=np.array([0, 1, 0, 1, 0]))
    cli(
        "embed",
        gunpoint_run,
        "--data",
        tmp_path / "short.npz",
        "--out",
        tmp_path / "e.npy",
        check=True,
    )
    feats = np.load(tmp_path / "e.npy")
    assert feats.shape == (5, 32) and np.isfinite(feats).all()
    proc = cli(
        "coreset", gunpoint_run, "--data", "builtin:GunPoint:test", "--budget", "10", check=True
    )
    assert len(proc.stdout.split()) == 10
    proc = cli("export", gunpoint_run, "--out", tmp_path / "ts.onnx", check=True)
    dims = onnx.load(tmp_path / "ts.onnx").graph.input[0].type.tensor_type.shape.dim
    assert dims[0].dim_param and dims[2].dim_param  # dynamic batch and time
    import onnxruntime as ort

    from sslctl.rundir import load_run

    session = ort.InferenceSession(str(tmp_path / "ts.onnx"), providers=["CPUExecutionProvider"])
    run = load_run(gunpoint_run)
    with torch.inference_mode():
        expected = run.encoder(torch.from_numpy(x)).numpy()
    got = session.run(None, {session.get_inputs()[0].name: x})[0]
    unit = lambda a: a / np.linalg.norm(a, axis=1, keepdims=True)  # noqa: E731
    assert np.abs(unit(got) - unit(expected)).max() < 1e-4


def test_distill_a_series_run_into_another_encoder(gunpoint_run, write_recipe, tmp_path):
    student = series_recipe(
        "builtin:GunPoint:train",
        method={"name": "distill"},
        teacher={"run": str(gunpoint_run)},
        encoder={"name": "resnet1d", "kwargs": {"width": 8}},  # 16-d, the teacher 32-d
    )
    cli("distill", write_recipe(student), "--out", tmp_path / "d", "--quiet", check=True)
    result = json.loads(cli("probe", tmp_path / "d", "--protocol", "knn", "--json").stdout)
    assert result["n_train"] == 50 and result["dim"] == 16
    np.savez(tmp_path / "two.npz", x=np.random.default_rng(0).standard_normal((16, 2, 150)))
    student["data"]["train"] = str(tmp_path / "two.npz")
    proc = cli("distill", write_recipe(student, "two.yaml"), "--out", tmp_path / "d2")
    one_line_exit_2(proc, "channels = 1")
    assert "teacher.run:" in proc.stderr


@pytest.mark.parametrize(
    "method, encoder",
    [
        ({"name": "simclr", "proj_hidden": 64, "proj_dim": 32}, "resnet1d"),
        ({"name": "byol", "proj_hidden": 64, "proj_dim": 32}, "dilated_cnn"),
        ({"name": "barlow", "proj_hidden": 64, "proj_dim": 64}, "patch_tst"),
        ({"name": "vicreg", "proj_hidden": 64, "proj_dim": 64}, "dilated_cnn"),
        ({"name": "ts2vec"}, "resnet1d"),
        ({"name": "masked_series"}, "patch_tst"),
    ],
)
def test_methods_train_on_multichannel_variable_length_series(
    tmp_path, write_recipe, method, encoder
):
    kwargs = {
        "dilated_cnn": {"hidden": 16, "dim": 32, "depth": 3},
        "resnet1d": {"width": 8},
        "patch_tst": {"patch_len": 4, "dim": 16, "depth": 1, "heads": 2},
    }[encoder]
    tree = series_recipe(
        "builtin:JapaneseVowels:train",
        method=method,
        encoder={"name": encoder, "kwargs": kwargs},
        train={"epochs": 1, "batch_size": 32, "log_every": 1},
    )
    cli("pretrain", write_recipe(tree), "--out", tmp_path / "r", "--quiet", check=True)
    losses = [json.loads(line)["loss"] for line in (tmp_path / "r" / "metrics.jsonl").open()]
    assert len(losses) == 8 and all(np.isfinite(losses))


def test_wrong_encoder_or_channel_count_is_a_user_error(tmp_path, write_recipe, gunpoint_run):
    tree = series_recipe("builtin:GunPoint:train", encoder={"name": "resnet18"})
    proc = cli("pretrain", write_recipe(tree), "--out", tmp_path / "r")
    one_line_exit_2(proc, "does not take time series")
    one_line_exit_2(cli("probe", gunpoint_run, "--data", "builtin:BasicMotions"), "6 channels")


@pytest.mark.parametrize("backbone", [ResNet1D(3, 8), PatchTST(3, 4, 16, depth=1, heads=2)])
def test_onnx_export_takes_other_lengths_for_every_series_encoder(tmp_path, backbone):
    from sslctl.encoders.base import Encoder
    from sslctl.encoders.series_base import SeriesNormalize
    from sslctl.jobs.export import compare_onnx, write_onnx

    torch.manual_seed(0)
    encoder = Encoder(SeriesNormalize([0.5] * 3, [2.0] * 3), backbone, backbone.num_features)
    encoder.eval()
    write_onnx(encoder, torch.randn(2, 3, 24), tmp_path / "m.onnx", {}, axes={0: "b", 2: "t"})
    padded = torch.randn(3, 3, 41)
    padded[1, :, 10:] = float("nan")
    diffs = compare_onnx(encoder, [torch.randn(1, 3, 9), padded], tmp_path / "m.onnx")
    assert diffs["max_abs_diff_l2_normalised"] < 1e-4
