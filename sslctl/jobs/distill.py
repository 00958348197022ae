"""distill: compress a frozen teacher into one or several students, without labels. The
teacher is any registered kind (a run, a timm file, an ONNX file, a random init:
sslctl/teachers/); the students train in one training run (sslctl/training.py) with the
distill method, which runs the teacher once per batch for all of them. One student is
written as the run directory OUT; several as OUT/NAME each (OUT keeps their shared recipe,
checkpoint and log), so probe, embed and export take any student as they take any run."""

from __future__ import annotations

import json
from pathlib import Path

import torch

from sslctl.encoders.base import Encoder
from sslctl.engine import distributed as ddp
from sslctl.errors import UserError
from sslctl.io.atomic import write_text
from sslctl.methods.distill import Distill
from sslctl.modalities.base import Modality
from sslctl.recipe import Recipe
from sslctl.rundir import RunDir, write_encoder, write_recipe
from sslctl.specs.encoder import EncoderSpec
from sslctl.specs.methods import METHODS
from sslctl.specs.teachers import teacher_kinds
from sslctl.teachers.base import Teacher, TeacherKind, teacher_kind
from sslctl.training import load_data, opened_run, train

SINGLE = "student"  # the one student's name when the recipe gives `encoder`


def students_of(recipe: Recipe) -> dict[str, tuple[EncoderSpec, str]]:
    """name -> (encoder spec, the recipe field errors about it name)."""
    if recipe.students is None:
        return {SINGLE: (recipe.encoder, "encoder")}
    return {s.name: (s.encoder, f"students.{i}.encoder") for i, s in enumerate(recipe.students)}


def build_students(
    recipe: Recipe, modality: Modality, kind: TeacherKind, teacher: Teacher
) -> dict[str, Encoder]:
    """Every student from the same seed, so each starts as it would in a run of its own."""
    students = {}
    for name, (encoder_spec, where) in students_of(recipe).items():
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(recipe.seed)
            encoder = modality.build_encoder(encoder_spec)
        kind.init_student(encoder, encoder_spec, teacher, where)
        students[name] = encoder
    return students


def distill(
    recipe: Recipe,
    out: str | None = None,
    resume: bool = False,
    device: str = "auto",
    quiet: bool = False,
    source: str = "recipe",
) -> Path:
    if not METHODS.get(recipe.method.name).needs_teacher or recipe.teacher is None:
        raise UserError(
            f"{source}: distill needs `method: {{name: distill}}` and a `teacher:` "
            f"({teacher_kinds()}; see `sslctl recipe schema`)"
        )
    run_dir = Path(out or f"runs/{recipe.name}")
    with opened_run(run_dir, resume, device) as (dev, resume):
        return _distill(recipe, run_dir, dev, resume, quiet)


def _distill(recipe: Recipe, run_dir: Path, dev: torch.device, resume: bool, quiet: bool) -> Path:
    """The teacher, the students and their training, in the run folder this job owns."""
    modality, samples = load_data(recipe)
    with torch.random.fork_rng(devices=[]):  # loading never moves the students' init stream
        kind = teacher_kind(recipe.teacher)
        loaded = kind.load(modality, recipe.seed)
    modality = loaded.modality
    if recipe.method.mixup and not isinstance(modality.export_example(1), torch.Tensor):
        raise UserError("method.mixup: mixes views that are tensors; these views are not")
    students = build_students(recipe, modality, kind, loaded.teacher)
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(recipe.seed + 1)  # the heads' init, the same for any student count
        method = Distill(students, loaded.teacher, recipe.method, len(samples))
    train(recipe, run_dir, method, modality, samples, dev, resume, quiet)
    if not ddp.is_main():
        return run_dir
    if recipe.students is None:
        write_encoder(run_dir, recipe.encoder, modality, method.encoder.cpu())
        return run_dir
    for name, (encoder_spec, _) in students_of(recipe).items():
        own = recipe.model_copy(update={"encoder": encoder_spec, "students": None})
        write_student(run_dir, name, own, modality, students[name].cpu())
    return run_dir


def write_student(
    run_dir: Path, name: str, recipe: Recipe, modality: Modality, encoder: Encoder
) -> None:
    """OUT/NAME as a run directory of its own: its recipe (one encoder), encoder and its part
    of the shared log (its loss and terms, unprefixed)."""
    folder = run_dir / name
    write_recipe(folder, recipe)
    write_encoder(folder, recipe.encoder, modality, encoder)
    lines = []
    shared = RunDir(run_dir).metrics
    for line in shared.read_text().splitlines() if shared.is_file() else []:
        record = json.loads(line)
        own = {k: v for k, v in record.items() if "/" not in k and k != "loss"}
        own.update({k.split("/", 1)[1]: v for k, v in record.items() if k.startswith(name + "/")})
        lines.append(json.dumps(own) + "\n")
    write_text(RunDir(folder).metrics, "".join(lines))
