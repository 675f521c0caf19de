"""Columns gathered chunk by chunk in temporary files rather than memory, read back a column at
a time.

An analysis hands its results to the store's writer chunk by chunk: at 20M predictions its
matches were 660 MB and at 8M suspects the suspect index's columns ~800 MB, too much to hold
to the end of the analysis beside its own state. Each column goes to an anonymous temporary
file of its own (gone when closed, or when the process ends).
"""

from __future__ import annotations

import tempfile
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import IO

import numpy as np


class SpilledColumns:
    """Named columns appended chunk by chunk to temporary files (in ``folder``; the system's
    temporary folder when None); :meth:`column` gives what ``np.concatenate`` of a column's
    chunks would give."""

    def __init__(self, names: Sequence[str], folder: Path | None, prefix: str) -> None:
        self._folder = folder
        self._prefix = prefix
        self._files: dict[str, IO[bytes]] = {}
        self._parts: dict[str, list[tuple[np.dtype, int]]] = {n: [] for n in names}

    def add(self, columns: Mapping[str, np.ndarray]) -> None:
        """One chunk: a column for each name."""
        for name in self._parts:
            column = np.ascontiguousarray(columns[name])
            if name not in self._files:  # closed by close()
                self._files[name] = tempfile.TemporaryFile(  # noqa: SIM115
                    prefix=self._prefix, dir=self._folder
                )
            column.tofile(self._files[name])
            self._parts[name].append((column.dtype, len(column)))

    def __len__(self) -> int:
        """Rows added."""
        first = next(iter(self._parts.values()), [])
        return sum(n for _, n in first)

    def column(self, name: str, empty: np.ndarray) -> np.ndarray:
        """All chunks of one column (``empty`` when none was added)."""
        parts = self._parts[name]
        if not parts:
            return empty.copy()
        out = np.empty(sum(n for _, n in parts), dtype=np.result_type(*(d for d, _ in parts)))
        fh = self._files[name]
        fh.seek(0)
        at = 0
        for dtype, n in parts:
            out[at : at + n] = np.fromfile(fh, dtype=dtype, count=n)
            at += n
        return out

    def close(self) -> None:
        """Remove the files."""
        for fh in self._files.values():
            fh.close()
        self._files.clear()
