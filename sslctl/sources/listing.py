"""Listing a folder source once, and again only when the folder changed.

A million files take seconds to list with `os.scandir` (no stat per file: the directory
entries say which are folders); the listing is then cached with the modification time of
every folder in the tree. Adding, removing or renaming a file or folder changes the mtime of
the folder that holds it, so checking the cached folders' mtimes (one stat per folder, not per
file) tells whether the listing still holds.

Paths are kept as one numpy bytes array, not a list of str: compact, and safe to share with
forked DataLoader workers (reading a Python list from a worker touches every object's refcount
and copies the pages, which is how file lists grow a worker's memory).
"""

from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from sslctl.cache import cache_dir
from sslctl.errors import UserError
from sslctl.io.atomic import save_npz

LISTING_VERSION = "v1"


@dataclass
class Listing:
    """The files of a source, as paths relative to `root` (sorted), with class labels from the
    first subfolder when every file sits in one."""

    root: Path
    files: np.ndarray  # bytes (S), relative paths
    labels: np.ndarray | None  # int64 per file
    classes: list[str]

    def __len__(self) -> int:
        return len(self.files)

    def path(self, i: int) -> Path:
        return self.root / os.fsdecode(self.files[i])


def _cache_file(root: Path, suffixes: set[str]) -> Path:
    key = f"{LISTING_VERSION}\0{root}\0{','.join(sorted(suffixes))}"
    return cache_dir() / "listings" / f"{hashlib.sha256(key.encode()).hexdigest()[:32]}.npz"


def _mtime(path: Path) -> int:
    return os.stat(path).st_mtime_ns


def _scan(root: Path, suffixes: set[str]) -> tuple[list[str], list[str], list[int]]:
    """(files, folders, folder mtimes), all relative to root; symlinked folders are followed
    once each (a link cycle is not walked twice)."""
    files, dirs, mtimes = [], [], []
    seen: set[tuple[int, int]] = set()
    stack = [""]
    while stack:
        rel = stack.pop()
        folder = root / rel if rel else root
        st = os.stat(folder)
        if (st.st_dev, st.st_ino) in seen:
            continue
        seen.add((st.st_dev, st.st_ino))
        dirs.append(rel)
        mtimes.append(st.st_mtime_ns)
        try:
            entries = list(os.scandir(folder))
        except OSError as exc:
            raise UserError(f"{folder}: cannot list folder ({exc.strerror})") from None
        for entry in entries:
            name = f"{rel}/{entry.name}" if rel else entry.name
            try:
                if entry.is_dir():
                    stack.append(name)
                elif os.path.splitext(entry.name)[1].lower() in suffixes:
                    files.append(name)
            except OSError:  # a broken link: not a file we can read
                continue
    files.sort()
    return files, dirs, mtimes


def _cached(path: Path, root: Path) -> np.ndarray | None:
    """The cached file list when every cached folder still has its recorded mtime."""
    try:
        with np.load(path, allow_pickle=False) as saved:
            dirs, mtimes, files = saved["dirs"], saved["mtimes"], saved["files"]
        if files.dtype.kind != "S" or dirs.dtype.kind != "S" or mtimes.dtype != np.int64:
            return None
    except Exception:  # noqa: BLE001 - a torn or foreign cache is rebuilt, never trusted
        return None
    try:
        for rel, mtime in zip(dirs, mtimes, strict=True):
            rel = os.fsdecode(rel)
            if _mtime(root / rel if rel else root) != mtime:
                return None
    except OSError:
        return None
    return files


def _save(path: Path, files: list[str], dirs: list[str], mtimes: list[int]) -> None:
    """Atomically; a cache that cannot be written is only a slower next start."""
    arrays = {
        "files": np.array([os.fsencode(f) for f in files], dtype=np.bytes_),
        "dirs": np.array([os.fsencode(d) for d in dirs], dtype=np.bytes_),
        "mtimes": np.array(mtimes, dtype=np.int64),
    }
    try:
        save_npz(path, **arrays)
    except OSError:
        return


def labels_from_folders(files: np.ndarray) -> tuple[np.ndarray | None, list[str]]:
    """Class index from each file's first path component (sorted names); None when any file
    sits directly in the root, i.e. the folder is unlabelled."""
    if len(files) == 0:
        return None, []
    first = np.char.partition(files, b"/")
    if (first[:, 1] == b"").any():
        return None, []
    classes, labels = np.unique(first[:, 0], return_inverse=True)
    return labels.astype(np.int64), [os.fsdecode(c) for c in classes]


def list_folder(root: Path, suffixes: set[str], kind: str) -> Listing:
    """Every file under `root` whose suffix is in `suffixes` (lower case, with the dot)."""
    root = root.resolve()
    cache = _cache_file(root, suffixes)
    files = _cached(cache, root)
    if files is None:
        names, dirs, mtimes = _scan(root, suffixes)
        _save(cache, names, dirs, mtimes)
        files = np.array([os.fsencode(f) for f in names], dtype=np.bytes_)
    if len(files) == 0:
        raise UserError(f"{root}: no {kind} files ({', '.join(sorted(suffixes))}) found")
    labels, classes = labels_from_folders(files)
    return Listing(root, files, labels, classes)
