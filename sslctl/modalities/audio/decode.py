"""Reading audio: windows of files (soundfile, in worker processes), .npz arrays and builtin
sets. Held in memory, clips are one float32 array (N, longest) of mono waveforms at the
recipe's rate, NaN after each clip's end: NaN marks padding so clip lengths travel with the
array through any indexing (probe splits, coresets) and the modality can crop each clip within
its real length.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from fractions import Fraction
from typing import BinaryIO

import numpy as np
import torch

from sslctl.errors import DecodeError, first_line
from sslctl.optional import import_optional

torchaudio = import_optional("torchaudio", "the audio modality")


MIN_RATE, MAX_RATE = 1_000, 768_000  # Hz a file may declare; beyond them it is not audio
MAX_KERNEL = 4_000_000  # entries of a polyphase resampling kernel (16 MB of float32)


def rate_problem(rate: float) -> str | None:
    """Why a declared sample rate is refused, or None."""
    if not MIN_RATE <= rate <= MAX_RATE:
        return f"sample rate {rate:g} Hz is outside {MIN_RATE:,}..{MAX_RATE:,} Hz"
    return None


def resampling_ratio(rate: int, target: int) -> tuple[int, int]:
    """(orig, new) for torchaudio's resampler, whose kernel is about new x orig after both
    are divided by their gcd: 44100 -> 16000 Hz is 441 x 160, but 44101 -> 16000 Hz would be
    44101 x 16000 (2.8 GB). Beyond MAX_KERNEL the nearest ratio with a small enough kernel
    is used; it changes pitch by a few parts per million, far below hearing."""
    exact = Fraction(target, rate)
    if exact.numerator * exact.denominator <= MAX_KERNEL:
        return exact.denominator, exact.numerator
    near = exact.limit_denominator(max(1, int(math.sqrt(MAX_KERNEL / exact))))
    return near.denominator, near.numerator


def resample(wave: torch.Tensor, rate: int, target: int) -> torch.Tensor:
    if rate == target:
        return wave
    orig, new = resampling_ratio(rate, target)
    return torchaudio.functional.resample(wave, orig, new)


def resample_padded(x: np.ndarray, rate: int, target: int) -> np.ndarray:
    """Resample a NaN-padded (N, L) batch at once; each clip keeps its own (rescaled) length."""
    valid = ~np.isnan(x)
    out = resample(torch.from_numpy(np.where(valid, x, 0)), rate, target).numpy()
    new_len = -(-valid.sum(axis=1) * target // rate)
    out[np.arange(out.shape[1])[None] >= new_len[:, None]] = np.nan
    return out


def centre_cut(wave: np.ndarray, limit: int) -> np.ndarray:
    if len(wave) <= limit:
        return wave
    start = (len(wave) - limit) // 2
    return wave[start : start + limit]


def read_window(
    fh: BinaryIO, rate: int, length: int, rng: np.random.Generator | None
) -> np.ndarray:
    """At most `length` samples at `rate`, mono float32, from a window of the file: at a
    random start drawn from `rng`, or centred when rng is None. Only the window is decoded
    (soundfile seeks), so a long recording costs no more memory than a short one."""
    sf = import_optional("soundfile", "reading audio files")
    try:
        with sf.SoundFile(fh) as f:
            frames, file_rate = f.frames, f.samplerate
            if problem := rate_problem(file_rate):  # before a window is sized by it
                raise DecodeError(problem)
            if frames <= 0:
                raise DecodeError("audio file holds no samples (zero length)")
            window = min(frames, -(-length * file_rate // rate))
            slack = frames - window
            start = slack // 2 if rng is None else int(rng.integers(0, slack + 1))
            f.seek(start)
            data = f.read(window, dtype="float32", always_2d=True)
    except (RuntimeError, OSError, ValueError, TypeError) as exc:
        reason = first_line(exc)
        raise DecodeError(f"cannot decode audio ({reason})") from None
    if not np.isfinite(data).all():
        raise DecodeError("audio holds NaN or inf samples")
    mono = torch.from_numpy(data.mean(axis=1))
    return resample(mono, file_rate, rate).numpy()[:length]


@dataclass(frozen=True)
class AudioClipDecoder:
    """A fixed `length` of samples: a random window in training (rng given), the centre in
    evaluation; shorter files are padded with `pad` (0 for clips the encoder sees, NaN for the
    in-memory copy, where NaN marks each clip's end)."""

    rate: int
    length: int
    pad: float = 0.0

    def __call__(self, fh: BinaryIO, rng: np.random.Generator | None) -> tuple[np.ndarray, ...]:
        wave = read_window(fh, self.rate, self.length, rng)
        out = np.full(self.length, self.pad, dtype=np.float32)
        out[: len(wave)] = wave
        return (out,)


def pad_stack(waves: list[np.ndarray]) -> np.ndarray:
    longest = max(len(w) for w in waves)
    out = np.full((len(waves), longest), np.nan, dtype=np.float32)
    for i, w in enumerate(waves):
        out[i, : len(w)] = w
    return out
