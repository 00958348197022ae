"""Recipe models: the one validated description of a job.

Every field carries a description so `sslctl recipe schema` yields a JSON Schema editors can use.
Unknown keys are errors. `method` and `data` are discriminated unions (on `name` and `modality`),
so each method and modality validates its own parameters; adding one is a class plus a union line.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any, Literal, Union

import yaml
from pydantic import Field, ValidationError, field_validator, model_validator
from pydantic_core import PydanticCustomError

from sslctl.errors import UserError
from sslctl.specs import Scale, Spec, Strict


# ---------------------------------------------------------------- data
class ImageAugSpec(Strict):
    """Overrides of the method's augmentation preset; unset fields keep the preset's value."""

    preset: Literal["simclr", "byol", "dino", "mae", "none"] | None = Field(
        None, description="Augmentation parameter set; default: the one the method's paper uses."
    )
    crop_scale: Scale | None = Field(
        None, description="Random resized crop area range, as a fraction of the image."
    )
    jitter_prob: float | None = Field(None, ge=0, le=1, description="Colour jitter probability.")
    grayscale_prob: float | None = Field(None, ge=0, le=1, description="Grayscale probability.")
    blur_prob: float | None = Field(None, ge=0, le=1, description="Gaussian blur probability.")
    solarize_prob: float | None = Field(None, ge=0, le=1, description="Solarization probability.")
    local_crops: int | None = Field(
        None, ge=0, le=32, description="DINO multi-crop: number of local crops."
    )


class StreamSpec(Strict):
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


class ImageDataSpec(StreamSpec):
    modality: Literal["image"] = Field(description="Data modality.")
    train: Spec = Field(
        description="Training data: folder (optional class subfolders), list file (.txt one "
        "path per line, or .csv with path[,label]), folder of shards from `sslctl pack`, "
        ".npz with x[/y], or builtin:NAME[:split] (digits, fashion-mnist)."
    )
    image_size: int = Field(
        32, gt=0, le=4096, description="Side of the square images the encoder sees."
    )
    max_image_pixels: int = Field(
        100_000_000,
        gt=0,
        le=10_000_000_000,
        description="Larger images (width x height) are refused as decompression bombs.",
    )
    channels: Literal[1, 3] | None = Field(
        None, description="Force 1 or 3 channels; default: what the data has."
    )
    augment: ImageAugSpec = Field(
        default_factory=ImageAugSpec, description="Augmentation overrides."
    )


class AudioAugSpec(Strict):
    """Overrides of the audio augmentation preset; unset fields keep the preset's value."""

    preset: Literal["default", "byol-a", "mae", "none"] | None = Field(
        None,
        description="Parameter set: default (joint-embedding methods), byol-a (BYOL-A: mixup, "
        "random resized crop, random linear fader, post-norm), mae/none (no augmentation). "
        "Default: mae for masked modelling, else default.",
    )
    crop_scale: Scale | None = Field(
        None, description="Random resized crop size range per axis, as a fraction of the input."
    )
    mixup_ratio: float | None = Field(
        None, ge=0, le=1, description="Mix in another clip of the batch with weight U(0, ratio)."
    )
    time_masks: int | None = Field(
        None, ge=0, le=64, description="SpecAugment time masks per view."
    )
    time_mask_width: float | None = Field(
        None, ge=0, le=1, description="Largest time mask, as a fraction of the frames."
    )
    freq_masks: int | None = Field(
        None, ge=0, le=64, description="SpecAugment frequency masks per view."
    )
    freq_mask_width: float | None = Field(
        None, ge=0, le=1, description="Largest frequency mask, as a fraction of the mel bins."
    )
    gain_db: float | None = Field(None, ge=0, le=60, description="Random gain range in dB (+/-).")
    fade_db: float | None = Field(
        None, ge=0, le=60, description="Random linear fader: start and end gains drawn in +/- dB."
    )
    post_norm: bool | None = Field(
        None, description="Standardise the batch of views together (BYOL-A's Post-Norm)."
    )
    local_crops: int | None = Field(
        None, ge=0, le=32, description="DINO multi-crop: number of local crops."
    )


