"""WebDataset shards: plain tar files in which the members of one sample share a key
(`000042.jpg`, `000042.cls`), listed by a wids shard index (`index.json`,
`"__kind__": "wids-shard-index-v1"`), so webdataset's `wids.ShardListDataset` and any tar tool
read what `sslctl pack` writes. We read it ourselves with random access: each shard's member
offsets are found once by walking its tar headers and cached, then a sample is one seek and
one read, which is what exact resume and per-sample crops need.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import tarfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from sslctl.cache import cache_dir
from sslctl.errors import DecodeError, UserError
from sslctl.io.atomic import atomic_write, save_npy
from sslctl.io.regular import MAX_SAMPLE_BYTES, check_file, open_sample
from sslctl.sources.labels import MAX_LABEL

INDEX = "index.json"
KIND = "wids-shard-index-v1"


def is_shard_folder(path: Path) -> bool:
    return path.is_dir() and (path / INDEX).is_file()


def read_index(folder: Path) -> tuple[list[tuple[Path, int]], dict]:
    """[(shard path, nsamples)] and the `info` object sslctl stores (modality, classes)."""
    path = folder / INDEX
    try:
        index = json.loads(path.read_text())
        if index.get("__kind__") != KIND:
            raise ValueError(f"__kind__ is not {KIND!r}")
        urls = [str(s["url"]) for s in index["shardlist"]]
        bad = next((u for u in urls if "\0" in u or "/" in u or u in ("", ".", "..")), None)
        if bad is not None:
            raise ValueError(f"shard url {bad!r:.60} lies outside this folder (or is no name)")
        shards = [
            (folder / u, int(s["nsamples"])) for u, s in zip(urls, index["shardlist"], strict=True)
        ]
        info = json.loads(index.get("info") or "{}")
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise UserError(f"{path}: not a wids shard index ({exc})") from None
    if not shards or any(n < 0 for _, n in shards):
        raise UserError(f"{path}: shardlist is empty or has a negative nsamples")
    for shard, _ in shards:
        if shard.resolve().parent != folder.resolve():
            raise UserError(f"{path}: shard {shard.name} lies outside {folder}")
        check_file(shard, f"shard listed in {path}")  # missing, or a FIFO that would block
    return shards, info


def split_key(name: str) -> tuple[str, str]:
    """WebDataset's rule: the key is the path up to the first dot of the file name."""
    folder, _, base = name.rpartition("/")
    stem, _, ext = base.partition(".")
    return (f"{folder}/{stem}" if folder else stem), ext.lower()


@dataclass
class ShardTable:
    """Where each sample's data member lies: shard number, byte offset and size, plus labels
    from `.cls` members (None when no sample has one)."""

    shard: np.ndarray  # int32
    offset: np.ndarray  # int64
    size: np.ndarray  # int64
    labels: np.ndarray | None


def _scan_shard(path: Path, data_exts: set[str]) -> tuple[list[tuple[int, int]], list[int]]:
    """[(offset, size)] of each sample's data member and its label (-1: none), in tar order."""
    members: list[tuple[int, int]] = []
    labels: list[int] = []
    current = None
    try:
        with tarfile.open(path, "r:") as tar:
            for member in tar:
                if not member.isfile():
                    continue
                key, ext = split_key(member.name)
                if key != current:
                    if current is not None and len(members) < len(labels):
                        raise ValueError(f"sample {current!r} has no data member")
                    current = key
                    labels.append(-1)
                if ext in data_exts and len(members) < len(labels):
                    if member.size > MAX_SAMPLE_BYTES:
                        raise ValueError(
                            f"{member.name}: {member.size:,} bytes, over the "
                            f"{MAX_SAMPLE_BYTES:,}-byte limit of one sample"
                        )
                    members.append((member.offset_data, member.size))
                elif ext == "cls":
                    labels[-1] = int(tar.extractfile(member).read(64).strip())
                    if not 0 <= labels[-1] <= MAX_LABEL:
                        raise ValueError(f"{member.name}: class {labels[-1]} out of range")
            if current is not None and len(members) < len(labels):
                raise ValueError(f"sample {current!r} has no data member")
    except (tarfile.TarError, OSError, ValueError) as exc:
        raise UserError(f"{path}: bad shard ({exc})") from None
    return members, labels


