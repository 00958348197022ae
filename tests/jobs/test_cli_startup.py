"""The CLI answers at once: help and the recipe commands load neither torch nor any method,
teacher, encoder or engine module (`sslctl --help` once took 3-6 s and 665 MB, the cost of
importing torch, on a 2-core machine), and help reads as prose with an example."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from tests.conftest import ROOT, cli

# Run the CLI's entry point in a fresh interpreter, then report what it imported.
PROBE = """
import json, sys
sys.argv = ["sslctl", *json.loads(sys.argv[1])]
from sslctl.cli import main
try:
    main()
except SystemExit:
    pass
print(json.dumps(sorted(sys.modules)), file=sys.stderr)
"""
HEAVY = ("torch", "timm", "sslctl.methods", "sslctl.teachers", "sslctl.encoders", "sslctl.engine")


def imported_by(*args: str) -> list[str]:
    proc = subprocess.run(
        [sys.executable, "-c", PROBE, json.dumps(list(args))],
        capture_output=True, text=True, cwd=ROOT, timeout=120,
    )  # fmt: skip
    return json.loads(proc.stderr.strip().splitlines()[-1])


@pytest.mark.parametrize(
    "args",
    [
        ["--help"],
        ["pretrain", "--help"],
        ["distill", "--help"],
        ["probe", "--help"],
        ["coreset", "--help"],
        ["export", "--help"],
        ["recipe", "validate", "recipes/image/simclr.yaml"],
        ["recipe", "validate", "recipes/image/fashion-mnist/distill.yaml"],
        ["recipe", "validate", "recipes/audio/jepa.yaml"],
        ["recipe", "show", "recipes/graph/graphmae.yaml"],
        ["recipe", "schema"],
        ["recipe", "list", "--units"],
    ],
    ids=" ".join,
)
def test_help_and_recipe_commands_import_no_torch_and_no_unit_code(args):
    heavy = [m for m in imported_by(*args) if any(m == h or m.startswith(h + ".") for h in HEAVY)]
    assert heavy == [], heavy


def test_an_unknown_encoder_name_is_still_refused_with_close_matches(write_recipe):
    """timm's names are read from its files, not its registry: a typo must still be caught."""
    from tests.conftest import small_recipe

    recipe = write_recipe(small_recipe(encoder={"name": "resnet81"}))
    proc = cli("recipe", "validate", recipe)
    assert proc.returncode == 2 and "unknown encoder 'resnet81'" in proc.stderr
    assert "resnet18" in proc.stderr


def test_timm_names_read_from_its_files_are_its_registry():
    import timm

    from sslctl.timm_names import timm_model_names

    assert timm_model_names() == set(timm.list_models()) | set(
        timm.models._registry._deprecated_models
    )


def test_help_is_reflowed_prose_with_an_example_and_the_units_pointer():
    proc = cli("probe", "--help")
    text = " ".join(proc.stdout.split())
    # the docstring's source line break after "--protocol svm" no longer breaks the sentence
    assert "--protocol svm runs TS2Vec's RBF-SVM protocol" in text
    assert "Example: sslctl probe runs/demo --json" in text
    pretrain = " ".join(cli("pretrain", "--help").stdout.split())
    assert "sslctl recipe list --units" in pretrain and "{RECIPE}" in pretrain
    assert "sslctl recipe list --units" in " ".join(cli("--help").stdout.split())
