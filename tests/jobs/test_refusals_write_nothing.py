"""Every refusal that recipe validation or a job's argument checks can make comes before
anything is written: the run folder (or pack's OUT) does not exist afterwards."""

from __future__ import annotations

import pytest

from tests.conftest import ROOT, cli, one_line_exit_2, small_recipe

TS2VEC = str(ROOT / "recipes" / "timeseries" / "ts2vec.yaml")
SIMCLR_SERIES = str(ROOT / "recipes" / "timeseries" / "simclr.yaml")


def test_a_preset_that_contradicts_the_view_kind_is_refused_before_the_run(tmp_path):
    out = tmp_path / "R"
    proc = cli("pretrain", TS2VEC, "--set", "data.augment.preset=default", "--out", out)
    one_line_exit_2(proc, "data.augment.preset: default cannot make the overlapping-crops")
    assert not out.exists()
    proc = cli("pretrain", SIMCLR_SERIES, "--set", "data.augment.preset=ts2vec", "--out", out)
    one_line_exit_2(proc, "data.augment.preset: ts2vec makes only overlapping-crops views")
    assert not out.exists()


@pytest.mark.parametrize(
    "sections, needle",
    [
        ({"method": {"name": "ts2vec"}}, "method.name"),  # a view kind images do not make
        ({"train": {"batch_size": 0}}, "train.batch_size"),
        ({"encoder": {"name": "no_such_net"}}, "encoder.name"),
        ({"data": {"modality": "image", "train": "", "image_size": 16}}, "data.train"),
        ({"optim": {"lr": -1}}, "optim.lr"),
        ({"data": {"modality": "image", "train": "builtin:digits", "augment": {"preset": "x"}}},
         "data.augment.preset"),
    ],
)  # fmt: skip
def test_validation_refusals_leave_no_run_folder(tmp_path, write_recipe, sections, needle):
    out = tmp_path / "R"
    proc = cli("pretrain", write_recipe(small_recipe(**sections)), "--out", out)
    one_line_exit_2(proc, needle)
    assert not out.exists()


@pytest.mark.parametrize("modality", ["timeseries", "graph"])
def test_pack_refuses_a_modality_without_a_file_format(tmp_path, modality):
    out = tmp_path / "shards"
    proc = cli("pack", "builtin:GunPoint", out, "--modality", modality)
    one_line_exit_2(proc, f"--modality {modality}: {modality} data has no file format to pack")
    assert not out.exists()
