"""The run directory (docs/contracts.md): `RunDir` names every file in it, and every job
reaches them through it. Writing a run's encoder and rebuilding it from a run live here."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from sslctl import __version__
from sslctl.encoders.base import Encoder
from sslctl.errors import UserError, first_line
from sslctl.io.atomic import write_json, write_text
from sslctl.io.weights import load_weights_file, save_weights
from sslctl.modalities import get_modality
from sslctl.modalities.base import Modality
from sslctl.recipe import Recipe, dump_recipe, load_tree, validate
from sslctl.specs import EncoderSpec


@dataclass(frozen=True)
class RunDir:
    """Every file of a run directory, named once."""

    path: Path

    @property
    def recipe(self) -> Path:  # the validated recipe, as trained
        return self.path / "recipe.yaml"

    @property
    def weights(self) -> Path:  # the encoder's weights, encoder.json in their metadata
        return self.path / "encoder.safetensors"

    @property
    def info(self) -> Path:  # how to rebuild and feed the encoder
        return self.path / "encoder.json"

    @property
    def metrics(self) -> Path:  # one JSON line per logged step
        return self.path / "metrics.jsonl"

    @property
    def checkpoints(self) -> Path:
        return self.path / "checkpoints"

    @property
    def checkpoint(self) -> Path:  # what --resume reads
        return self.checkpoints / "last.pt"

    @property
    def tensorboard(self) -> Path:  # TensorBoard events, when train.tensorboard is on
        return self.path / "tb"

    @property
    def report(self) -> Path:  # what `sslctl report RUN` writes
        return self.path / "report"

    def files(self) -> list[Path]:
        """The files a run's own jobs write, which no other output may replace."""
        return [self.recipe, self.weights, self.info, self.metrics]

    def is_run(self) -> bool:
        return self.recipe.is_file() and any(
            p.exists() for p in (self.info, self.metrics, self.checkpoints)
        )


@dataclass
class Run:
    path: Path
    recipe: Recipe
    modality: Modality
    encoder: Encoder


def write_recipe(run_dir: Path, recipe: Recipe) -> None:
    write_text(RunDir(run_dir).recipe, dump_recipe(recipe))


# Fields a resumed run may change: its length (a run stopped early goes on to more steps; the
# trainer refuses a checkpoint past the new end), and how it is read, logged and checkpointed,
# never what it learns (the same batches, augmentations and weights follow with any of these).
RESUMABLE = frozenset(
    {
        "name",
        "train.epochs",
        "train.steps",
        "train.num_workers",
        "train.log_every",
        "train.checkpoint_every",
        "train.eval_every",
        "train.eval_samples",
        "train.tensorboard",
        "data.cache",
        "data.cache_budget_mb",
    }
)


def _flat(tree: object, prefix: str = "") -> dict[str, object]:
    if not isinstance(tree, dict):
        return {prefix: tree}
    flat: dict[str, object] = {}
    for key, value in tree.items():
        flat.update(_flat(value, f"{prefix}.{key}" if prefix else str(key)))
    return flat


def check_resumed_recipe(run_dir: Path, recipe: Recipe, job: str) -> None:
    """A resume trains the run it continues: a recipe that differs from the saved one in
    anything but RESUMABLE would go on with another method, model, data or schedule than the
    checkpoint's. Refused naming the first fields that differ."""
    saved_path = RunDir(run_dir).recipe
    if not saved_path.is_file():
        return  # the run was stopped before it wrote its recipe
    saved = _flat(validate(load_tree(saved_path), str(saved_path)).model_dump(mode="json"))
    now = _flat(recipe.model_dump(mode="json"))
    differ = [k for k in dict.fromkeys([*saved, *now]) if saved.get(k) != now.get(k)]
    differ = [k for k in differ if k not in RESUMABLE]
    if differ:
        shown = ", ".join(f"{k} ({saved.get(k)!r} saved, {now.get(k)!r} now)" for k in differ[:3])
        more = f" and {len(differ) - 3} more" if len(differ) > 3 else ""
        raise UserError(
            f"--resume: checkpoints/last.pt was saved by another recipe: {shown}{more}; resume "
            f"with the saved recipe: sslctl {job} {saved_path} --out {run_dir} --resume"
        )


