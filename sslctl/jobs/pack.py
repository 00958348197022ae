"""pack: write a source (folder, list file, .npz, builtin set) into WebDataset tar shards with a
wids index, for streaming on many processes and machines (sources/shards.py says why that
format). Samples are shuffled once, with a seed, so that a shard holds a mix of classes and
a rank reading a few shards at a time still sees varied batches; each sample keeps its source
index as its key. Files are stored as they are (no re-encoding); arrays become PNG images or
16-bit FLAC clips. Labels, when the source has them, are `.cls` members.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from importlib import import_module
from pathlib import Path
from typing import Any

import numpy as np

from sslctl.errors import DecodeError, UserError
from sslctl.io.atomic import write_json
from sslctl.io.lock import others, owned
from sslctl.modalities import MODALITIES
from sslctl.registry import load_attribute
from sslctl.sources.files import FileSource, open_file_source
from sslctl.sources.shards import INDEX, ShardWriter, is_shard_folder

PLAN = ".pack-plan.json"  # what an unfinished pack in OUT was asked to do, to resume it


def _packable() -> dict[str, Any]:
    """modality -> its data spec, for the modalities that declare file sources to pack."""
    return {name: spec for name, spec in MODALITIES.items() if spec.packer}


def _modality_of(source: str, asked: str | None) -> str:
    packable = _packable()
    takes = " and ".join(packable)
    if asked:
        if asked not in packable:
            raise UserError(
                f"--modality {asked}: {asked} data has no file format to pack; pack takes {takes}"
            )
        return asked
    if source.startswith("builtin:"):
        name = source.split(":")[1] if ":" in source else ""
        for modality, spec in packable.items():
            if spec.builtin and name in import_module(spec.builtin).NAMES:
                return modality
        raise UserError(f"{source}: pack takes {takes} builtin sets, not {name!r}")
    path = Path(source)
    if path.is_dir():
        for modality, spec in packable.items():
            if any(
                os.path.splitext(f)[1].lower() in spec.file_suffixes
                for _, _, files in os.walk(path)
                for f in files
            ):
                return modality
        raise UserError(f"{path}: holds no {takes} files")
    raise UserError(f"{source}: give --modality ({' or '.join(packable)}) for this source")


class Items:
    """Sample i of the source as (extension, bytes), plus labels and class names."""

    def __init__(self, source: str, modality: str) -> None:
        self.labels: np.ndarray | None = None
        self.classes: list[str] = []
        spec = MODALITIES.get(modality)
        files = open_file_source(source, spec.file_suffixes, modality)
        if files is not None:
            self._file(files)
        else:  # arrays, written in the modality's own file format
            self.n, self.labels, self.get = load_attribute(spec.packer)(source)

    def _file(self, files: FileSource) -> None:
        self.n = len(files)
        self.labels, self.classes = files.labels, files.classes

        def get(i: int) -> tuple[str, bytes]:
            ext = os.path.splitext(files.name(i))[1].lower().lstrip(".")
            try:
                return ext, files.read(i)
            except DecodeError as exc:
                raise UserError(f"{files.name(i)}: {exc}") from None
            except OSError as exc:
                raise UserError(f"{files.name(i)}: cannot read ({exc.strerror or exc})") from None

        self.get: Callable[[int], tuple[str, bytes]] = get


def _check_out(out: Path, plan: dict) -> None:
    """OUT is new, or an unfinished pack of exactly this plan (resumed); anything else is not
    ours to write into."""
    if is_shard_folder(out):
        raise UserError(f"{out}: already holds a finished pack ({INDEX}); choose another OUT")
    if not out.exists() or not others(out):
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
    source: str, out: Path, modality: str | None, shard_size: int, seed: int, progress
) -> tuple[int, int]:
    """Write the shards; returns (samples, shards). `progress(done, total)` is called as
    samples are written."""
    if shard_size < 1:
        raise UserError(f"--shard-size: must be at least 1, got {shard_size}")
    if Path(source).resolve() == out.resolve():
        raise UserError(f"{out}: OUT is the source itself")
    modality = _modality_of(source, modality)
    if is_shard_folder(Path(source)):
        raise UserError(f"{source}: is a folder of shards already")
    items = Items(source, modality)
    plan = {
        "source": source,
        "modality": modality,
        "samples": items.n,
        "shard_size": shard_size,
        "seed": seed,
    }
    with owned(out, "OUT"):
        _check_out(out, plan)
        write_json(out / PLAN, plan)
        return _write(items, out, plan, progress)


def _write(items: Items, out: Path, plan: dict, progress) -> tuple[int, int]:
    """The shards, in the folder this job owns, then the index that marks them finished."""
    shard_size, seed = plan["shard_size"], plan["seed"]
    for stale in out.glob(".shard-*.tmp"):  # a shard a killed pack (SIGKILL) left half-written
        stale.unlink()
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
    info = {
        "modality": plan["modality"],
        "classes": items.classes,
        "source": plan["source"],
        "seed": seed,
    }
    writer.write_index(sizes, info)
    (out / PLAN).unlink()
    return items.n, writer.count
