"""pack: write a source (folder, list file, .npz, builtin set) into WebDataset tar shards with a
wids index, for streaming on many processes and machines (sources/shards.py says why that
format). Samples are shuffled once, with a seed, so that a shard holds a mix of classes and
a rank reading a few shards at a time still sees varied batches; each sample keeps its source
index as its key. Files are stored as they are (no re-encoding); arrays become PNG images or
16-bit FLAC clips. Labels, when the source has them, are `.cls` members.
"""

from __future__ import annotations

import io
import json
import os
from collections.abc import Callable
from pathlib import Path

import numpy as np

from sslctl.errors import UserError
from sslctl.sources.files import FileSource, open_file_source
from sslctl.sources.shards import INDEX, ShardWriter, is_shard_folder

PLAN = ".pack-plan.json"  # what an unfinished pack in OUT was asked to do, to resume it
MODALITY_OF_BUILTIN = {
    "digits": "image",
    "fashion-mnist": "image",
    "spoken-digits": "audio",
    "gm-instruments": "audio",
}


def _suffixes(modality: str) -> set[str]:
    if modality == "image":
        from sslctl.modalities.image.modality import IMAGE_SUFFIXES

        return IMAGE_SUFFIXES
    from sslctl.modalities.audio.decode import AUDIO_SUFFIXES

    return AUDIO_SUFFIXES


def _modality_of(spec: str, asked: str | None) -> str:
    if asked:
        return asked
    if spec.startswith("builtin:"):
        name = spec.split(":")[1] if ":" in spec else ""
        if name in MODALITY_OF_BUILTIN:
            return MODALITY_OF_BUILTIN[name]
        raise UserError(f"{spec}: pack takes image and audio builtin sets, not {name!r}")
    path = Path(spec)
    if path.is_dir():
        for modality in ("image", "audio"):
            suffixes = _suffixes(modality)
            if any(
                os.path.splitext(f)[1].lower() in suffixes
                for _, _, files in os.walk(path)
                for f in files
            ):
                return modality
        raise UserError(f"{path}: holds no image or audio files")
    raise UserError(f"{spec}: give --modality image or audio for this source")


class Items:
    """Sample i of the source as (extension, bytes), plus labels and class names."""

    def __init__(self, spec: str, modality: str) -> None:
        self.labels: np.ndarray | None = None
        self.classes: list[str] = []
        source = open_file_source(spec, _suffixes(modality), modality)
        if source is not None:
            self._file(source)
        elif modality == "image":
            self._images(spec)
        else:
            self._audio(spec)

    def _file(self, source: FileSource) -> None:
        self.n = len(source)
        self.labels, self.classes = source.labels, source.classes

        def get(i: int) -> tuple[str, bytes]:
            ext = os.path.splitext(source.name(i))[1].lower().lstrip(".")
            try:
                return ext, source.read(i)
            except OSError as exc:
                raise UserError(f"{source.name(i)}: cannot read ({exc.strerror or exc})") from None

        self.get: Callable[[int], tuple[str, bytes]] = get

    def _images(self, spec: str) -> None:
        from PIL import Image

        from sslctl.modalities.image.modality import array_samples

        samples = array_samples(spec, None)
        x = samples.x.numpy()
        self.n = len(x)
        self.labels = None if samples.y is None else samples.y.numpy()

        def get(i: int) -> tuple[str, bytes]:
            img = x[i, 0] if x.shape[1] == 1 else x[i].transpose(1, 2, 0)
            buf = io.BytesIO()
            Image.fromarray(img).save(buf, format="PNG")
            return "png", buf.getvalue()

        self.get = get

    def _audio(self, spec: str) -> None:
        import soundfile as sf

        from sslctl.modalities.audio.modality import load_audio

        rate = 16000
        samples = load_audio(
            spec,
            rate,
            10**9,
            {"cache": "memory", "cache_budget_mb": 1e9, "on_decode_error": "fail"},
        )
        x = samples.x.numpy()
        self.n = len(x)
        self.labels = None if samples.y is None else samples.y.numpy()

        def get(i: int) -> tuple[str, bytes]:
            wave = x[i][~np.isnan(x[i])]
            buf = io.BytesIO()
            sf.write(buf, np.clip(wave, -1, 1), rate, format="FLAC", subtype="PCM_16")
            return "flac", buf.getvalue()

        self.get = get


def _check_out(out: Path, plan: dict) -> None:
    """OUT is new, or an unfinished pack of exactly this plan (resumed); anything else is not
    ours to write into."""
    if is_shard_folder(out):
        raise UserError(f"{out}: already holds a finished pack ({INDEX}); choose another OUT")
    if not out.exists() or not any(out.iterdir()):
        return
    try:
        previous = json.loads((out / PLAN).read_text())
    except (OSError, ValueError):
        raise UserError(
            f"{out}: exists and is not an unfinished pack; choose another OUT"
        ) from None
    if previous != plan:
        raise UserError(
            f"{out}: holds an unfinished pack of other settings ({previous}); remove it or "
            "choose another OUT"
        )


def pack(
    spec: str, out: Path, modality: str | None, shard_size: int, seed: int, progress
) -> tuple[int, int]:
    """Write the shards; returns (samples, shards). `progress(done, total)` is called as
    samples are written."""
    if shard_size < 1:
        raise UserError(f"--shard-size: must be at least 1, got {shard_size}")
    if Path(spec).resolve() == out.resolve():
        raise UserError(f"{out}: OUT is the source itself")
    modality = _modality_of(spec, modality)
    if is_shard_folder(Path(spec)):
        raise UserError(f"{spec}: is a folder of shards already")
    items = Items(spec, modality)
    plan = {
        "source": spec,
        "modality": modality,
        "samples": items.n,
        "shard_size": shard_size,
        "seed": seed,
    }
    _check_out(out, plan)
    out.mkdir(parents=True, exist_ok=True)
    (out / PLAN).write_text(json.dumps(plan))
    order = np.random.default_rng(seed).permutation(items.n)
    writer = ShardWriter(out, items.n, shard_size)
    sizes = []
    for number in range(writer.count):
        chunk = order[number * shard_size : (number + 1) * shard_size]
        sizes.append(len(chunk))
        if not writer.done(number):
            samples = []
            for i in chunk:
                ext, data = items.get(int(i))
                members = {ext: data}
                if items.labels is not None:
                    members["cls"] = str(int(items.labels[i])).encode()
                samples.append((f"{int(i):09d}", members))
            writer.write_shard(number, samples)
        progress(min((number + 1) * shard_size, items.n), items.n)
    info = {"modality": modality, "classes": items.classes, "source": spec, "seed": seed}
    writer.write_index(sizes, info)
    (out / PLAN).unlink()
    return items.n, writer.count
