"""Every file a job opens is checked before it is read: a FIFO blocks its reader forever,
/dev/zero never ends, a device or a folder is not data, and a path with a NUL byte cannot be
opened at all. `stat` answers all of these without blocking, so the check costs one system
call; a sample file is opened without blocking and checked on its descriptor, so a FIFO
swapped in after a listing cannot hang a worker either.

Whole-file reads are bounded (`read_bounded`): the size is known before anything is
allocated."""

from __future__ import annotations

import os
import stat
from pathlib import Path
from typing import BinaryIO

from sslctl.errors import DecodeError, UserError

MAX_SAMPLE_BYTES = 1 << 30  # one sample read whole (pack, a shard member): 1 GiB
MAX_TEXT_BYTES = 1 << 31  # a list file or index: 2 GiB, tens of millions of paths

_KINDS = {
    stat.S_IFIFO: "a FIFO",
    stat.S_IFCHR: "a character device",
    stat.S_IFBLK: "a block device",
    stat.S_IFDIR: "a folder",
    stat.S_IFSOCK: "a socket",
}


def not_regular(mode: int) -> str | None:
    """What a file of this mode is when it is not a regular file (None when it is)."""
    if stat.S_ISREG(mode):
        return None
    return _KINDS.get(stat.S_IFMT(mode), "not a regular file")


def check_file(path: str | Path, what: str, limit: int | None = None) -> int:
    """The size of `path`, a regular file no larger than `limit`; otherwise a UserError
    naming the path and what it is (for paths handed to a library that opens them itself)."""
    try:
        st = os.stat(path)
    except ValueError:
        raise UserError(f"{os.fsdecode(path)!r}: {what} path holds a NUL byte") from None
    except OSError as exc:
        raise UserError(f"{path}: cannot read {what} ({exc.strerror})") from None
    kind = not_regular(st.st_mode)
    if kind is not None:
        raise UserError(f"{path}: {what} is {kind}, not a regular file")
    if limit is not None and st.st_size > limit:
        raise UserError(f"{path}: {what} is {st.st_size:,} bytes, over the {limit:,} limit")
    return st.st_size


def read_at_most(fh: BinaryIO, limit: int) -> bytes | None:
    """The rest of an open file, or None when that is more than `limit` bytes. The read is
    sized by the file's length (a seek to its end), not by `limit`: read(limit + 1) makes
    CPython allocate all of that up front, a 1 GiB buffer for every small sample."""
    start = fh.tell()
    size = fh.seek(0, os.SEEK_END) - start
    fh.seek(start)
    if size > limit:
        return None
    data = fh.read(size + 1)
    if len(data) > size:  # grew since it was measured: read on, still bounded
        data += fh.read(limit + 1 - len(data))
    return None if len(data) > limit else data


def read_bounded(path: str | Path, what: str, limit: int = MAX_TEXT_BYTES) -> bytes:
    """The whole of a regular file of at most `limit` bytes."""
    check_file(path, what, limit)
    try:
        with open_sample(path) as fh:
            data = read_at_most(fh, limit)
    except (OSError, DecodeError) as exc:
        raise UserError(f"{path}: cannot read {what} ({exc})") from None
    if data is None:  # grew since the check
        raise UserError(f"{path}: {what} is over the {limit:,}-byte limit")
    return data


def open_sample(path: str | Path) -> BinaryIO:
    """A sample file opened for reading, or a DecodeError saying why it is not one (the
    caller names the file)."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | os.O_CLOEXEC)
    except ValueError:
        raise DecodeError("path holds a NUL byte") from None
    except OSError as exc:
        raise DecodeError(f"cannot open ({exc.strerror})") from None
    kind = not_regular(os.fstat(fd).st_mode)
    if kind is not None:
        os.close(fd)
        raise DecodeError(f"is {kind}, not a regular file")
    os.set_blocking(fd, True)
    return os.fdopen(fd, "rb")
