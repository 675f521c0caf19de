"""Named numpy columns in a file of their own, read back memory-mapped.

A project's caches of derived columns (an analysis's suspect index, the images' file names)
are hundreds of MB at 10M labels. Stored as blobs in SQLite they are read 4 KiB overflow page
by overflow page (~150 MB/s here, ~2 s to open a 10M-label project); a file of their own is
one contiguous run of bytes that the operating system maps in as it is touched: nothing is
copied at open, and only what the window looks at is read.

Layout: ``MAGIC``, the header's length (8 bytes, little-endian), a JSON header (the caller's
``check`` values, each column's dtype, shape and offset, the data's length), then each column's bytes at an
offset aligned to :data:`ALIGN`. Files are written under a temporary name, synced, then
renamed over the old one, so a reader sees a whole old file or a whole new one (a mapping of
the old one stays valid after the rename).
"""

from __future__ import annotations

import json
import mmap
import os
from pathlib import Path
from typing import Any

import numpy as np

MAGIC = b"LFXCOLS1"
ALIGN = 4096  # columns start on page boundaries


def write_column_file(path: Path, check: dict[str, Any], columns: dict[str, np.ndarray]) -> None:
    """Write ``columns`` (numeric numpy arrays) and the JSON-able ``check`` values to ``path``
    (atomically: a temporary file synced and renamed). Raises OSError when it cannot."""
    arrays = {name: np.ascontiguousarray(col) for name, col in columns.items()}
    layout, offset = [], 0
    for name, arr in arrays.items():
        if arr.dtype.hasobject:
            raise ValueError("object arrays are not stored")
        layout.append([name, arr.dtype.str, list(arr.shape), offset])
        offset += -(-arr.nbytes // ALIGN) * ALIGN
    header = json.dumps({"check": check, "columns": layout, "data_bytes": offset}).encode()
    start = -(-(len(MAGIC) + 8 + len(header)) // ALIGN) * ALIGN
    tmp = path.with_name(f"{path.name}.tmp-{os.getpid()}")
    try:
        with open(tmp, "wb") as fh:
            fh.write(MAGIC + len(header).to_bytes(8, "little") + header)
            for (_, _, _, at), arr in zip(layout, arrays.values(), strict=True):
                fh.seek(start + at)
                fh.write(memoryview(arr.reshape(-1)).cast("B"))
            fh.truncate(start + offset)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def read_column_file(path: Path) -> tuple[dict[str, Any], dict[str, np.ndarray]] | None:
    """The ``check`` values and the columns of a file written by :func:`write_column_file`,
    or None when it is absent or not whole. The columns are writable copy-on-write mappings
    of the file (writing to one never changes the file)."""
    try:
        with open(path, "rb") as fh:
            head = fh.read(len(MAGIC) + 8)
            if len(head) != len(MAGIC) + 8 or head[: len(MAGIC)] != MAGIC:
                return None
            size = int.from_bytes(head[len(MAGIC) :], "little")
            header = json.loads(fh.read(size))
            start = -(-(len(MAGIC) + 8 + size) // ALIGN) * ALIGN
            total = os.fstat(fh.fileno()).st_size
            mapped = mmap.mmap(fh.fileno(), 0, access=mmap.ACCESS_COPY)
    except (OSError, ValueError):
        return None
    columns = {}
    try:
        if total != start + int(header["data_bytes"]):
            return None  # cut short, or written over
        for name, dtype_str, shape, at in header["columns"]:
            dtype = np.dtype(dtype_str)
            count = int(np.prod(shape, dtype=np.int64))
            if not count:
                columns[name] = np.zeros(shape, dtype)
                continue
            arr = np.frombuffer(mapped, dtype=dtype, count=count, offset=start + at)
            columns[name] = arr.reshape(shape)
        return dict(header["check"]), columns
    except (KeyError, TypeError, ValueError):
        return None
