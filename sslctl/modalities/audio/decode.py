"""Reading audio: windows of files (soundfile, in worker processes), .npz arrays and builtin
sets. Held in memory, clips are one float32 array (N, longest) of mono waveforms at the
recipe's rate, NaN after each clip's end: NaN marks padding so clip lengths travel with the
array through any indexing (probe splits, coresets) and the modality can crop each clip within
its real length.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import BinaryIO

import numpy as np
import torch

from sslctl.errors import first_line
from sslctl.optional import import_optional
from sslctl.sources.stream import DecodeError

torchaudio = import_optional("torchaudio", "the audio modality")


def resample(wave: torch.Tensor, rate: int, target: int) -> torch.Tensor:
    return wave if rate == target else torchaudio.functional.resample(wave, rate, target)


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
