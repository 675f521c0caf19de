"""Prediction sets, and the numpy columns (``arrays``) they and the analyses are stored as.

A set's id, image_id, category_id, score and box live as numpy blobs (owner
``predictions:<set id>``), its segmentations and unknown keys, where there are any, in
``prediction_shapes``. Prediction ids are 1-based positions in the results file.
"""

from __future__ import annotations

import io
import json
from pathlib import Path

import numpy as np

from ..coco import PredictionFile
from .base import ProjectError, Repository, now
from .records import shape_rows


class ArrayRepository(Repository):
    """Named numpy columns stored under an owner (the ``arrays`` table)."""

    def put_arrays(self, owner: str, arrays: dict[str, np.ndarray]) -> None:
        """Store named numpy columns under ``owner`` (replacing what was there)."""
        self.delete_arrays(owner)
        rows = []
        for name, arr in arrays.items():
            buf = io.BytesIO()
            np.save(buf, np.ascontiguousarray(arr), allow_pickle=False)
            rows.append((owner, name, buf.getvalue()))
        self._db.copy_rows("arrays", ("owner", "name", "data"), rows)

    def delete_arrays(self, owner: str) -> None:
        """Forget the columns stored under ``owner``."""
        self._db.execute("DELETE FROM arrays WHERE owner = ?", [owner])

    def has_arrays(self, owner: str) -> bool:
        """True if numpy columns are stored under ``owner``."""
        return self._db.one("SELECT 1 FROM arrays WHERE owner = ? LIMIT 1", [owner]) is not None

    def get_arrays(self, owner: str, name: str | None = None) -> dict[str, np.ndarray]:
        """The numpy columns stored under ``owner`` (only ``name`` if given; empty if none)."""
        sql, params = "SELECT name, data FROM arrays WHERE owner = ?", [owner]
        if name is not None:
            sql, params = sql + " AND name = ?", [owner, name]
        rows = self._db.rows(sql, params)
        return {n: np.load(io.BytesIO(data), allow_pickle=False) for n, data in rows}


