"""Columns gathered chunk by chunk in temporary files rather than memory, read back a column at
a time.

An analysis hands its results to the store's writer chunk by chunk: at 20M predictions its
matches were 660 MB and at 8M suspects the suspect index's columns ~800 MB, too much to hold
to the end of the analysis beside its own state. Each column goes to an anonymous temporary
file of its own (gone when closed, or when the process ends). The first chunk stays in memory
until a second one comes: an analysis done in memory hands its results over in one chunk,
which it holds anyway (writing and reading back its ~45 MB at 500k predictions took ~0.1 s).
"""

from __future__ import annotations

import tempfile
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import IO

import numpy as np


class SpilledColumns:
    """Named columns appended chunk by chunk to temporary files (in ``folder``; the system's
    temporary folder when None), but for a first chunk alone, kept in memory (its arrays as
    given: the caller leaves them unchanged); :meth:`column` gives what ``np.concatenate`` of a
    column's chunks would give."""

    def __init__(self, names: Sequence[str], folder: Path | None, prefix: str) -> None:
        self._folder = folder
        self._prefix = prefix
        self._files: dict[str, IO[bytes]] = {}
        self._parts: dict[str, list[tuple[np.dtype, int]]] = {n: [] for n in names}
        self._first: dict[str, np.ndarray] | None = None  # the only chunk so far, in memory

    def add(self, columns: Mapping[str, np.ndarray]) -> None:
        """One chunk: a column for each name."""
        chunk = {name: np.ascontiguousarray(columns[name]) for name in self._parts}
        if not any(self._parts.values()):  # the first chunk: kept until a second one
            self._first = chunk
            for name, column in chunk.items():
                self._parts[name].append((column.dtype, len(column)))
            return
        if self._first is not None:  # a second chunk: the first goes to the files too
            first, self._first = self._first, None
            self._write(first)
        self._write(chunk)
        for name, column in chunk.items():
            self._parts[name].append((column.dtype, len(column)))

    def _write(self, chunk: Mapping[str, np.ndarray]) -> None:
        for name, column in chunk.items():
            if name not in self._files:  # closed by close()
                self._files[name] = tempfile.TemporaryFile(  # noqa: SIM115
                    prefix=self._prefix, dir=self._folder
                )
            column.tofile(self._files[name])

    def __len__(self) -> int:
        """Rows added."""
        first = next(iter(self._parts.values()), [])
        return sum(n for _, n in first)

    def column(self, name: str, empty: np.ndarray) -> np.ndarray:
        """All chunks of one column (``empty`` when none was added)."""
        parts = self._parts[name]
        if not parts:
            return empty.copy()
        if self._first is not None:
            return self._first[name].copy()
        out = np.empty(sum(n for _, n in parts), dtype=np.result_type(*(d for d, _ in parts)))
        fh = self._files[name]
        fh.seek(0)
        at = 0
        for dtype, n in parts:
            out[at : at + n] = np.fromfile(fh, dtype=dtype, count=n)
            at += n
        return out

    def close(self) -> None:
        """Remove the files (and let go of a chunk kept in memory)."""
        self._first = None
        for fh in self._files.values():
            fh.close()
        self._files.clear()
