"""Recipes: validation messages name the field, overrides are typed, CLI exits 2 on bad input."""

from __future__ import annotations

import json

import pytest

from sslctl.errors import UserError
from sslctl.recipe import apply_overrides, load_recipe, validate
from tests.conftest import ROOT, cli, cli_process, one_line_exit_2, small_recipe


def _error(tree) -> str:
    with pytest.raises(UserError) as exc:
        validate(tree, "r.yaml")
    return str(exc.value)


def test_shipped_recipes_validate():
    recipes = sorted((ROOT / "recipes").rglob("*.yaml"))
    assert len(recipes) >= 6
    for path in recipes:
        load_recipe(path)


def test_bound_violation_names_field():
    msg = _error(small_recipe(method={"name": "simclr", "temperature": -1}))
    assert msg == "r.yaml: method.temperature: must be > 0, got -1"


def test_wrong_type_names_field():
    assert "train.epochs" in _error(small_recipe(train={"epochs": "many"}))


def test_unknown_key_is_error():
    assert (
        _error(small_recipe(optim={"lrr": 0.1}))
        == "r.yaml: optim.lrr: unknown key (did you mean 'lr'?)"
    )


def test_unknown_method_lists_valid_ones():
    msg = _error(small_recipe(method={"name": "simclrr"}))
    assert "method.name" in msg and "'simclrr'" in msg and "'byol'" in msg


def test_unknown_encoder_suggests():
    msg = _error(small_recipe(encoder={"name": "resnet_18"}))
    assert msg.startswith("r.yaml: encoder.name: unknown encoder 'resnet_18'") and "resnet18" in msg


def test_overrides_are_typed():
    tree = apply_overrides(small_recipe(), ["train.epochs=3", "optim.lr=1e-2", "name=123"])
    recipe = validate(tree, "r")
    assert recipe.train.epochs == 3 and recipe.optim.lr == 0.01 and recipe.name == "123"


def test_cli_invalid_recipe_exits_2_one_line(write_recipe):
    path = write_recipe(small_recipe(train={"batch_size": 0}))
    proc = cli_process("pretrain", path)
    assert proc.returncode == 2
    assert proc.stderr.strip() == f"error: {path}: train.batch_size: must be > 0, got 0"


def test_cli_set_override_is_validated(write_recipe):
    proc = cli("recipe", "validate", write_recipe(small_recipe()), "--set", "method.temperature=-1")
    one_line_exit_2(proc, "method.temperature: must be > 0")


def test_schema_and_show(write_recipe):
    schema = json.loads(cli("recipe", "schema", check=True).stdout)
    assert "method" in schema["properties"]
    shown = cli(
        "recipe", "show", write_recipe(small_recipe()), "--set", "train.epochs=7", check=True
    )
    assert "epochs: 7" in shown.stdout
    assert "recipes/image/simclr.yaml" in cli("recipe", "list", check=True).stdout
