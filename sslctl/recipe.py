"""Recipe models: the one validated description of a job.

Every field carries a description so `sslctl recipe schema` yields a JSON Schema editors can use.
Unknown keys are errors. `method` and `data` are discriminated unions (on `name` and `modality`),
so each method and modality validates its own parameters; adding one is a class plus a union line.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any, Literal, Union

import yaml
from pydantic import Discriminator, Field, Tag, ValidationError, model_validator
from pydantic_core import PydanticCustomError

from sslctl.errors import UserError
from sslctl.modalities import MODALITIES
from sslctl.recipe_errors import describe
from sslctl.specs import Location, OptimSpec, Strict, TrainSpec
from sslctl.specs.encoder import EncoderSpec
from sslctl.specs.probes import DEFAULT_PROTOCOLS, PROBES
from sslctl.specs.teachers import teacher_kinds
from sslctl.views import preset_refusal, view_kind_refusal


# ---------------------------------------------------------------- data
def _data_union():
    """The `data` section: a discriminated union (on `modality`) of every registered
    modality's data spec, each defined in its folder (sslctl/modalities/NAME/spec.py)."""
    specs = tuple(spec for _, spec in MODALITIES.items())
    return Annotated[Union[specs], Field(discriminator="modality")], MODALITIES.names()  # noqa: UP007


DataSection, MODALITY_NAMES = _data_union()


# ---------------------------------------------------------------- methods
def _method_union():
    """The `method` section: a discriminated union (on `name`) of every registered method's
    spec, each declared in sslctl/specs/methods/ (plugins included)."""
    from sslctl.specs.methods import METHODS

    specs = tuple(spec for _, spec in METHODS.items())
    return Annotated[Union[specs], Field(discriminator="name")], METHODS.names()  # noqa: UP007


MethodSpec, METHOD_NAMES = _method_union()


# ---------------------------------------------------------------- probe
def _protocol_name():
    """A probe protocol's name: one registered in sslctl.eval (plugins included)."""

    return Literal[tuple(PROBES.names())]


ProtocolName = _protocol_name()


class ProbeSpec(Strict):
    train: Location | None = Field(None, description="Labelled data source the probes fit on.")
    test: Location | None = Field(
        None, description="Labelled data source the probes are scored on."
    )
    k: int = Field(20, gt=0, le=10_000, description="kNN neighbours.")
    temperature: float = Field(0.07, gt=0, le=100, description="kNN similarity temperature.")
    protocols: list[ProtocolName] = Field(
        default_factory=lambda: list(DEFAULT_PROTOCOLS),
        description="Probes to run (svm: TS2Vec's RBF-SVM protocol, for small sets).",
    )


# ---------------------------------------------------------------- teacher and students
def _teacher_union():
    """The `teacher` section: one of the registered teacher kinds (sslctl/teachers/), told
    apart by the kind's one key (`run:`, `timm:`, `onnx:`, `random:`)."""
    from sslctl.specs.teachers import TEACHERS

    kinds = TEACHERS.names()

    def kind_of(tree: Any) -> str | None:
        if not isinstance(tree, dict):
            return tree.kind if isinstance(tree, Strict) else None
        return next((k for k in kinds if k in tree), None)

    members = tuple(Annotated[spec, Tag(name)] for name, spec in TEACHERS.items())
    expected = ", ".join(f"{k}:" for k in kinds)
    union = Annotated[
        Union[members],  # noqa: UP007
        Discriminator(
            kind_of,
            custom_error_type="teacher_kind",
            custom_error_message=f"name the teacher's kind by one key: {expected}",
        ),
    ]
    return union, kinds


TeacherSection, TEACHER_KINDS = _teacher_union()


class StudentSpec(Strict):
    name: str = Field(
        pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$",
        description="The student's name: its run directory is OUT/NAME.",
    )
    encoder: EncoderSpec = Field(description="The student's encoder.")


