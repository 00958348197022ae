"""Every audio source loader: file sources (folders, list files, shards), streamed or decoded
into memory, and arrays (.npz, builtin sets) held as NaN-padded float32 waveforms."""

from __future__ import annotations

import io
from collections.abc import Callable
from pathlib import Path

import numpy as np
import torch

from sslctl.errors import UserError
from sslctl.modalities.audio.decode import (
    AudioClipDecoder,
    centre_cut,
    pad_stack,
    rate_problem,
    resample_padded,
)
from sslctl.modalities.audio.spec import AUDIO_SUFFIXES
from sslctl.modalities.base import Samples, StreamedSamples
from sslctl.sources.files import open_file_source
from sslctl.sources.npz import npz_source, open_npz
from sslctl.sources.stream import (
    FileSamples,
    StreamSettings,
    choose_streaming,
    decode_all,
    resolve_workers,
)


def _file_rate(arrays: dict[str, np.ndarray], rate: int, path: Path) -> int:
    """The .npz's `sample_rate` (default: the recipe's), one whole number of Hz in range."""
    if "sample_rate" not in arrays:
        return rate
    value = arrays["sample_rate"]
    if value.size != 1 or value.dtype.kind not in "iuf":
        raise UserError(f"{path}: sample_rate must be one number")
    file_rate = float(value.reshape(-1)[0])
    problem = rate_problem(file_rate)
    if problem or file_rate != int(file_rate):
        raise UserError(f"{path}: {problem or f'sample_rate {file_rate:g} is not whole'}")
    return int(file_rate)


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
    if np.isinf(x).any():
        raise UserError(f"{path}: x holds infinite samples")
    valid = ~np.isnan(x)
    if (valid[:, 1:] & ~valid[:, :-1]).any():  # NaN marks padding after a clip, nothing else
        raise UserError(f"{path}: x holds NaN inside a clip (NaN may only pad a clip's end)")
    file_rate = _file_rate(arrays, rate, path)
    if file_rate != rate:
        x = resample_padded(x, file_rate, rate)
    if x.shape[1] > max_samples:
        x = pad_stack([centre_cut(w[~np.isnan(w)], max_samples) for w in x])
    y = arrays["y"].astype(np.int64) if "y" in arrays else None
    if y is not None and len(y) != len(x):
        raise UserError(f"{path}: y has {len(y)} labels for {len(x)} clips")
    return x, y


def load_audio(
    source: str,
    rate: int,
    max_samples: int,
    stream: StreamSettings,
    workers: int | str = "auto",
) -> Samples:
    """A file source (folder, list file, shards) is streamed or decoded into memory (each
    file's centre `max_samples`, NaN-padded) as `stream.cache` says; arrays (.npz, builtin)
    are always in memory."""
    files = open_file_source(source, AUDIO_SUFFIXES, "audio")
    if files is not None:
        y = None if files.labels is None else torch.from_numpy(files.labels)
        streamed, note = choose_streaming(files, stream, max_samples * 4, "audio")
        listed, classes = FileSamples(files), files.classes or None
        if streamed:
            return StreamedSamples(listed, y, source, note, classes, None, files)
        decoder = AudioClipDecoder(rate, max_samples, pad=float("nan"))
        (x,), kept = decode_all(listed, decoder, resolve_workers(workers), stream.on_decode_error)
        longest = int((~torch.isnan(x)).sum(dim=1).max())
        x = x[:, :longest].contiguous()
        return Samples(x, None if y is None else y[kept], source, note, classes, kept, files)
    if source.startswith("builtin:"):
        from sslctl.modalities.audio.builtin import RATE, load_builtin_audio

        x, y = load_builtin_audio(source)
        if rate != RATE:
            x = resample_padded(x, RATE, rate)
    else:
        x, y = read_npz(npz_source(source, "audio"), rate, max_samples)
    if len(x) == 0:
        raise UserError(f"{source}: no clips")
    return Samples(torch.from_numpy(x), None if y is None else torch.from_numpy(y), source)


PACK_RATE = 16000  # rate of the FLAC clips `sslctl pack` writes from arrays


def pack_arrays(source: str) -> tuple[int, np.ndarray | None, Callable[[int], tuple[str, bytes]]]:
    """An array source (.npz, builtin) for `sslctl pack`: (samples, labels, sample i as
    ("flac", 16-bit FLAC bytes at 16 kHz))."""
    import soundfile as sf

    samples = load_audio(
        source, PACK_RATE, 10**9, StreamSettings(cache="memory", cache_budget_mb=1e9)
    )
    x = samples.x.numpy()

    def get(i: int) -> tuple[str, bytes]:
        wave = x[i][~np.isnan(x[i])]
        buf = io.BytesIO()
        sf.write(buf, np.clip(wave, -1, 1), PACK_RATE, format="FLAC", subtype="PCM_16")
        return "flac", buf.getvalue()

    return len(x), None if samples.y is None else samples.y.numpy(), get
