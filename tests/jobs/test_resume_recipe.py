"""--resume continues the run it names: a recipe that differs from the saved one is refused
naming the fields, and the command to resume with the saved recipe works as printed; the run's
length, and settings that change only how the run is read or logged, may differ."""

from __future__ import annotations

import shlex

from tests.conftest import cli, small_recipe


def test_a_resume_with_another_recipe_names_the_field_and_the_fix(write_recipe, tmp_path):
    tree = small_recipe(train={"epochs": 1, "batch_size": 256, "checkpoint_every": 1})
    run = tmp_path / "run"
    cli("pretrain", write_recipe(tree), "--out", run, "--quiet", check=True)
    before = (run / "encoder.safetensors").read_bytes()
    proc = cli("pretrain", write_recipe(tree), "--out", run, "--resume", "--quiet",
               "--set", "method.temperature=0.5", "--set", "optim.lr=0.01")  # fmt: skip
    assert proc.returncode == 2 and len(proc.stderr.strip().splitlines()) == 1, proc.stderr
    assert (
        "checkpoints/last.pt was saved by another recipe: method.temperature (0.2 saved, "
        "0.5 now), optim.lr (0.001 saved, 0.01 now)" in proc.stderr
    )
    fix = proc.stderr.split("resume with the saved recipe: ")[1].split()
    assert fix[:3] == ["sslctl", "pretrain", str(run / "recipe.yaml")]
    assert (run / "encoder.safetensors").read_bytes() == before  # nothing written
    again = cli(*shlex.split(" ".join(fix[1:])), "--quiet", "--set", "train.num_workers=0")
    assert again.returncode == 0, again.stderr  # a reading setting may differ


def test_a_resume_into_a_shorter_run_names_the_length_field(write_recipe, tmp_path):
    """A run may be resumed to more steps (or epochs); one whose checkpoint lies past the new
    recipe's end says which field sets the length (it once said only `step 50 is outside
    this recipe's run`)."""
    tree = small_recipe(train={"epochs": 2, "batch_size": 256, "checkpoint_every": 1})
    run = tmp_path / "run"
    cli("pretrain", write_recipe(tree), "--out", run, "--quiet", check=True)
    proc = cli("pretrain", write_recipe(tree), "--out", run, "--resume", "--quiet",
               "--set", "train.epochs=1")  # fmt: skip
    assert proc.returncode == 2 and len(proc.stderr.strip().splitlines()) == 1, proc.stderr
    assert (
        "train.epochs:" in proc.stderr
        and "is at step 10, past this recipe's last step (5)" in proc.stderr
    )
