"""Each joint-embedding method, with its shipped digits recipe (shortened), beats the same
randomly initialised encoder on kNN top-1: the methods actually learn on real data."""

from __future__ import annotations

import json

import pytest

from tests.conftest import ROOT, cli


@pytest.fixture(scope="module")
def baseline(tmp_path_factory):
    out = tmp_path_factory.mktemp("base") / "random"
    cli(
        "pretrain",
        ROOT / "recipes/image/simclr.yaml",
        "--set",
        "train.epochs=0",
        "--out",
        out,
        "--quiet",
        check=True,
    )
    return json.loads(cli("probe", out, "--json", "--protocol", "knn", check=True).stdout)[
        "knn_top1"
    ]


@pytest.mark.slow
@pytest.mark.parametrize("method", ["simclr", "byol", "barlow", "vicreg"])
def test_method_beats_random_init(method, baseline, tmp_path):
    cli(
        "pretrain",
        ROOT / f"recipes/image/{method}.yaml",
        "--set",
        "train.epochs=4",
        "--out",
        tmp_path / method,
        "--quiet",
        check=True,
    )
    knn = json.loads(
        cli("probe", tmp_path / method, "--json", "--protocol", "knn", check=True).stdout
    )
    assert knn["knn_top1"] > baseline + 15, (knn, baseline)
