"""Audio: folders, .npz arrays and builtin sets held in memory as NaN-padded float32 waveforms.

`batch` crops each clip to the recipe's length (at random for training, centred for
evaluation) and returns raw waveforms (B, samples), which is also what encoders and ONNX
exports take: the log-mel front end and its dataset statistics live inside the encoder.
`views` runs that same front end on the device and augments the log-mel there (see
`audio_augment`); the encoder passes such spectrogram views straight to its backbone.
"""

from __future__ import annotations

from typing import Any

import torch

from sslctl.encoders.base import Encoder
from sslctl.encoders.timm_encoder import TimmEncoder, create_timm_backbone, load_weights
from sslctl.errors import UserError
from sslctl.modalities.audio.augment import augment, local_window, post_normalise
from sslctl.modalities.audio.decode import AudioClipDecoder
from sslctl.modalities.audio.frontend import LogMelFrontEnd
from sslctl.modalities.audio.presets import PRESETS
from sslctl.modalities.audio.read import load_audio
from sslctl.modalities.audio.spec import AudioAugSpec, AudioDataSpec
from sslctl.modalities.base import (
    Modality,
    Samples,
    StreamedSamples,
    Views,
    own_backbone,
    require_teacher_input,
)
from sslctl.modalities.token_masks import BlockMasking
from sslctl.sources.stream import StreamSettings, decode_all, resolve_workers
from sslctl.specs import EncoderSpec
from sslctl.specs.encoders import ENCODERS
from sslctl.views import ViewPlan

STATS_CLIPS = 2000  # clips in memory the normalisation statistics are estimated on
STATS_STREAMED = 512  # the same for a streamed source, where each clip is a file to decode
FRONT_END_KEYS = ("sample_rate", "n_fft", "win_length", "hop_length", "n_mels", "f_min", "f_max")


def crop(x: torch.Tensor, clip: int, random: bool) -> torch.Tensor:
    """(B, L) NaN-padded -> (B, clip): a window inside each clip's real length, zero-padded."""
    lengths = (~torch.isnan(x)).sum(dim=1)
    slack = (lengths - clip).clamp(min=0)
    start = (torch.rand(len(x)) * (slack + 1)).floor().long() if random else slack // 2
    index = (start[:, None] + torch.arange(clip)[None]).clamp(max=x.shape[1] - 1)
    out = x.gather(1, index)
    if x.shape[1] < clip:
        out[:, x.shape[1] :] = float("nan")
    return torch.nan_to_num(out, nan=0.0)


