"""What the engine and jobs may ask of a modality; they know nothing else about the data."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, fields, replace
from typing import Any, ClassVar, Protocol, runtime_checkable

import numpy as np
import torch
from torch import nn

from sslctl.encoders.base import Encoder
from sslctl.errors import UserError
from sslctl.modalities.token_masks import Masking
from sslctl.sources.files import FileSource
from sslctl.sources.stream import (
    DecodeLog,
    Decoder,
    FileSamples,
    Request,
    StreamSettings,
    decoded_batches,
    eval_requests,
)
from sslctl.views import ViewPlan


@dataclass
class Samples:
    """A data source held in memory: raw samples plus optional integer labels. Its streamed
    twin, `StreamedSamples`, answers the same calls by decoding files in worker processes;
    which one a source is was decided once, when it was loaded, and nothing else asks."""

    x: Any  # a tensor indexed by sample; graphs: a GraphSet / NodeSet
    y: torch.Tensor | None
    source: str
    note: str = ""  # how the source is held (memory or streamed), for the training log
    classes: list[str] | None = None  # y's class names, when the source names them
    # The source's own row of each sample, when some rows are left out (files skipped while
    # decoding into memory), and the file listing, for paths: what coreset and embed report.
    rows: torch.Tensor | None = None
    files: FileSource | None = None

    def __len__(self) -> int:
        return len(self.x)

    def source_rows(self, positions: torch.Tensor) -> torch.Tensor:
        """Where samples at `positions` sit in the whole source (its listing's order)."""
        return positions if self.rows is None else self.rows[positions]

    def source_names(self, rows: torch.Tensor) -> list[str]:
        """The files of source `rows` (a shard member as shard:#offset), or the row numbers
        themselves for an array source, which has no files."""
        if self.files is None:
            return [str(int(r)) for r in rows]
        return [self.files.name(int(r)) for r in rows]

    def shard_members(self) -> np.ndarray | None:
        """Each sample's shard, when the source is WebDataset shards (ranks split them shard
        by shard); None otherwise."""
        return None

    def train_inputs(
        self,
        modality: Modality,
        schedule: Iterable[tuple[int, torch.Tensor]],
        plan: ViewPlan,
        device: torch.device,
        workers: int,
        seed: int,
        log: DecodeLog,
    ) -> Iterator[Any]:
        """One training input per (epoch, sample indices) of `schedule`, in order."""
        for _, index in schedule:
            yield modality.batch(self, index, device)

    def eval_inputs(
        self, modality: Modality, device: torch.device, batch_size: int, workers: int, on_error: str
    ) -> Iterator[tuple[Any, torch.Tensor]]:
        """(model input, positions it holds) in sample order."""
        n = len(self)
        for start in range(0, n, batch_size):
            index = torch.arange(start, min(start + batch_size, n))
            yield modality.batch(self, index, device), index


@dataclass
class StreamedSamples(Samples):
    """A file source streamed from disk: `x` lists the files, which DataLoader workers decode
    batch by batch; the modality turns each decoded batch into its model input on the
    device, with pinned memory and non-blocking copies on GPU."""

    x: FileSamples

    def source_rows(self, positions: torch.Tensor) -> torch.Tensor:
        return torch.from_numpy(self.x.rows)[positions]

    def shard_members(self) -> np.ndarray | None:
        members = self.x.source.members
        return None if members is None else members[:, 0]

    def train_inputs(self, modality, schedule, plan, device, workers, seed, log):
        requests = (Request(epoch, index.numpy()) for epoch, index in schedule)
        decoder = modality.train_decoder(plan)
        cuda = device.type == "cuda"
        for batch in decoded_batches(
            self.x, decoder, requests, workers, seed, cuda, log, training=True
        ):
            outputs = batch.outputs
            if len(batch.kept) == 1:  # the rest skipped: BatchNorm and contrastive losses need 2
                outputs = tuple(torch.cat([o, o]) for o in outputs)
            yield modality.from_decoded(outputs, device, train=True)

    def eval_inputs(self, modality, device, batch_size, workers, on_error):
        """A file that fails to decode under `on_error: skip` is left out, so the positions
        say which labels go with which embeddings."""
        log = DecodeLog(on_error)
        requests = eval_requests(len(self), batch_size)
        cuda = device.type == "cuda"
        decoder = modality.eval_decoder()
        for batch in decoded_batches(self.x, decoder, requests, workers, 0, cuda, log):
            yield modality.from_decoded(batch.outputs, device, train=False), batch.kept
        log.report()


class Views(list):
    """One step's views, the global ones first, with the modality's `concat`: what joins
    several of its model inputs into one (a tensor cat for images and spectrograms, NaN
    padding for series of different lengths, a disjoint union for graphs). A method that runs
    views together for speed (DINO) groups them through `groups()`: the global views in one
    forward and the local views (another size) in another. No method calls torch.cat on a
    batch type it does not own. Context-targets views also carry the modality's `masking`:
    what splits a grid of patch tokens into context and targets (modalities/token_masks.py)."""

    def __init__(
        self,
        views: Iterable[Any],
        n_global: int,
        concat: Callable[[list], Any],
        masking: Masking | None = None,
    ):
        super().__init__(views)
        self.n_global = n_global
        self.concat = concat
        self.masking = masking

    def groups(self) -> list[tuple[Any, int]]:
        """(joined input, how many views it holds) for the global views, then the local ones."""
        parts = (self[: self.n_global], self[self.n_global :])
        return [(self.concat(part), len(part)) for part in parts if part]


def take_per_row(x: torch.Tensor, start: torch.Tensor, length: int) -> torch.Tensor:
    """x[b, ..., start_b : start_b + length] along the last (time) axis, for per-row starts
    (B,): series crops and audio's local windows, in one gather on x's device."""
    index = start.to(x.device)[:, None] + torch.arange(length, device=x.device)[None]
    index = index.view(x.shape[0], *[1] * (x.dim() - 2), length)
    return x.gather(-1, index.expand(*x.shape[:-1], length))


def spec_overrides(spec: Any, params_type: type) -> dict[str, Any]:
    """The fields of a recipe augmentation spec that are set and that the view-parameter
    dataclass `params_type` has: what overrides the chosen preset."""
    names = {f.name for f in fields(params_type)}
    return {k: v for k, v in spec.model_dump().items() if k in names and v is not None}


def preset_for(spec: Any, kind: str, view_kinds: dict[str, str], presets: dict[str, Any]) -> Any:
    """The view parameters: the preset the recipe names (`data.augment.preset`), else the one
    the modality makes the method's view kind with, under the recipe's set overrides."""
    preset = presets[spec.preset or view_kinds[kind]]
    return replace(preset, **spec_overrides(spec, type(preset)))


def own_backbone(spec: Any, modality: str, input_spec: dict[str, Any], data_kind: str) -> nn.Module:
    """Build one of sslctl's own backbones (the encoder registry) for a modality's input: a
    name registered for another modality and constructor keywords it rejects are errors
    naming the recipe field; `spec.weights` (a local file) is loaded."""
    from sslctl.encoders.timm_encoder import load_weights
    from sslctl.specs.encoders import ENCODERS, own_encoders

    if spec.name not in ENCODERS or ENCODERS.get(spec.name).modality != modality:
        names = own_encoders(modality)
        use = f"one of {', '.join(names)}" if names else "a timm model"
        raise UserError(f"encoder.name: {spec.name} does not take {data_kind}; use {use}")
    try:
        backbone = ENCODERS.load(spec.name)(input_spec, spec.kwargs)
    except TypeError as exc:
        raise UserError(f"encoder.kwargs: {exc}") from None
    if spec.weights:
        load_weights(backbone, spec.weights)
    return backbone


def require_teacher_input(
    student: dict[str, Any], teacher: dict[str, Any], keys: Iterable[str]
) -> None:
    """A distillation teacher is fed the student's views as they are, so the input-spec entries
    that shape those views must agree: a mismatch would crash mid-training or, worse, train
    against a teacher that sees inputs unlike any it was trained on."""
    for key in keys:
        if student[key] != teacher[key]:
            raise UserError(
                f"teacher.run: the teacher was trained on {key} = {teacher[key]}, this recipe's "
                f"data gives {student[key]}; a student's views go to the teacher as they are"
            )


class Modality(ABC):
    """One per data kind; the engine and jobs know nothing else about the data. Built from a
    data spec for training (`for_training`), or from a saved run (`from_run`). `input_spec` is
    what encoder.json records and what rebuilds it later."""

    input_spec: dict[str, Any]
    augment_spec: Any  # the data spec's `augment` section
    # the view kinds (VIEW_KINDS) this modality makes -> the preset of its own that makes them
    view_kinds: ClassVar[dict[str, str]]
    # preset name -> view parameters (a dataclass the augment spec's set fields override)
    presets: ClassVar[dict[str, Any]]
    # view kinds only some presets can make -> those presets (see `preset_refusal`)
    kind_presets: ClassVar[dict[str, tuple[str, ...]]] = {}
    # how context-targets views split patch tokens (modalities that make that kind)
    token_masking: ClassVar[Masking | None] = None
    # input axes left dynamic in the ONNX export; one dict per field for NamedTuple inputs
    export_axes: ClassVar[dict[int, str] | tuple[dict[int, str], ...]]

    @classmethod
    @abstractmethod
    def load_training_samples(cls, data: Any, workers: int | str) -> Samples:
        """The training source: `Samples` in memory, or (file sources) `StreamedSamples`;
        `workers` (train.num_workers) decode files when there are any."""

    @classmethod
    @abstractmethod
    def for_training(cls, data: Any, train: Samples, workers: int | str) -> Modality:
        """Fit input statistics on the training samples (they go into encoder.json)."""

    # a modality with file sources (StreamingModality): the type of its stream settings
    stream_settings: ClassVar[type[StreamSettings] | None] = None

    @classmethod
    def from_run(cls, input_spec: dict[str, Any], data: Any, workers: int | str) -> Modality:
        """The modality of a saved run: its encoder.json input spec, and (for file sources)
        the run's data spec and `train.num_workers`, which say how evaluation files are read."""
        if cls.stream_settings is None:
            return cls(input_spec)
        return cls(input_spec, stream=cls.stream_settings.of(data), workers=workers)

    @abstractmethod
    def load(self, source: str) -> Samples:
        """Evaluation data from a data source string (a folder, list file, shards, .npz or
        builtin:NAME), in the form this encoder was trained on."""

    @abstractmethod
    def batch(self, samples: Samples, index: torch.Tensor, device: torch.device) -> Any:
        """Raw samples at `index` as the model input, on `device`, not augmented: a float
        tensor, or (graphs) a NamedTuple of tensors."""

    @abstractmethod
    def views(self, x: Any, plan: ViewPlan) -> Views:
        """`plan.n_global` global views, then the local ones, joinable by the modality."""

    def view_params(self, kind: str) -> Any:
        """The view parameters for a view kind: the preset the recipe names, else the one this
        modality makes the kind with, under the recipe's set overrides."""
        return preset_for(self.augment_spec, kind, self.view_kinds, self.presets)

    def masking_for(self, plan: ViewPlan) -> Masking | None:
        """The token masking that views of the plan's kind carry, if any."""
        return self.token_masking if plan.kind == "context-targets" else None

    def check_views(self, plan: ViewPlan) -> None:
        """UserError if this data cannot make the plan's views (a kind the modality makes but
        this data cannot, such as node dropping on node-level graphs), before the run writes
        anything."""
        self.view_params(plan.kind)

    @abstractmethod
    def build_encoder(self, spec: Any) -> Encoder: ...

    @abstractmethod
    def student_of(self, teacher: Modality) -> Modality:
        """This training modality, set up to feed a distillation teacher (a saved run's
        modality) the kind of input it was trained on: input geometry that differs is a
        UserError (`require_teacher_input`); statistics applied to the views outside the
        encoder are taken from the teacher."""

    @abstractmethod
    def export_example(self, batch: int) -> Any:
        """A random model input of `batch` rows: what the ONNX export traces."""

    def export_checks(self) -> list[Any]:
        """Random inputs the export is checked on, varying every dynamic axis: by default
        other batch sizes than the example's."""
        return [self.export_example(1), self.export_example(3)]


@runtime_checkable
class StreamingModality(Protocol):
    """What a modality with file sources adds, for sources streamed by worker processes
    (sources/stream.py): picklable decoders from an open file (and a generator in training)
    to fixed-size arrays, and the step from a decoded batch to the model input (or, in
    training, to what `views` takes)."""

    stream: StreamSettings
    workers: int

    def train_decoder(self, plan: ViewPlan) -> Decoder: ...

    def eval_decoder(self) -> Decoder: ...

    def from_decoded(
        self, outputs: tuple[torch.Tensor, ...], device: torch.device, train: bool
    ) -> Any: ...
