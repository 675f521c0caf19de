"""A prediction set too large for memory, stored in parts by image and written chunk by chunk.

A set's columns live under the ``arrays`` owner ``predictions:<set id>``: either the columns
themselves (every set read whole, as before), or, for a set written by
:class:`PredictionSetWriter`, an ``image_bounds`` column: part ``k`` holds the predictions of
the images with ``image_bounds[k] <= image_id < image_bounds[k + 1]``, under the owner
``predictions:<set id>:<k>``, sorted by image then id like a whole set; ``id_part`` gives
the part of each prediction id. Parts are sized to
about :data:`PART_PREDICTIONS` predictions, so the analysis and the window read one at a time.

The writer takes the file's chunks in file order: each chunk's columns are split by part and
staged (owner ``staging:<set id>:<k>``, one blob per column and chunk); :meth:`finish` then
sorts each part's staged pieces into place (an external bucket sort: memory holds one part).
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from .base import now

if TYPE_CHECKING:
    from .predictions import PredictionRepository

PART_PREDICTIONS = 2_000_000
PART_IMAGES = 500  # the analysis's chunk (core.analysis_chunks.CHUNK)
COLUMNS = ("id", "image_id", "category_id", "score", "box")


def set_owner(set_id: int) -> str:
    """The ``arrays`` owner of a set's columns (or of its ``image_bounds``)."""
    return f"predictions:{set_id}"


def part_owner(set_id: int, part: int) -> str:
    """The ``arrays`` owner of part ``part`` of a set stored in parts."""
    return f"predictions:{set_id}:{part}"


def empty_columns() -> dict[str, np.ndarray]:
    """The columns of no predictions."""
    return {
        "id": np.zeros(0, np.int64),
        "image_id": np.zeros(0, np.int64),
        "category_id": np.zeros(0, np.int64),
        "score": np.zeros(0),
        "box": np.zeros((0, 4)),
    }


def image_bounds(image_ids: np.ndarray, expected: int) -> np.ndarray:
    """Lower image-id bounds of the parts for ``expected`` predictions over these images; a
    part holds a multiple of :data:`PART_IMAGES` images, so the analysis's chunks of images
    never straddle two parts."""
    ids = np.unique(np.asarray(image_ids, np.int64))
    if not ids.size:
        return np.zeros(1, np.int64)
    parts = max(1, math.ceil(expected / PART_PREDICTIONS))
    per_part = math.ceil(ids.size / parts / PART_IMAGES) * PART_IMAGES
    return ids[::per_part].copy()


class PredictionSetWriter:
    """Writes a new prediction set chunk by chunk inside the caller's transaction."""

    def __init__(
        self,
        store: PredictionRepository,
        name: str,
        source: str | Path,
        image_ids: np.ndarray,
        expected: int,
    ) -> None:
        self._store = store
        self.bounds = image_bounds(image_ids, expected)
        self.set_id = store._db.insert_id(
            "INSERT INTO prediction_sets (name, source_path, imported_at, has_segmentation, count) "
            "VALUES (?, ?, ?, ?, ?)",
            [name, str(Path(source).resolve()), now(), 0, 0],
        )
        self._chunk = 0
        self._staged: set[int] = set()
        self._id_part: list[np.ndarray] = []  # per prediction id: its part

    def add(self, start: int, columns: dict[str, np.ndarray], shapes: Iterable[tuple]) -> None:
        """One chunk: the columns of records ``start`` ... (image_id, category_id, score,
        box) and their ``prediction_shapes`` rows."""
        n = len(columns["image_id"])
        ids = np.arange(start + 1, start + n + 1, dtype=np.int64)
        part = np.searchsorted(self.bounds, columns["image_id"], side="right") - 1
        part = np.maximum(part, 0)
        self._id_part.append(part.astype(np.int32))
        order = np.argsort(part, kind="stable")
        cuts = np.searchsorted(part[order], np.arange(len(self.bounds) + 1))
        full = {"id": ids, **{c: columns[c] for c in COLUMNS[1:]}}
        for k in np.unique(part).tolist():
            rows = order[cuts[k] : cuts[k + 1]]
            self._store.add_arrays(
                f"staging:{self.set_id}:{k}",
                {f"{c}:{self._chunk:07d}": full[c][rows] for c in COLUMNS},
            )
            self._staged.add(k)
        self._chunk += 1
        self._store._db.copy_rows(
            "prediction_shapes", ("set_id", "id", "image_id", "segmentation", "extra"), shapes
        )

    def finish(self, count: int, has_segmentation: bool) -> None:
        """Sort each part's staged pieces into place and record the set's count."""
        store, set_id = self._store, self.set_id
        parts = len(self.bounds)
        for k in range(parts):
            columns = empty_columns()
            if k in self._staged:
                staged = store.get_arrays(f"staging:{set_id}:{k}")
                store.delete_arrays(f"staging:{set_id}:{k}")
                columns = {
                    c: np.concatenate([staged[n] for n in sorted(staged) if n.split(":")[0] == c])
                    for c in COLUMNS
                }
                del staged
                order = np.lexsort((columns["id"], columns["image_id"]))
                columns = {c: np.ascontiguousarray(v[order]) for c, v in columns.items()}
            if parts == 1:
                store.put_arrays(set_owner(set_id), columns)  # a whole set, as before
            else:
                store.put_arrays(part_owner(set_id, k), columns)
        if parts > 1:
            id_part = np.concatenate([np.zeros(0, np.int32), *self._id_part])
            store.put_arrays(set_owner(set_id), {"image_bounds": self.bounds, "id_part": id_part})
        store._db.execute(
            "UPDATE prediction_sets SET count = ?, has_segmentation = ? WHERE id = ?",
            [count, int(has_segmentation), set_id],
        )