class PredictionRepository(ArrayRepository):
    """The ``prediction_sets`` and ``prediction_shapes`` tables and the sets' columns."""

    def add_predictions(self, pf: PredictionFile, name: str, *, activate: bool = True) -> int:
        """Store a validated prediction file as a new named set; returns its id.

        Prediction ids are 1-based positions in the file, as pycocotools ``loadRes`` numbers them.
        """
        if self._db.one("SELECT 1 FROM prediction_sets WHERE name = ?", [name]):
            raise ProjectError(f"{self.location} already has a prediction set named {name!r}")
        records = pf.records
        n = len(records)
        ids = np.arange(1, n + 1, dtype=np.int64)
        image_id = np.fromiter((r["image_id"] for r in records), dtype=np.int64, count=n)
        category_id = np.fromiter((r["category_id"] for r in records), dtype=np.int64, count=n)
        score = np.fromiter((r["score"] for r in records), dtype=np.float64, count=n)
        box = np.array([r["bbox"] for r in records], dtype=np.float64).reshape(n, 4)
        order = np.lexsort((ids, image_id))  # by image, then file order
        arrays = {
            "id": ids[order],
            "image_id": image_id[order],
            "category_id": category_id[order],
            "score": score[order],
            "box": np.ascontiguousarray(box[order]),
        }
        with self._db.atomic():
            set_id = self._db.insert_id(
                "INSERT INTO prediction_sets (name, source_path, imported_at, has_segmentation, count) "
                "VALUES (?, ?, ?, ?, ?)",
                [name, str(Path(pf.path).resolve()), now(), int(pf.has_segmentation), n],
            )
            self.put_arrays(f"predictions:{set_id}", arrays)
            self._db.copy_rows(
                "prediction_shapes",
                ("set_id", "id", "image_id", "segmentation", "extra"),
                shape_rows(set_id, records),
            )
            if activate or self.active_set_id() is None:
                self.set_meta("active_prediction_set", set_id)
                self.delete_meta("active_prediction_sets")  # review the new set on its own
            self.add_warnings(pf.warnings)
        return set_id

    def prediction_sets(self) -> list[dict]:
        """All prediction sets."""
        return self._db.dicts("SELECT * FROM prediction_sets ORDER BY id")

    def prediction_set(self, set_id: int) -> dict | None:
        """One prediction set (id, name, source_path, imported_at, has_segmentation, count)."""
        rows = self._db.dicts("SELECT * FROM prediction_sets WHERE id = ?", [set_id])
        return rows[0] if rows else None

    def active_set_id(self) -> int | None:
        """The id of the active prediction set, or None."""
        value = self.get_meta("active_prediction_set")
        return None if value is None else int(value)

    def resolve_set(self, name: str | None) -> int:
        """The id of the named prediction set (the active one for None)."""
        if name is None:
            set_id = self.active_set_id()
            if set_id is None:
                raise ProjectError(
                    f"{self.location} has no predictions; add some with add-predictions"
                )
            return set_id
        found = self._db.scalar("SELECT id FROM prediction_sets WHERE name = ?", [name])
        if found is None:
            names = ", ".join(s["name"] for s in self.prediction_sets()) or "none"
            raise ProjectError(
                f"{self.location} has no prediction set named {name!r} (it has: {names})"
            )
        return int(found)

    def resolve_sets(self, spec: str | None) -> list[int]:
        """The ids of the sets a ``--predictions`` value names: one name, names separated by
        commas ("A,B"), ``all``, or None for the sets reviewed by default (the active ones)."""
        if spec is None:
            ids = self.active_sets()
            if not ids:
                raise ProjectError(
                    f"{self.location} has no predictions; add some with add-predictions"
                )
            return ids
        exact = self._db.scalar("SELECT id FROM prediction_sets WHERE name = ?", [spec])
        if exact is not None:  # a set whose name has a comma (or is "all")
            return [int(exact)]
        if spec.strip().lower() == "all":
            ids = [int(s["id"]) for s in self.prediction_sets()]
            if not ids:
                raise ProjectError(
                    f"{self.location} has no predictions; add some with add-predictions"
                )
            return ids
        names = [n.strip() for n in spec.split(",") if n.strip()]
        if not names:
            raise ProjectError("--predictions names no prediction set")
        return sorted({self.resolve_set(n) for n in names})

    def set_active(self, name: str) -> None:
        """Make the named prediction set the active one (reviewed on its own)."""
        set_id = self.resolve_set(name)
        with self._db.atomic():
            self.set_meta("active_prediction_set", set_id)
            self.delete_meta("active_prediction_sets")

    def prediction_arrays(self, set_id: int) -> dict[str, np.ndarray]:
        """A prediction set as columns (id, image_id, category_id, score, box), sorted by image
        then id. Prediction sets never change, so the columns are kept in memory once read."""
        cache = self.__dict__.setdefault("_prediction_cache", {})
        if set_id not in cache:
            arrays = self.get_arrays(f"predictions:{set_id}")
            if not arrays:
                raise ProjectError(f"{self.location} has no prediction set {set_id}")
            cache.clear()  # keep one set in memory
            cache[set_id] = arrays
        return cache[set_id]

    def prediction_segmentations(self, set_id: int) -> dict[int, str]:
        """Prediction id -> its segmentation as JSON text, for the predictions that have one."""
        return dict(
            self._db.rows(
                "SELECT id, segmentation FROM prediction_shapes "
                "WHERE set_id = ? AND segmentation IS NOT NULL",
                [set_id],
            )
        )

    def predictions_for_image(self, set_id: int, image_id: int) -> list[dict]:
        """The predictions of one set on one image, in file order."""
        arr = self.prediction_arrays(set_id)
        lo, hi = np.searchsorted(arr["image_id"], [image_id, image_id + 1])
        return self._prediction_dicts(set_id, arr, np.arange(lo, hi))

    def prediction(self, set_id: int, prediction_id: int) -> dict | None:
        """One prediction by its 1-based id in its results file."""
        arr = self.prediction_arrays(set_id)
        pos = np.flatnonzero(arr["id"] == prediction_id)
        found = self._prediction_dicts(set_id, arr, pos)
        return found[0] if found else None

    def _prediction_dicts(
        self, set_id: int, arr: dict[str, np.ndarray], positions: np.ndarray
    ) -> list[dict]:
        ids = [int(arr["id"][p]) for p in positions]
        shapes: dict[int, tuple] = {}
        if ids:
            for pid, seg, extra in self._db.rows(
                "SELECT id, segmentation, extra FROM prediction_shapes "
                f"WHERE set_id = ? AND id IN ({self._db.marks(len(ids))})",
                [set_id, *ids],
            ):
                shapes[pid] = (seg, extra)
        out = []
        for p, pid in zip(positions, ids, strict=True):
            seg, extra = shapes.get(pid, (None, None))
            rec = {
                "set_id": set_id,
                "id": pid,
                "image_id": int(arr["image_id"][p]),
                "category_id": int(arr["category_id"][p]),
                "score": float(arr["score"][p]),
                "bbox": [float(v) for v in arr["box"][p]],
                "segmentation": None if seg is None else json.loads(seg),
            }
            if extra:
                rec["extra"] = json.loads(extra)
            out.append(rec)
        return out
