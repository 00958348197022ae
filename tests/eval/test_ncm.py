"""The nearest-class-mean probe, added as one file in sslctl/eval: it registers itself and is
then a `probe.protocols` value and a `--protocol` choice."""

from __future__ import annotations

import json

import torch

from sslctl.eval.ncm import ncm_predict
from sslctl.modalities.image.builtin import load_builtin_images
from tests.conftest import ROOT, cli


def test_ncm_takes_the_class_whose_mean_direction_is_closest():
    train = torch.tensor([[1.0, 0.0], [3.0, 0.2], [0.0, 1.0], [0.1, 5.0]])
    train_y = torch.tensor([0, 0, 1, 1])
    test = torch.tensor([[10.0, 1.0], [0.5, 2.0], [1.0, 1.1]])
    # unit-length class means: class 0 along ~(1, 0.033), class 1 along ~(0.01, 1)
    assert ncm_predict(train, train_y, test).tolist() == [0, 1, 1]


def test_ncm_separates_digits_pixels():
    """Raw digits pixels: 90.0% (scikit-learn's Euclidean NearestCentroid also scores 90.0)."""
    (xtr, ytr), (xte, yte) = (load_builtin_images(f"builtin:digits:{s}") for s in ("train", "test"))
    xtr, xte = (torch.from_numpy(x.reshape(len(x), -1)).float() for x in (xtr, xte))
    pred = ncm_predict(xtr, torch.from_numpy(ytr), xte)
    assert (pred == torch.from_numpy(yte)).float().mean() > 0.85


def test_ncm_is_a_probe_protocol(tmp_path):
    recipe = ROOT / "recipes/image/simclr.yaml"
    cli(
        "pretrain",
        recipe,
        "--set",
        "train.epochs=0",
        "--out",
        tmp_path / "r",
        "--quiet",
        check=True,
    )
    result = json.loads(
        cli("probe", tmp_path / "r", "--protocol", "ncm", "--json", check=True).stdout
    )
    assert 10 < result["ncm_top1"] <= 100 and "knn_top1" not in result