class AudioModality(Modality):
    """Built from a data spec for training, or from encoder.json's input spec for a saved run.
    Only the training instance (`for_training`) crops at random."""

    export_axes = {0: "batch"}
    view_kinds = AudioDataSpec.view_kinds
    presets = PRESETS
    # time-frequency blocks: I-JEPA's multi-block masking on the (mel, frame) patch grid, each
    # target block spanning every mel band (a stretch of time), as a block of only some bands
    # is filled in from the same frames' other bands
    # (docs/studies/jepa-against-mae-and-random-init.md)
    token_masking = BlockMasking(full_height=True)
    stream_settings = StreamSettings

    def __init__(
        self,
        input_spec: dict[str, Any],
        augment_spec: AudioAugSpec | None = None,
        random_crop: bool = False,
        stream: StreamSettings | None = None,
        workers: int | str = "auto",
    ) -> None:
        self.input_spec = input_spec
        self.augment_spec = augment_spec or AudioAugSpec()
        self.random_crop = random_crop
        self.stream = stream or StreamSettings(
            on_decode_error=input_spec.get("on_decode_error", "fail")
        )
        self.workers = resolve_workers(workers)
        self.rate = int(input_spec["sample_rate"])
        self.clip = int(input_spec["clip_samples"])
        self.frontend = self._frontend()

    def _frontend(self) -> LogMelFrontEnd:
        s = self.input_spec
        return LogMelFrontEnd(
            s["sample_rate"],
            s["n_fft"],
            s["win_length"],
            s["hop_length"],
            s["n_mels"],
            s["f_min"],
            s["f_max"],
            s.get("mean", 0.0),
            s.get("std", 1.0),
        )

    @staticmethod
    def _spec(data: AudioDataSpec) -> dict[str, Any]:
        n_fft = data.n_fft or data.win_length
        if n_fft < data.win_length:
            raise UserError(f"data.n_fft: {n_fft} is shorter than win_length {data.win_length}")
        f_max = data.f_max or data.sample_rate / 2
        if not data.f_min < f_max <= data.sample_rate / 2:
            raise UserError(f"data.f_max: need f_min < f_max <= sample_rate/2, got {f_max}")
        clip = int(round(data.clip_seconds * data.sample_rate))
        if clip < max(n_fft // 2 + 1, data.hop_length):
            raise UserError(f"data.clip_seconds: {data.clip_seconds} s is shorter than one frame")
        return {
            "modality": "audio",
            "sample_rate": data.sample_rate,
            "clip_samples": clip,
            "max_samples": max(clip, int(round(data.max_seconds * data.sample_rate))),
            "n_fft": n_fft,
            "win_length": data.win_length,
            "hop_length": data.hop_length,
            "n_mels": data.n_mels,
            "f_min": data.f_min,
            "f_max": f_max,
            "frames": clip // data.hop_length,
            "on_decode_error": data.on_decode_error,
            "layout": "(batch, samples)",
            "dtype": "float32",
            "range": [-1.0, 1.0],
        }

    @classmethod
    def for_training(
        cls, data: AudioDataSpec, train: Samples, workers: int | str = "auto"
    ) -> AudioModality:
        """Standardisation statistics of the log-mel on (up to) 2000 clips held in memory, or
        512 of a streamed source, centre-cropped, fixed seed."""
        spec = cls._spec(data)
        raw = cls(spec, workers=workers)
        g = torch.Generator().manual_seed(0)
        if isinstance(train, StreamedSamples):
            pick = torch.randperm(len(train), generator=g)[:STATS_STREAMED]
            (clips,), _ = decode_all(
                train.x[pick], raw.eval_decoder(), raw.workers, "skip", report=False
            )
        else:
            pick = torch.randperm(len(train), generator=g)[:STATS_CLIPS]
            clips = crop(train.x[pick], raw.clip, random=False)
        with torch.inference_mode():
            logmel = raw.frontend.log_mel(clips)
        spec["mean"] = float(logmel.mean())
        spec["std"] = max(float(logmel.std()), 1e-3)
        return cls(spec, data.augment, True, StreamSettings.of(data), workers)

    @staticmethod
    def load_training_samples(data: AudioDataSpec, workers: int | str = "auto") -> Samples:
        max_samples = int(round(max(data.max_seconds, data.clip_seconds) * data.sample_rate))
        return load_audio(
            data.train, data.sample_rate, max_samples, StreamSettings.of(data), workers
        )

    def load(self, source: str) -> Samples:
        return load_audio(
            source, self.rate, self.input_spec["max_samples"], self.stream, self.workers
        )

    def batch(self, samples: Samples, index: torch.Tensor, device: torch.device) -> torch.Tensor:
        return crop(samples.x[index], self.clip, self.random_crop).to(device, non_blocking=True)

    def train_decoder(self, plan: ViewPlan) -> AudioClipDecoder:
        """A random window of the clip length, cut by the worker from the whole file."""
        return AudioClipDecoder(self.rate, self.clip)

    def eval_decoder(self) -> AudioClipDecoder:
        return AudioClipDecoder(self.rate, self.clip)

    def from_decoded(
        self, outputs: tuple[torch.Tensor, ...], device: torch.device, train: bool
    ) -> torch.Tensor:
        return outputs[0].to(device, non_blocking=True)

    def views(self, x: torch.Tensor, plan: ViewPlan) -> Views:
        frontend = self.frontend.to(x.device)
        spec = frontend(x)
        scale = float(self.input_spec.get("std", 1.0))
        params = self.view_params(plan.kind)
        views = [augment(spec, params, scale) for _ in range(plan.n_global)]
        n_local = (
            plan.n_local if self.augment_spec.local_crops is None else self.augment_spec.local_crops
        )
        views += [
            augment(local_window(spec, plan.local_size_ratio), params, scale)
            for _ in range(n_local)
        ]
        views = post_normalise(views) if params.post_norm else views
        return Views(views, plan.n_global, torch.cat, self.masking_for(plan))

    def student_of(self, teacher: AudioModality) -> AudioModality:
        """Views are standardised log-mels, which pass the teacher's front end untouched: the
        log-mel must be computed as the teacher's was, and standardised with the teacher's
        statistics (which the student's encoder.json then records too)."""
        require_teacher_input(self.input_spec, teacher.input_spec, FRONT_END_KEYS)
        stats = {key: teacher.input_spec[key] for key in ("mean", "std")}
        return AudioModality(
            {**self.input_spec, **stats},
            self.augment_spec,
            self.random_crop,
            self.stream,
            self.workers,
        )

    def build_encoder(self, spec: EncoderSpec) -> Encoder:
        s = self.input_spec
        if spec.name in ENCODERS:  # sslctl's own (audio_cnn), else a timm model
            backbone = own_backbone(spec, "audio", s, "audio")
            return Encoder(self._frontend(), backbone, int(backbone.num_features))
        backbone = create_timm_backbone(spec.name, 1, (s["n_mels"], s["frames"]), spec.kwargs)
        if spec.weights:
            load_weights(backbone, spec.weights)
        return TimmEncoder(self._frontend(), backbone)

    def export_example(self, batch: int) -> torch.Tensor:
        return (torch.rand(batch, self.clip) * 2 - 1) * 0.5
