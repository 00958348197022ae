"""The audio data section of a recipe (`data.modality: audio`): registered as the modality's data
spec, with the class that reads and augments it."""

from __future__ import annotations

from typing import ClassVar, Literal

from pydantic import Field

from sslctl.modalities import MODALITIES
from sslctl.modalities.audio.presets import PRESETS
from sslctl.specs import Location, Scale, StreamSpec, Strict

AUDIO_SUFFIXES = frozenset({".wav", ".flac", ".ogg", ".oga", ".aiff", ".aif"})


PresetName = Literal[tuple(PRESETS)]


class AudioAugSpec(Strict):
    """Overrides of the audio augmentation preset; unset fields keep the preset's value."""

    preset: PresetName | None = Field(
        None,
        description="Parameter set: default (joint-embedding methods), byol-a (BYOL-A: mixup, "
        "random resized crop, random linear fader, post-norm), jepa (random resized crop "
        "only), mae/none (no augmentation). Default: mae for masked modelling, jepa for "
        "latent prediction, else default.",
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


@MODALITIES.register("audio")
class AudioDataSpec(StreamSpec):
    order: ClassVar[int] = 20
    libraries: ClassVar[tuple[str, ...]] = ("torchaudio", "soundfile")
    caches: ClassVar[bool] = True  # spoken digits and GM instruments are rendered once
    code: ClassVar[str] = "sslctl.modalities.audio.modality:AudioModality"
    builtin: ClassVar[str | None] = "sslctl.modalities.audio.builtin"
    file_suffixes: ClassVar[frozenset[str]] = AUDIO_SUFFIXES
    packer: ClassVar[str | None] = "sslctl.modalities.audio.read:pack_arrays"
    # BYOL-A and the others share one augmentation; MAE-style methods get the lighter one
    view_kinds: ClassVar[dict[str, str]] = {
        "contrastive": "default",
        "asymmetric": "default",
        "multi-crop": "default",
        "masked": "mae",
        "context-targets": "jepa",
    }
    modality: Literal["audio"] = Field(description="Data modality.")
    train: Location = Field(
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