class Recipe(Strict):
    name: str = Field(
        "run",
        pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$",
        description="Run name, one path component (letters, digits, . _ -); the default "
        "output folder is runs/NAME.",
    )
    seed: int = Field(
        0, ge=0, le=2**32 - 1, description="Seed for init, augmentation and data order."
    )
    data: DataSection = Field(description="What to train on and how it is augmented.")
    encoder: EncoderSpec | None = Field(
        None,
        description="The encoder being learned (the student in distill). Required, "
        "except in a distill recipe that lists `students`.",
    )
    method: MethodSpec = Field(description="Self-supervised method and its parameters.")
    optim: OptimSpec = Field(default_factory=OptimSpec, description="Optimizer and schedules.")
    train: TrainSpec = Field(default_factory=TrainSpec, description="Loop settings.")
    probe: ProbeSpec = Field(default_factory=ProbeSpec, description="Default probe data.")
    teacher: TeacherSection | None = Field(
        None,
        description=f"The frozen teacher distill learns from, by kind: {teacher_kinds()}.",
    )
    students: list[StudentSpec] | None = Field(
        None,
        min_length=1,
        max_length=16,
        description="distill only: several students trained "
        "from one teacher pass, each written as the run directory OUT/NAME (instead of encoder).",
    )

    @model_validator(mode="after")
    def _one_encoder_section(self) -> Recipe:
        if self.students is None:
            if self.encoder is None:
                raise PydanticCustomError("encoder_missing", "required field missing")
            return self
        if self.encoder is not None:
            raise PydanticCustomError("students", "give either encoder or students, not both")
        names = [s.name for s in self.students]
        if len(set(names)) != len(names):
            raise PydanticCustomError("students", "student names must differ")
        return self

    @model_validator(mode="after")
    def _modality_makes_the_views(self) -> Recipe:
        """A method asks for a kind of views (its spec's view_plan.kind); the data's modality
        must make it. Both are declared on the specs, so neither's code is imported."""
        kind = self.method.view_plan.kind
        makes = self.data.view_kinds
        refusal = view_kind_refusal(self.method.name, kind, self.data.modality, makes)
        if refusal:
            raise PydanticCustomError("method_modality", refusal)
        refusal = preset_refusal(kind, self.data.augment.preset, self.data.kind_presets)
        if refusal:
            raise PydanticCustomError("preset_kind", refusal)
        return self


# ---------------------------------------------------------------- loading
def _set_dotted(tree: dict, key: str, value: Any) -> None:
    parts = key.split(".")
    node = tree
    for part in parts[:-1]:
        child = node.get(part)
        if child is None:
            child = node[part] = {}
        if not isinstance(child, dict):
            raise UserError(f"--set {key}: '{part}' is not a section")
        node = child
    node[parts[-1]] = value


def apply_overrides(tree: dict, overrides: list[str]) -> dict:
    """Apply `key.sub=value` overrides; values are YAML-parsed, then typed by the model."""
    for item in overrides:
        if "=" not in item:
            raise UserError(f"--set {item}: expected KEY=VALUE")
        key, raw = item.split("=", 1)
        try:
            value = yaml.safe_load(raw) if raw else ""
        except yaml.YAMLError:
            value = raw
        _set_dotted(tree, key.strip(), value)
    return tree


def validate(tree: Any, source: str) -> Recipe:
    """Validate a parsed recipe; raise UserError naming the first problem's field (and how
    many more there are: the error is one line)."""
    if not isinstance(tree, dict):
        raise UserError(f"{source}: a recipe must be a YAML mapping")
    try:
        return Recipe.model_validate(tree)
    except ValidationError as exc:
        problems: dict[str, str] = {}  # field -> its first problem (a union fails per branch)
        for err in exc.errors():
            line = describe(err, Recipe, _TAGS, dict(MODALITIES.items()))
            problems.setdefault(line.split(":", 1)[0], line)
        first, *rest = problems.values()
        more = f" (and {len(rest)} more field(s))" if rest else ""
        raise UserError(f"{source}: {first}{more}") from None


# each discriminated section's tags, which pydantic puts in an error's path
_TAGS = {"method": METHOD_NAMES, "data": MODALITY_NAMES, "teacher": TEACHER_KINDS}

MAX_RECIPE_BYTES = 1 << 20
MAX_RECIPE_VALUES = 10_000  # after YAML aliases are expanded; real recipes hold about 100


def _count_values(tree: Any, path: Path) -> None:
    """Refuse a recipe whose aliases expand to more values than any real recipe holds (a few
    hundred bytes of nested aliases can stand for gigabytes)."""
    seen, stack = 0, [tree]
    while stack:
        node = stack.pop()
        seen += 1
        if seen > MAX_RECIPE_VALUES:
            raise UserError(
                f"{path}: recipe expands to over {MAX_RECIPE_VALUES} values (YAML aliases?)"
            )
        if isinstance(node, dict):
            stack.extend(node.keys())
            stack.extend(node.values())
        elif isinstance(node, list):
            stack.extend(node)


def load_tree(path: str | Path) -> dict:
    path = Path(path)
    if not path.is_file():
        raise UserError(f"{path}: recipe file not found")
    if path.stat().st_size > MAX_RECIPE_BYTES:
        raise UserError(f"{path}: recipe file over {MAX_RECIPE_BYTES >> 20} MB")
    try:
        tree = yaml.safe_load(path.read_text())
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" line {mark.line + 1}" if mark else ""
        raise UserError(f"{path}:{where} invalid YAML") from None
    except (UnicodeDecodeError, RecursionError) as exc:
        raise UserError(f"{path}: not a readable YAML recipe ({exc.__class__.__name__})") from None
    _count_values(tree, path)
    return tree if tree is not None else {}


def load_recipe(path: str | Path, overrides: list[str] | None = None) -> Recipe:
    tree = apply_overrides(load_tree(path), overrides or [])
    return validate(tree, str(path))


def dump_recipe(recipe: Recipe) -> str:
    return yaml.safe_dump(recipe.model_dump(mode="json"), sort_keys=False)