class AudioDataSpec(StreamSpec):
    modality: Literal["audio"] = Field(description="Data modality.")
    train: Spec = Field(
        description="Training audio: folder of wav/flac/ogg (optional class subfolders), list "
        "file (.txt, or .csv with path[,label]), folder of shards from `sslctl pack`, .npz "
        "with x (N, samples)[, y, sample_rate], or builtin:NAME[:split] (spoken-digits, "
        "gm-instruments)."
    )
    sample_rate: int = Field(
        16000, ge=1000, le=192_000, description="Rate every clip is resampled to (Hz)."
    )
    clip_seconds: float = Field(
        1.0,
        gt=0,
        le=600,
        description="Clip length the encoder sees: random crop in training, centre "
        "crop in evaluation, zero-padded when shorter.",
    )
    max_seconds: float = Field(
        10.0,
        gt=0,
        le=3600,
        description="Longer files are centre-cut to this on load (bounds memory).",
    )
    n_mels: int = Field(64, gt=0, le=512, description="Mel bins of the log-mel front end.")
    win_length: int = Field(400, gt=0, le=65536, description="STFT window length in samples.")
    n_fft: int | None = Field(None, gt=0, le=65536, description="FFT size; default: win_length.")
    hop_length: int = Field(
        160, gt=0, le=65536, description="STFT hop in samples (frames = samples/hop)."
    )
    f_min: float = Field(60.0, ge=0, le=96000, description="Lowest mel frequency (Hz).")
    f_max: float | None = Field(
        7800.0, gt=0, le=96000, description="Highest mel frequency (Hz); null: sample_rate / 2."
    )
    augment: AudioAugSpec = Field(
        default_factory=AudioAugSpec, description="Augmentation overrides."
    )


class SeriesAugSpec(Strict):
    """Overrides of the time-series view preset; unset fields keep the preset's value."""

    preset: Literal["default", "ts2vec", "masked", "none"] | None = Field(
        None,
        description="Parameter set: default (joint-embedding methods: crop, jitter, scaling, "
        "magnitude warp, time mask), ts2vec (overlapping crops), masked/none (no views). "
        "Default: the method's own.",
    )
    crop_scale: Scale | None = Field(
        None, description="Random crop length range, as a fraction of the series length."
    )
    jitter_std: float | None = Field(
        None,
        ge=0,
        le=10,
        description="Additive Gaussian noise, in standard deviations of the data.",
    )
    scale_std: float | None = Field(
        None, ge=0, le=10, description="Per-channel scaling factor ~ N(1, scale_std)."
    )
    warp_std: float | None = Field(
        None,
        ge=0,
        le=10,
        description="Magnitude warp: smooth curve through knots ~ N(1, warp_std).",
    )
    warp_knots: int | None = Field(None, gt=0, le=64, description="Magnitude warp: interior knots.")
    time_masks: int | None = Field(
        None, ge=0, le=64, description="Spans of timesteps marked missing per view."
    )
    time_mask_width: float | None = Field(
        None, ge=0, le=1, description="Longest masked span, as a fraction of the length."
    )
    permute_segments: int | None = Field(
        None, ge=0, le=64, description="Shuffle 2..N equal segments per series (0: off)."
    )
    overlap_crops: bool | None = Field(
        None, description="TS2Vec's two crops around a shared random segment."
    )


class TimeSeriesDataSpec(Strict):
    modality: Literal["timeseries"] = Field(description="Data modality.")
    train: Spec = Field(
        description="Training series: .npy/.npz with x (N, C, T) [and y], a UCR-layout "
        ".csv/.tsv (label, then values), a UCR/UEA .ts file, or builtin:NAME[:split] "
        "(GunPoint, ArrowHead, ItalyPowerDemand, BasicMotions, JapaneseVowels; needs "
        "sslctl[data])."
    )
    max_length: int | None = Field(
        None,
        gt=1,
        le=10_000_000,
        description="Training series longer than this are cut into consecutive sections of "
        "at most this many steps (TS2Vec's max_train_length); default: no cut.",
    )
    augment: SeriesAugSpec = Field(default_factory=SeriesAugSpec, description="View overrides.")