def write_encoder(run_dir: Path, spec: EncoderSpec, modality: Modality, encoder: Encoder) -> None:
    info = {
        "sslctl_version": __version__,
        "modality": modality.input_spec["modality"],
        "encoder": spec.model_dump(mode="json"),
        "input": modality.input_spec,
        "embed_dim": encoder.embed_dim,
    }
    files = RunDir(run_dir)
    write_json(files.info, info)
    save_weights(files.weights, encoder, {files.info.name: json.dumps(info)})


def load_run(path: str | Path) -> Run:
    """Rebuild the trained encoder (in eval mode, on CPU) from a run directory."""
    run, files = Path(path), RunDir(Path(path))
    _refuse_students_folder(files)
    for needed in (files.recipe, files.info, files.weights):
        if not needed.is_file():
            raise UserError(f"{run}: not a finished run directory ({needed.name} missing)")
    recipe = validate(load_tree(files.recipe), str(files.recipe))
    info = _read_info(files.info, recipe)
    modality_cls = get_modality(info["modality"])
    try:
        modality = modality_cls.from_run(info["input"], recipe.data, recipe.train.num_workers)
        encoder = modality.build_encoder(recipe.encoder.model_copy(update={"weights": None}))
    except (KeyError, TypeError, ValueError, IndexError) as exc:
        raise UserError(f"{files.info}: unusable input spec ({exc!r:.120})") from None
    try:
        encoder.load_state_dict(load_weights_file(files.weights))
    except RuntimeError as exc:
        reason = first_line(exc, empty="mismatch")
        raise UserError(f"{files.weights}: does not fit {files.recipe} ({reason})") from None
    return Run(run, recipe, modality, encoder.eval())


def _refuse_students_folder(files: RunDir) -> None:
    """A multi-student distillation's folder holds the students' runs, not an encoder: name
    them instead of reporting a missing file."""
    if files.info.exists() or not files.recipe.is_file():
        return
    recipe = validate(load_tree(files.recipe), str(files.recipe))
    if recipe.students:
        runs = ", ".join(str(files.path / s.name) for s in recipe.students)
        raise UserError(f"{files.path}: holds distilled students, each a run: {runs}")


def _read_info(path: Path, recipe: Recipe) -> dict:
    """encoder.json, checked for what rebuilding the encoder needs. Its input spec must agree
    with the (validated, bounded) recipe on every setting both hold, so a crafted file cannot
    ask for, say, a billion-pixel input."""
    try:
        info = json.loads(path.read_text())
    except (OSError, UnicodeDecodeError, ValueError) as exc:
        raise UserError(f"{path}: not readable JSON ({exc.__class__.__name__})") from None
    if not isinstance(info, dict) or not isinstance(info.get("input"), dict):
        raise UserError(f"{path}: missing the 'input' spec the encoder is rebuilt from")
    if info.get("modality") != recipe.data.modality:
        raise UserError(f"{path}: modality {info.get('modality')!r:.40} is not the recipe's")
    data = recipe.data.model_dump()
    for key, value in info["input"].items():
        if key in data and key != "modality" and data[key] is not None and data[key] != value:
            raise UserError(f"{path}: input {key} = {value!r:.40} disagrees with recipe.yaml")
    return info


def is_run_dir(path: Path) -> bool:
    return RunDir(path).is_run()


def check_output(out: Path, reads: list[Path], option: str) -> None:
    """Refuse an output path that would overwrite a file this job reads, or a file that makes
    up a run directory (its recipe, weights, metadata, metrics or checkpoints): exports,
    embeddings and index lists go beside a run, never over it."""
    target = out.resolve()
    if out.is_dir():
        raise UserError(f"{option} {out}: is a folder; give a file path")
    for path in reads:
        if path.exists() and path.resolve() == target:
            raise UserError(f"{option} {out}: is a file this job reads; choose another path")
    folder = target.parent
    if folder == RunDir(folder.parent).checkpoints and is_run_dir(folder.parent):
        raise UserError(f"{option} {out}: would overwrite the checkpoints of run {folder.parent}")
    if target in RunDir(folder).files() and is_run_dir(folder):
        raise UserError(f"{option} {out}: would overwrite {target.name} of run {folder}")