def _cached_scan(path: Path, data_exts: set[str]) -> np.ndarray:
    """(n, 3) int64 (offset, size, label) of one shard, cached by path, size and mtime."""
    st = os.stat(path)
    key = f"{path.resolve()}\0{st.st_size}\0{st.st_mtime_ns}\0{','.join(sorted(data_exts))}"
    cache = cache_dir() / "shards" / f"{hashlib.sha256(key.encode()).hexdigest()[:32]}.npy"
    try:
        table = np.load(cache, allow_pickle=False)
        if table.dtype == np.int64 and table.ndim == 2 and table.shape[1] == 3:
            return table
    except Exception:  # noqa: BLE001 - a torn or foreign cache is rebuilt, never trusted
        pass
    members, labels = _scan_shard(path, data_exts)
    table = np.array([(o, s, y) for (o, s), y in zip(members, labels, strict=True)], np.int64)
    table = table.reshape(-1, 3)
    try:
        save_npy(cache, table)
    except OSError:
        pass  # an index that cannot be cached is only a slower next start
    return table


def shard_table(shards: list[tuple[Path, int]], data_exts: set[str]) -> ShardTable:
    parts = []
    for number, (path, nsamples) in enumerate(shards):
        table = _cached_scan(path, data_exts)
        if len(table) != nsamples:
            raise UserError(
                f"{path}: holds {len(table)} samples with a {'/'.join(sorted(data_exts))} "
                f"member, the index says {nsamples}"
            )
        parts.append(np.column_stack([np.full(len(table), number), table]))
    table = np.concatenate(parts)
    labels = table[:, 3]
    has = labels >= 0
    if has.any() and not has.all():
        raise UserError(f"{shards[0][0].parent}: some samples have a .cls label and some do not")
    return ShardTable(
        table[:, 0].astype(np.int32), table[:, 1], table[:, 2], labels if has.all() else None
    )


def read_member(path: Path, offset: int, size: int) -> io.BytesIO:
    """The `size` bytes at `offset` of a shard, checked against the shard's length before
    anything is allocated: the shard may have been swapped or cut since it was scanned, and a
    read sized by a header's claim would allocate all of it up front."""
    if size > MAX_SAMPLE_BYTES:
        raise DecodeError(f"larger than the {MAX_SAMPLE_BYTES:,}-byte limit of one sample")
    with open_sample(path) as fh:
        length = os.fstat(fh.fileno()).st_size
        if offset + size > length:
            raise DecodeError(
                f"shard truncated: {length:,} bytes, the member ends at {offset + size:,}"
            )
        fh.seek(offset)
        data = fh.read(size)
    if len(data) != size:
        raise DecodeError(f"shard truncated at byte {offset + len(data):,}")
    return io.BytesIO(data)


class ShardWriter:
    """Writes `shard-NNNNNN.tar` files of `per_shard` samples each, then `index.json`.

    Each shard is written under a temporary name and renamed when complete, and the index is
    written last, so a killed pack leaves no half shard under a shard's name and no index that
    a reader would take as a finished pack; a shard already complete is skipped on a rerun."""

    def __init__(self, out: Path, n: int, per_shard: int) -> None:
        self.out, self.n, self.per_shard = out, n, per_shard
        self.count = -(-n // per_shard)

    def shard_path(self, number: int) -> Path:
        return self.out / f"shard-{number:06d}.tar"

    def done(self, number: int) -> bool:
        return self.shard_path(number).is_file()

    def write_shard(self, number: int, samples: list[tuple[str, dict[str, bytes]]]) -> None:
        def write(tmp: str) -> None:
            with tarfile.open(tmp, mode="w") as tar:
                for key, members in samples:
                    for ext, data in members.items():
                        info = tarfile.TarInfo(f"{key}.{ext}")
                        info.size, info.mode, info.mtime = len(data), 0o644, 0
                        tar.addfile(info, io.BytesIO(data))

        atomic_write(self.shard_path(number), write)

    def write_index(self, sizes: list[int], info: dict) -> None:
        index = {
            "__kind__": KIND,
            "wids_version": 1,
            "name": self.out.name,
            "info": json.dumps(info),
            "shardlist": [
                {
                    "url": self.shard_path(i).name,
                    "nsamples": n,
                    "filesize": self.shard_path(i).stat().st_size,
                }
                for i, n in enumerate(sizes)
            ],
        }
        atomic_write(
            self.out / INDEX, lambda tmp: Path(tmp).write_text(json.dumps(index, indent=1))
        )
