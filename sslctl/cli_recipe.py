"""`sslctl recipe ...`: validate, show, list recipes and print their JSON Schema; and the
`--set` option every recipe-reading command takes."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated

import typer

from sslctl.cli_text import command

recipe_app = typer.Typer(
    help="Validate, show, list recipes and print their JSON Schema.", no_args_is_help=True
)

RECIPES_DIR = Path(__file__).resolve().parent.parent / "recipes"

RecipeArg = Annotated[
    Path, typer.Argument(metavar="RECIPE", help="Recipe YAML (ready ones: sslctl recipe list).")
]
SetOpt = Annotated[
    list[str] | None,
    typer.Option("--set", help="Override a recipe field: --set train.epochs=5 (repeatable)."),
]


@command(
    recipe_app,
    "sslctl recipe validate recipes/image/simclr.yaml --set train.epochs=5",
    "validate",
    units=True,
)
def recipe_validate(recipe: RecipeArg, set_: SetOpt = None):
    """Check a recipe; exit 2 with one line per problem."""
    from sslctl.recipe import load_recipe

    load_recipe(recipe, set_ or [])
    print(f"{recipe}: ok", file=sys.stderr)


@command(
    recipe_app,
    "sslctl recipe show recipes/image/simclr.yaml --set method.temperature=0.1",
    "show",
    units=True,
)
def recipe_show(recipe: RecipeArg, set_: SetOpt = None):
    """Print the resolved recipe (defaults filled in, overrides applied) as YAML."""
    from sslctl.recipe import dump_recipe, load_recipe

    sys.stdout.write(dump_recipe(load_recipe(recipe, set_ or [])))


@command(recipe_app, "sslctl recipe schema > recipe.schema.json", "schema", units=True)
def recipe_schema():
    """Print the recipe JSON Schema (for editor completion and validation)."""
    from sslctl.recipe import Recipe

    print(json.dumps(Recipe.model_json_schema(), indent=2))


@command(recipe_app, "sslctl recipe list --units | grep ^method", "list")
def recipe_list(
    units: Annotated[
        bool,
        typer.Option(
            "--units",
            help="List the registered units instead, one 'KIND<TAB>NAME<TAB>CODE' line each (CODE: "
            "the module:attribute that does the work): "
            "modalities, encoders, methods, probe protocols, coreset strategies and teacher "
            "kinds, plugins included.",
        ),
    ] = False,
):
    """List the ready recipes shipped in recipes/ (or, with --units, what a recipe can name)."""
    if not units:
        for path in sorted(RECIPES_DIR.rglob("*.yaml")):
            print(path.relative_to(RECIPES_DIR.parent))
        return
    from sslctl.modalities import MODALITIES
    from sslctl.specs.encoders import ENCODERS
    from sslctl.specs.methods import METHODS
    from sslctl.specs.probes import PROBES
    from sslctl.specs.strategies import STRATEGIES
    from sslctl.specs.teachers import TEACHERS

    registries = {"modality": MODALITIES, "encoder": ENCODERS, "method": METHODS}
    registries |= {"probe": PROBES, "strategy": STRATEGIES, "teacher": TEACHERS}
    for kind, registry in registries.items():
        for name in registry.names():
            print(f"{kind}\t{name}\t{registry.get(name).code}")
