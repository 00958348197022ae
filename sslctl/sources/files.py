"""One view of every streamed source: a folder of files, a list file, or WebDataset shards.

A `FileSource` is what a DataLoader worker needs to open sample i: compact numpy arrays (no
per-file Python objects, see listing.py), picklable, with labels when the source has them.
"""

from __future__ import annotations

import csv
import io
import os
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

import numpy as np

from sslctl.errors import DecodeError, UserError
from sslctl.io.regular import MAX_SAMPLE_BYTES, open_sample, read_at_most, read_bounded
from sslctl.sources.labels import named_labels
from sslctl.sources.listing import list_folder
from sslctl.sources.shards import is_shard_folder, read_index, read_member, shard_table

LIST_SUFFIXES = {".txt", ".lst", ".csv"}


@dataclass
class FileSource:
    """`paths[i]` is sample i's file (relative to `root`, or absolute); for shards, `paths`
    holds the shard files and `members` each sample's (shard, offset, size)."""

    source: str  # the data-source string it was opened from
    root: Path
    paths: np.ndarray  # bytes
    labels: np.ndarray | None
    classes: list[str]
    members: np.ndarray | None = None  # (N, 3) int64 for shards

    def __len__(self) -> int:
        return len(self.paths) if self.members is None else len(self.members)

    def name(self, i: int) -> str:
        """What an error message names: the file, or `shard.tar:#offset` for a shard member."""
        if self.members is None:
            return str(self.root / os.fsdecode(self.paths[i]))
        shard, offset, _ = self.members[i]
        return f"{self.root / os.fsdecode(self.paths[shard])}:#{offset}"

    def open(self, i: int) -> BinaryIO:
        """Sample i's bytes, or a DecodeError when its path is no regular file (a FIFO, a
        device, a NUL byte in a list file's line)."""
        if self.members is None:
            return open_sample(self.root / os.fsdecode(self.paths[i]))
        shard, offset, size = (int(v) for v in self.members[i])
        return read_member(self.root / os.fsdecode(self.paths[shard]), offset, size)

    def read(self, i: int) -> bytes:
        """All of sample i, at most MAX_SAMPLE_BYTES (pack stores files whole)."""
        with self.open(i) as fh:
            data = read_at_most(fh, MAX_SAMPLE_BYTES)
        if data is None:
            raise DecodeError(f"larger than the {MAX_SAMPLE_BYTES:,}-byte limit of one sample")
        return data


def _encode(paths: list[str]) -> np.ndarray:
    return np.array([os.fsencode(p) for p in paths], dtype=np.bytes_)


def _read_list(path: Path, kind: str) -> FileSource:
    """One path per line (`.txt`, `.lst`; blank lines and `#` comments skipped), or a CSV
    with a `path` column and an optional `label` column (class names or integers). Relative
    paths are relative to the list file's folder."""
    try:
        text = read_bounded(path, "list file").decode()
    except UnicodeDecodeError as exc:
        raise UserError(f"{path}: cannot read list file ({exc.__class__.__name__})") from None
    names: list[str] = []
    raw_labels: list[str] | None = None
    if path.suffix.lower() == ".csv":
        rows = csv.DictReader(io.StringIO(text))
        if not rows.fieldnames or "path" not in rows.fieldnames:
            raise UserError(f"{path}: a CSV list needs a 'path' column (and optionally 'label')")
        raw_labels = [] if "label" in rows.fieldnames else None
        for row in rows:
            names.append(row["path"] or "")
            if raw_labels is not None:
                raw_labels.append((row["label"] or "").strip())
    else:
        names = [ln.strip() for ln in text.splitlines()]
        names = [n for n in names if n and not n.startswith("#")]
    if not names or any(not n for n in names):
        raise UserError(f"{path}: list file names no {kind} files (or has an empty path)")
    labels, classes = None, []
    if raw_labels is not None:
        labels, classes = named_labels(raw_labels, f"{path} (label column)")
    return FileSource(str(path), path.parent.resolve(), _encode(names), labels, classes)


def _read_shards(folder: Path, suffixes: set[str]) -> FileSource:
    shards, info = read_index(folder)
    table = shard_table(shards, {s.lstrip(".") for s in suffixes})
    members = np.column_stack([table.shard, table.offset, table.size]).astype(np.int64)
    paths = _encode([p.name for p, _ in shards])
    classes = [str(c) for c in info.get("classes", [])]
    return FileSource(str(folder), folder.resolve(), paths, table.labels, classes, members)


def open_file_source(source: str, suffixes: set[str], kind: str) -> FileSource | None:
    """The streamed view of `source`, or None when it is not a file source (an array file or a
    builtin set, which the modality reads itself)."""
    if source.startswith("builtin:"):
        return None
    path = Path(source)
    if not source.strip() or not path.exists():
        raise UserError(f"{source or repr(source)}: data path not found")
    if is_shard_folder(path):
        return _read_shards(path, suffixes)
    if path.is_dir():
        listing = list_folder(path, suffixes, kind)
        return FileSource(source, listing.root, listing.files, listing.labels, listing.classes)
    if path.suffix.lower() in LIST_SUFFIXES:
        return _read_list(path, kind)
    return None
