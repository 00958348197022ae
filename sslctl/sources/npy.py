"""Writing a `.npy` of embeddings row block by row block, so ten million embeddings are never
held in memory: the header is written first with room for the final shape, rows are appended,
and the header is rewritten (padded to the same length, as the format allows) when the row
count is known, which a skipped undecodable file can make smaller than planned."""

from __future__ import annotations

import os
from pathlib import Path
from types import TracebackType

import numpy as np

from sslctl.io.atomic import temp_path

HEADER_BYTES = 128  # magic, version, length and the dict, padded with spaces to 128


def _header(rows: int, dim: int) -> bytes:
    text = f"{{'descr': '<f4', 'fortran_order': False, 'shape': ({rows}, {dim}), }}"
    body = text.encode("latin1")
    prefix = b"\x93NUMPY\x01\x00"
    room = HEADER_BYTES - len(prefix) - 2
    if len(body) + 1 > room:
        raise ValueError(f"shape ({rows}, {dim}) does not fit a {HEADER_BYTES}-byte header")
    body = body + b" " * (room - len(body) - 1) + b"\n"
    return prefix + len(body).to_bytes(2, "little") + body


class NpyRowWriter:
    """`with NpyRowWriter(path) as w: w.write(block)`: float32 rows appended to a temporary
    file beside `path`, renamed onto `path` only when every row is written."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.rows, self.dim = 0, None
        self.tmp = temp_path(path)
        self.fh = open(self.tmp, "wb")  # noqa: SIM115 - closed in __exit__
        self.fh.write(b"\0" * HEADER_BYTES)

    def write(self, block: np.ndarray) -> None:
        block = np.ascontiguousarray(block, dtype="<f4")
        if self.dim is None:
            self.dim = block.shape[1]
        self.fh.write(block.tobytes())
        self.rows += len(block)

    def __enter__(self) -> NpyRowWriter:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        try:
            if kind is None:
                self.fh.seek(0)
                self.fh.write(_header(self.rows, self.dim or 0))
                self.fh.close()
                os.replace(self.tmp, self.path)
        finally:
            self.fh.close()
            if os.path.exists(self.tmp):
                os.unlink(self.tmp)