class GraphAugSpec(Strict):
    """Overrides of the graph view preset; unset fields keep the preset's value."""

    preset: Literal["graph", "graphcl", "node", "none"] | None = Field(
        None,
        description="Parameter set: graph (joint-embedding methods on graph-level data), "
        "graphcl (one of four augmentations per view, GraphCL), node (feature and edge "
        "masking, GRACE/BGRL; node-level data), none (GraphMAE masks by itself). Default: "
        "the method's own, else graph or node by the data's level.",
    )
    node_mask: float | None = Field(
        None, ge=0, lt=1, description="Share of nodes whose features become the training mean."
    )
    feature_mask: float | None = Field(
        None, ge=0, lt=1, description="Share of feature columns set to the mean for all nodes."
    )
    edge_drop: float | None = Field(None, ge=0, lt=1, description="Share of edges removed.")
    node_drop: float | None = Field(
        None, ge=0, lt=1, description="Share of nodes removed (graph-level data only)."
    )
    subgraph: float | None = Field(
        None,
        ge=0,
        le=1,
        description="Share of each graph's nodes kept by breadth-first growth from a random "
        "node (0: off; graph-level data only).",
    )
    one_of: bool | None = Field(
        None, description="Each view applies one random pick of the enabled augmentations."
    )


class GraphDataSpec(Strict):
    modality: Literal["graph"] = Field(description="Data modality.")
    train: Spec = Field(
        description="Training graphs: .npz/.pt with x, edge_index [, y, ptr or batch, "
        "edge_attr] (without ptr/batch: one graph, node level), a TU-format folder "
        "(NAME_A.txt ...), an edge-list folder (edges.txt [, features.txt, labels.txt]), "
        "pyg:CLASS:ROOT[:NAME] for a torch_geometric dataset already on disk, or "
        "builtin:NAME[:split] (karate, digits-superpixels, fashion-mnist-superpixels)."
    )
    undirected: bool = Field(
        True,
        description="Add the reverse of every edge (duplicates dropped), also at probe and "
        "embed time; false: edges are directed src -> dst as given.",
    )
    augment: GraphAugSpec = Field(default_factory=GraphAugSpec, description="View overrides.")


MODALITY_NAMES = ["image", "audio", "timeseries", "graph"]
DataSpec = Annotated[
    ImageDataSpec | AudioDataSpec | TimeSeriesDataSpec | GraphDataSpec,
    Field(discriminator="modality"),
]


# ---------------------------------------------------------------- encoder
class EncoderSpec(Strict):
    name: str = Field(
        description="timm model name (e.g. resnet18, vit_tiny_patch16_224; audio takes them on "
        "1-channel log-mel spectrograms) or an sslctl encoder (audio_cnn; for time series "
        "dilated_cnn, resnet1d, patch_tst; for graphs gin, gcn)."
    )
    weights: Spec | None = Field(
        None, description="Local .safetensors/.pt file to initialise from; never downloads."
    )
    kwargs: dict[str, Any] = Field(
        default_factory=dict, description="Extra keyword arguments for the model constructor."
    )

    @field_validator("name")
    @classmethod
    def _known(cls, name: str) -> str:
        from sslctl.encoders import known_encoder, suggest_encoders

        if not known_encoder(name):
            raise ValueError(f"unknown encoder '{name}'; close matches: {suggest_encoders(name)}")
        return name


# ---------------------------------------------------------------- methods
def _method_union():
    """The `method` section: a discriminated union (on `name`) of every registered method's
    spec, each defined beside its method (sslctl/methods/*.py), plugins included."""
    from sslctl.methods import METHODS

    specs = tuple(cls.Spec for _, cls in METHODS.items())
    return Annotated[Union[specs], Field(discriminator="name")], [c for c, _ in METHODS.items()]  # noqa: UP007


MethodSpec, METHOD_NAMES = _method_union()


# ---------------------------------------------------------------- optim / train / probe
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


def _protocol_name():
    """A probe protocol's name: one registered in sslctl.eval (plugins included)."""
    from sslctl.eval import PROBES

    return Literal[tuple(PROBES.names())]


ProtocolName = _protocol_name()


