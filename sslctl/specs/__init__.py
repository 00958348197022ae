"""The building blocks every recipe section is made of, shared by recipe.py and by the units
(methods, modalities) that define their own sections beside their code: strict models (unknown
keys are errors, floats must be finite) and the checked field types."""

from __future__ import annotations

from typing import Annotated, Any, ClassVar, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field

# Where a unit that declares no place of its own (a plugin's) stands in listings: after the
# built-in units, which declare theirs (`order`).
PLUGIN_ORDER = 1000


class Strict(BaseModel):
    # A recipe section (no docstring: pydantic would give every section its text as schema).
    # NaN and inf are refused in every float field: `lr: .inf` would train non-finite weights
    model_config = ConfigDict(extra="forbid", coerce_numbers_to_str=True, allow_inf_nan=False)


def ordered(scale: tuple[float, float]) -> tuple[float, float]:
    if scale[0] > scale[1]:
        raise ValueError(f"low end {scale[0]} exceeds high end {scale[1]}")
    return scale


def location(value: str) -> str:
    """A data source, run directory or file: never empty (an empty path means the current
    folder, which would be trained on or written into)."""
    if not value.strip():
        raise ValueError("must name a file, folder or builtin:NAME, not be empty")
    return value


Location = Annotated[str, AfterValidator(location)]
Fraction = Annotated[float, Field(gt=0, le=1)]
Scale = Annotated[tuple[Fraction, Fraction], AfterValidator(ordered)]


class DataSpec(Strict):
    # A modality's `data` section. What the registry answers without importing the modality
    # (doctor, pack, the CLI, recipe validation): the class that reads, augments and exports
    # the data (`code`, "module:Class"), the module of its builtin sets (NAMES,
    # source_checks; None: none), its file suffixes, the function that writes its array
    # sources as files for `sslctl pack` ("module:function"; None: nothing to pack), the view
    # kinds it makes (kind -> its own preset), the view kinds only some of its presets make
    # (kind -> those presets), the libraries only it imports (import names, which
    # `sslctl doctor` checks for it), whether its builtin sets are made into the cache folder,
    # and where it stands among the modalities (`order`; plugins, which leave it, come last).
    code: ClassVar[str]
    builtin: ClassVar[str | None] = None
    file_suffixes: ClassVar[frozenset[str]] = frozenset()
    packer: ClassVar[str | None] = None
    view_kinds: ClassVar[dict[str, str]]
    kind_presets: ClassVar[dict[str, tuple[str, ...]]] = {}
    libraries: ClassVar[tuple[str, ...]] = ()
    caches: ClassVar[bool] = False
    order: ClassVar[int] = PLUGIN_ORDER


class StreamSpec(DataSpec):
    """How a file source (a folder, a list file, shards) is read: decoded once into memory,
    or streamed from disk by `train.num_workers` worker processes."""

    cache: Literal["auto", "memory", "stream"] = Field(
        "auto",
        description="memory: decode every file once and hold the set; stream: decode in "
        "workers as batches are needed (memory does not grow with the set); auto: memory when "
        "the decoded set fits cache_budget_mb. Arrays (.npz, builtin) are always in memory.",
    )
    cache_budget_mb: float = Field(
        1024,
        gt=0,
        le=1048576,
        description="Largest decoded set `cache: auto` holds in memory (MB).",
    )
    on_decode_error: Literal["fail", "skip"] = Field(
        "fail", description="A file that cannot be decoded: fail (exit 2), or skip and count."
    )


class EncoderSpec(Strict):
    name: str = Field(description="timm model name or a registered sslctl encoder.")
    weights: Location | None = Field(
        None, description="Local .safetensors/.pt file to initialise from; never downloads."
    )
    kwargs: dict[str, Any] = Field(
        default_factory=dict, description="Extra keyword arguments for the model constructor."
    )


class OptimSpec(Strict):
    name: Literal["adamw", "lars", "sgd"] = Field("adamw", description="Optimizer.")
    lr: float = Field(
        1e-3, gt=0, le=10, description="Peak learning rate (absolute, not batch-scaled)."
    )
    min_lr: float = Field(0.0, ge=0, le=10, description="Learning rate at the end of the cosine.")
    weight_decay: float = Field(1e-4, ge=0, le=10, description="Weight decay at the start.")
    weight_decay_end: float | None = Field(
        None, ge=0, le=10, description="Weight decay at the end (cosine); default: constant."
    )
    warmup_epochs: float = Field(
        1.0, ge=0, le=100_000, description="Linear learning-rate warm-up, in epochs."
    )
    schedule: Literal["cosine", "constant"] = Field("cosine", description="Shape after warm-up.")
    momentum: float = Field(0.9, ge=0, lt=1, description="Momentum for lars and sgd.")
    betas: tuple[Annotated[float, Field(ge=0, lt=1)], Annotated[float, Field(ge=0, lt=1)]] = Field(
        (0.9, 0.999), description="AdamW betas."
    )


class TrainSpec(Strict):
    epochs: int = Field(
        20, ge=0, le=1_000_000, description="Epochs; 0 writes the random-init encoder (baseline)."
    )
    steps: int | None = Field(
        None,
        ge=0,
        le=100_000_000,
        description="Total optimizer steps, instead of epochs x steps per epoch (TS2Vec "
        "trains 200 iterations whatever the set's size); schedules keep counting in epochs.",
    )
    batch_size: int = Field(256, gt=0, le=1_048_576, description="Batch size per process.")
    accumulate: int = Field(1, gt=0, le=4096, description="Gradient accumulation steps per update.")
    grad_clip: float | None = Field(
        None, gt=0, le=1e6, description="Max gradient norm; none by default."
    )
    precision: Literal["auto", "fp32", "bf16"] = Field(
        "auto", description="auto: bf16 autocast on GPU, fp32 on CPU."
    )
    num_workers: Annotated[int, Field(ge=0, le=64)] | Literal["auto"] = Field(
        "auto",
        description="Processes decoding a streamed source (0: this process); auto: one per "
        "usable CPU, at most 8. Data held in memory needs none.",
    )
    compile: bool = Field(False, description="Wrap the method in torch.compile.")
    log_every: int = Field(
        10, gt=0, le=1_000_000_000, description="Steps between metrics.jsonl lines."
    )
    checkpoint_every: int = Field(
        500, gt=0, le=1_000_000_000, description="Steps between checkpoints."
    )
    eval_every: int | None = Field(
        None,
        gt=0,
        le=1_000_000_000,
        description="Steps between online evaluations (kNN top-1 on the probe data when "
        "labelled, RankMe and the std of normalised embeddings), logged to metrics.jsonl and "
        "the progress bar; none by default.",
    )
    eval_samples: int = Field(
        5000,
        ge=10,
        le=1_000_000,
        description="Samples an online evaluation embeds: the kNN bank (RankMe's too) and "
        "a quarter as many queries, drawn once by the seed.",
    )
    tensorboard: bool = Field(
        False,
        description="Also write TensorBoard events to RUN/tb/ (needs the tensorboard extra: "
        "pip install 'sslctl[tensorboard]').",
    )
