"""Run directory contract (DESIGN.md): recipe.yaml, encoder.safetensors, encoder.json,
metrics.jsonl, checkpoints/last.pt. Writing and rebuilding an encoder from one lives here."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import yaml

from sslctl import __version__
from sslctl.encoders.base import Encoder
from sslctl.engine.checkpoint import load_weights_file, save_weights, write_json, write_text
from sslctl.errors import UserError
from sslctl.modalities import Modality, get_modality
from sslctl.recipe import Recipe, dump_recipe, validate
from sslctl.sources.stream import stream_settings


@dataclass
class Run:
    path: Path
    recipe: Recipe
    modality: Modality
    encoder: Encoder


def write_recipe(run_dir: Path, recipe: Recipe) -> None:
    write_text(run_dir / "recipe.yaml", dump_recipe(recipe))


def write_encoder(run_dir: Path, recipe: Recipe, modality: Modality, encoder: Encoder) -> None:
    info = {
        "sslctl_version": __version__,
        "modality": modality.input_spec["modality"],
        "encoder": recipe.encoder.model_dump(mode="json"),
        "input": modality.input_spec,
        "embed_dim": encoder.embed_dim,
    }
    write_json(run_dir / "encoder.json", info)
    save_weights(run_dir / "encoder.safetensors", encoder, {"encoder.json": json.dumps(info)})


def load_run(path: str | Path) -> Run:
    """Rebuild the trained encoder (in eval mode, on CPU) from a run directory."""
    run = Path(path)
    for name in ("recipe.yaml", "encoder.json", "encoder.safetensors"):
        if not (run / name).is_file():
            raise UserError(f"{run}: not a finished run directory ({name} missing)")
    recipe = validate(yaml.safe_load((run / "recipe.yaml").read_text()), str(run / "recipe.yaml"))
    info = json.loads((run / "encoder.json").read_text())
    modality_cls = get_modality(info["modality"])
    if hasattr(modality_cls, "eval_decoder"):  # file sources: read as the run's recipe says
        modality = modality_cls(
            info["input"], stream=stream_settings(recipe.data), workers=recipe.train.num_workers
        )
    else:
        modality = modality_cls(info["input"])
    encoder = modality.build_encoder(recipe.encoder.model_copy(update={"weights": None}))
    encoder.load_state_dict(load_weights_file(run / "encoder.safetensors"))
    return Run(run, recipe, modality, encoder.eval())