class ProbeSpec(Strict):
    train: Spec | None = Field(None, description="Labelled data the probes fit on (SPEC).")
    test: Spec | None = Field(None, description="Labelled data the probes are scored on (SPEC).")
    k: int = Field(20, gt=0, le=10_000, description="kNN neighbours.")
    temperature: float = Field(0.07, gt=0, le=100, description="kNN similarity temperature.")
    protocols: list[ProtocolName] = Field(
        default_factory=lambda: ["knn", "linear", "rankme"],
        description="Probes to run (svm: TS2Vec's RBF-SVM protocol, for small sets).",
    )


class TeacherSpec(Strict):
    run: Spec = Field(
        description="Run directory of the teacher encoder (from pretrain or distill)."
    )


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
    data: DataSpec = Field(description="What to train on and how it is augmented.")
    encoder: EncoderSpec = Field(description="The encoder being learned (the student in distill).")
    method: MethodSpec = Field(description="Self-supervised method and its parameters.")
    optim: OptimSpec = Field(default_factory=OptimSpec, description="Optimizer and schedules.")
    train: TrainSpec = Field(default_factory=TrainSpec, description="Loop settings.")
    probe: ProbeSpec = Field(default_factory=ProbeSpec, description="Default probe data.")
    teacher: TeacherSpec | None = Field(None, description="Teacher run, for distill only.")

    @model_validator(mode="after")
    def _modality_makes_the_views(self) -> Recipe:
        """A method asks for a kind of views (ViewPlan.kind); the data's modality must make it.
        Only the recipe's own modality is imported, so its libraries alone are needed."""
        from sslctl.methods import METHODS
        from sslctl.modalities import get_modality
        from sslctl.modalities.base import view_kind_refusal

        kind = METHODS.get(self.method.name).view_plan.kind
        makes = get_modality(self.data.modality).view_kinds
        refusal = view_kind_refusal(self.method.name, kind, self.data.modality, makes)
        if refusal:
            raise PydanticCustomError("method_modality", refusal)
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


def short_repr(value: Any, limit: int = 60) -> str:
    """What an error echoes of a value: its repr, cut (a YAML alias bomb expands to megabytes)."""
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _describe(err: dict) -> str:
    loc = [str(p) for p in err["loc"]]
    # Discriminated unions put the tag in the path (method.simclr.temperature): drop it.
    if len(loc) > 1 and loc[0] in ("method", "data") and loc[1] in METHOD_NAMES + MODALITY_NAMES:
        loc = [loc[0]] + loc[2:]
    path = ".".join(loc) or "recipe"
    kind, ctx, given = err["type"], err.get("ctx", {}), err.get("input")
    if kind == "union_tag_invalid":
        tag = ctx.get("discriminator", "").strip("'")
        return f"{path}.{tag}: unknown value {ctx.get('tag')!r}; valid: {ctx.get('expected_tags')}"
    if kind == "union_tag_not_found":
        return f"{path}: missing required key {ctx.get('discriminator')}"
    if kind == "extra_forbidden":
        return f"{path}: unknown key"
    if kind == "missing":
        return f"{path}: required field missing"
    if kind == "method_modality":
        return f"method.name: {err['msg']}"
    bounds = {"greater_than": "> {gt}", "greater_than_equal": ">= {ge}", "less_than": "< {lt}"}
    bounds["less_than_equal"] = "<= {le}"
    if kind in bounds:
        shown = {k: f"{v:g}" if isinstance(v, float) else v for k, v in ctx.items()}
        return f"{path}: must be {bounds[kind].format(**shown)}, got {short_repr(given)}"
    msg = err["msg"].removeprefix("Value error, ")
    if kind == "string_pattern_mismatch" and loc == ["name"]:
        msg = "must be one path component of letters, digits, '.', '_' or '-'"
    return f"{path}: {msg}, got {short_repr(given)}"


def validate(tree: Any, source: str) -> Recipe:
    """Validate a parsed recipe; raise UserError with one line per problem."""
    if not isinstance(tree, dict):
        raise UserError(f"{source}: a recipe must be a YAML mapping")
    try:
        return Recipe.model_validate(tree)
    except ValidationError as exc:
        lines = [f"{source}: {_describe(e)}" for e in exc.errors()]
        raise UserError("\n".join(lines)) from None


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
