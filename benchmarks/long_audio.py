"""Peak memory of `sslctl pretrain` on audio folders whose files are 5 seconds, 15 minutes and
1 hour long: only a window of each file is decoded (data.max_seconds in memory, the clip
length when streamed), so the length of a recording must not show in the peak RSS.

    python benchmarks/long_audio.py --root /tmp/long-audio

Each folder holds 8 FLAC files (two classes) of a quiet tone with a little noise at 16 kHz,
written here; a 1-hour file is about 4 MB. Prints one Markdown row per length and mode.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import psutil

RATE = 16000
LENGTHS = {"5 s": 5, "15 min": 900, "1 h": 3600}


def write_folder(root: Path, seconds: int) -> Path:
    import soundfile as sf

    folder = root / f"{seconds}s"
    if folder.is_dir():
        return folder
    rng = np.random.default_rng(0)
    for i in range(8):
        (folder / f"c{i % 2}").mkdir(parents=True, exist_ok=True)
        with sf.SoundFile(folder / f"c{i % 2}" / f"{i}.flac", "w", RATE, 1, "PCM_16") as out:
            for start in range(0, seconds, 60):  # a minute at a time: the writer stays small
                n = min(60, seconds - start) * RATE
                t = (np.arange(n) + start * RATE) / RATE
                wave = 0.05 * np.sin(2 * np.pi * (200 + 100 * i) * t)
                out.write(wave + 0.001 * rng.standard_normal(n))
    return folder


def peak_rss(folder: Path, cache: str) -> tuple[float, float]:
    """(peak RSS of the process tree in MB, wall seconds) of a 1-epoch pretrain."""
    recipe = {
        "name": "long",
        "data": {"modality": "audio", "train": str(folder), "cache": cache},
        "encoder": {"name": "audio_cnn", "kwargs": {"channels": 8, "dim": 64}},
        "method": {"name": "simclr", "proj_hidden": 64, "proj_dim": 32},
        "train": {"epochs": 1, "batch_size": 4, "num_workers": 2},
    }
    work = Path(tempfile.mkdtemp())
    (work / "r.yaml").write_text(json.dumps(recipe))
    args = [
        sys.executable,
        "-m",
        "sslctl",
        "pretrain",
        str(work / "r.yaml"),
        "--out",
        str(work / "run"),
        "--quiet",
    ]
    start = time.perf_counter()
    proc = subprocess.Popen(args, stderr=subprocess.PIPE, text=True)
    handle, peak = psutil.Process(proc.pid), 0
    while proc.poll() is None:
        try:
            rss = handle.memory_info().rss + sum(
                c.memory_info().rss for c in handle.children(recursive=True)
            )
        except psutil.NoSuchProcess:
            break
        peak = max(peak, rss)
        time.sleep(0.02)
    if proc.wait() != 0:
        raise SystemExit(proc.stderr.read())
    return peak / 2**20, time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--root", type=Path, required=True)
    args = parser.parse_args()
    print("| file length | data.cache | FLAC bytes per file | peak RSS (MB) | wall (s) |")
    print("|---|---|---|---|---|")
    for label, seconds in LENGTHS.items():
        folder = write_folder(args.root, seconds)
        size = os.path.getsize(next(folder.rglob("*.flac")))
        for cache in ("memory", "stream"):
            rss, wall = peak_rss(folder, cache)
            print(f"| {label} | {cache} | {size:,} | {rss:,.0f} | {wall:.1f} |", flush=True)


if __name__ == "__main__":
    main()
