"""Reading audio into memory: files (soundfile), .npz arrays and builtin sets, as one float32
array (N, longest) of mono waveforms at the recipe's rate, NaN after each clip's end.

NaN marks padding so clip lengths travel with the array through any indexing (probe splits,
coresets) and the modality can crop each clip within its real length.
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import torch

from sslctl.errors import UserError
from sslctl.modalities.folders import folder_labels, list_files, open_npz
from sslctl.optional import import_optional

torchaudio = import_optional("torchaudio", "the audio modality")

AUDIO_SUFFIXES = {".wav", ".flac", ".ogg", ".oga", ".aiff", ".aif"}


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


def decode_file(path: Path, rate: int) -> np.ndarray:
    """Mono float32 waveform at `rate`; UserError naming the file when it cannot be used."""
    sf = import_optional("soundfile", "reading audio files")
    try:
        data, file_rate = sf.read(str(path), dtype="float32", always_2d=True)
    except (RuntimeError, OSError, ValueError, TypeError) as exc:
        reason = str(exc).splitlines()[0] if str(exc) else exc.__class__.__name__
        raise UserError(f"{path}: cannot decode audio ({reason})") from None
    if data.shape[0] == 0:
        raise UserError(f"{path}: audio file holds no samples (zero length)")
    mono = torch.from_numpy(data.mean(axis=1))
    return resample(mono, file_rate, rate).numpy()


def pad_stack(waves: list[np.ndarray]) -> np.ndarray:
    longest = max(len(w) for w in waves)
    out = np.full((len(waves), longest), np.nan, dtype=np.float32)
    for i, w in enumerate(waves):
        out[i, : len(w)] = w
    return out


def read_folder(
    root: Path, rate: int, max_samples: int, on_error: str
) -> tuple[np.ndarray, np.ndarray | None]:
    files = list_files(root, AUDIO_SUFFIXES, "audio")
    waves, kept, failed = [], [], []
    for path in files:
        try:
            waves.append(centre_cut(decode_file(path, rate), max_samples))
            kept.append(path)
        except UserError as err:
            if on_error == "fail":
                raise
            failed.append(str(err))
    if failed:
        print(
            f"skipped {len(failed)} undecodable audio file(s) of {len(files)} in {root} "
            f"(first: {failed[0]})",
            file=sys.stderr,
        )
    if not waves:
        raise UserError(f"{root}: none of the {len(files)} audio files could be decoded")
    return pad_stack(waves), folder_labels(root, kept)


def read_npz(path: Path, rate: int, max_samples: int) -> tuple[np.ndarray, np.ndarray | None]:
    """x: (N, samples) or (N, channels, samples), float in [-1, 1] or int16; optional y and
    sample_rate (default: the recipe's rate). NaN in float x marks padding."""
    arrays = open_npz(path, " of waveforms")
    x = arrays["x"]
    if x.ndim == 3:
        x = x.mean(axis=1)
    if x.ndim != 2 or x.shape[1] == 0:
        raise UserError(f"{path}: x must be (N, samples) or (N, channels, samples), got {x.shape}")
    if np.issubdtype(x.dtype, np.integer):
        x = x.astype(np.float32) / 32768.0
    x = x.astype(np.float32)
    file_rate = int(arrays["sample_rate"]) if "sample_rate" in arrays else rate
    if file_rate != rate:
        x = resample_padded(x, file_rate, rate)
    if x.shape[1] > max_samples:
        x = pad_stack([centre_cut(w[~np.isnan(w)], max_samples) for w in x])
    y = arrays["y"].astype(np.int64) if "y" in arrays else None
    if y is not None and len(y) != len(x):
        raise UserError(f"{path}: y has {len(y)} labels for {len(x)} clips")
    return x, y
