"""A mistyped recipe key or value gets a "did you mean", and a key another modality's data
section has (a `--set data.modality=...` switch) is named as that modality's."""

from __future__ import annotations

import pytest

from tests.conftest import cli, small_recipe


@pytest.mark.parametrize(
    ("sets", "needle"),
    [
        (["method.temprature=0.2"], "method.temprature: unknown key (did you mean 'temperature'?)"),
        (["data.augment.jiter_prob=0.5"], "(did you mean 'jitter_prob'?)"),
        (["train.precison=fp32"], "train.precison: unknown key (did you mean 'precision'?)"),
        (["method.name=simclar"], "method.name: unknown value 'simclar' (did you mean 'simclr'?)"),
        (["train.precision=bf61"], "(did you mean 'bf16'?), got 'bf61'"),
        (["teacher={rnu: runs/x}"], "teacher: name the teacher's kind by one key"),
    ],
)
def test_a_typo_gets_a_close_match(write_recipe, sets, needle):
    recipe = write_recipe(small_recipe())
    proc = cli("recipe", "validate", recipe, *[f"--set={s}" for s in sets])
    assert proc.returncode == 2 and needle in proc.stderr, proc.stderr
    assert len(proc.stderr.strip().splitlines()) == 1


def test_an_unrelated_unknown_key_gets_no_guess(write_recipe):
    proc = cli("recipe", "validate", write_recipe(small_recipe()), "--set", "train.foo=1")
    assert proc.returncode == 2 and proc.stderr.strip().endswith("train.foo: unknown key")


def test_switching_the_modality_names_the_keys_of_the_old_one(write_recipe):
    proc = cli("recipe", "validate", write_recipe(small_recipe()), "--set", "data.modality=audio")
    assert proc.returncode == 2, proc.stderr
    assert "data.image_size: unknown key for audio data, a key of image data" in proc.stderr
    assert "data.modality was switched" in proc.stderr
