"""--resume continues the run it names: a recipe that differs from the saved one is refused
naming the fields (a shorter run once said only `step 50 is outside this recipe's run`), and
the command to resume with the saved recipe works as printed; settings that change only how
the run is read or logged may differ."""

from __future__ import annotations

import shlex

from tests.conftest import cli, small_recipe


def test_a_resume_with_another_recipe_names_the_field_and_the_fix(write_recipe, tmp_path):
    tree = small_recipe(train={"epochs": 1, "batch_size": 256, "checkpoint_every": 1})
    run = tmp_path / "run"
    cli("pretrain", write_recipe(tree), "--out", run, "--quiet", check=True)
    before = (run / "encoder.safetensors").read_bytes()
    proc = cli("pretrain", write_recipe(tree), "--out", run, "--resume", "--quiet",
               "--set", "train.epochs=2", "--set", "method.temperature=0.5")  # fmt: skip
    assert proc.returncode == 2 and len(proc.stderr.strip().splitlines()) == 1, proc.stderr
    assert "method.temperature (0.2 saved, 0.5 now), train.epochs (1 saved, 2 now)" in proc.stderr
    fix = proc.stderr.split("resume with the saved recipe: ")[1].split()
    assert fix[:3] == ["sslctl", "pretrain", str(run / "recipe.yaml")]
    assert (run / "encoder.safetensors").read_bytes() == before  # nothing written
    again = cli(*shlex.split(" ".join(fix[1:])), "--quiet", "--set", "train.num_workers=0")
    assert again.returncode == 0, again.stderr  # a reading setting may differ
