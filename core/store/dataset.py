"""The dataset: images, categories and labels (``annotations``), as imported and as edited."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import Any

import numpy as np

from ..coco import GroundTruth
from ..timing import phase, timed
from .base import ConflictError, ProjectError, Repository, readable_time
from .records import (
    ANNOTATION_SELECT,
    ann_to_record,
    annotation_from_row,
    annotation_row,
    annotation_rows,
    category_row,
    decode_extra,
    dumps,
    image_row,
)

Progress = Callable[[int, int], None]

_ANNOTATION_COLUMNS = (
    "id, position, image_id, category_id, x, y, w, h, area, segmentation, iscrowd, has_iscrowd, "
    "extra, as_read"
)
# the label columns an analysis reads, and their numpy types
LABEL_COLUMNS = ("id", "image_id", "category_id", "x", "y", "w", "h", "iscrowd", "area", "revision")


class DatasetRepository(Repository):
    """The ``images``, ``categories`` and ``annotations`` tables."""

    # ------------------------------------------------------------------ import
    def import_ground_truth(
        self, gt: GroundTruth, images_root: str | Path | None, progress: Progress | None = None
    ) -> None:
        """Load a validated COCO dataset into an empty project, in one transaction."""
        total = len(gt.images) + len(gt.annotations)
        with phase("write SQLite"), self._db.atomic():
            self.begin_dataset(gt.top, gt.path, images_root)
            self.set_meta("warnings", [str(w) for w in gt.warnings])
            self.add_images(gt.images, 0, gt.inferred_sizes)
            self.add_categories(gt.categories)
            if progress:
                progress(len(gt.images), total)
            self.add_annotations(gt.annotations, 0)
            if progress:
                progress(total, total)

    def begin_dataset(
        self, top: dict[str, Any], path: str | Path, images_root: str | Path | None
    ) -> None:
        """Start a dataset in an empty project: the file's other top-level keys, its path and
        the image folder (then :meth:`add_images`, :meth:`add_categories`,
        :meth:`add_annotations` chunk by chunk, inside the caller's transaction)."""
        if self._db.one("SELECT 1 FROM images LIMIT 1"):
            raise ProjectError(f"{self.location} already holds a dataset")
        self.set_meta("dataset_top", top)
        self.set_meta("ground_truth_path", str(Path(path).resolve()))
        if images_root is not None:
            self.set_images_root(images_root)

    def add_images(
        self, images: list[dict], start: int, inferred: dict[int, tuple[int, int]]
    ) -> None:
        """Validated image records (``images[0]`` is record ``start`` of the file)."""
        self._db.copy_rows(
            "images",
            ("id", "position", "file_name", "width", "height", "extra", "as_read"),
            timed((image_row(im, i, inferred) for i, im in enumerate(images, start)), "build rows"),
        )

    def add_categories(self, categories: list[dict]) -> None:
        """The validated category records."""
        self._db.copy_rows(
            "categories",
            ("id", "position", "name", "supercategory", "extra", "as_read"),
            timed((category_row(c, i) for i, c in enumerate(categories)), "build rows"),
        )

    def add_annotations(self, annotations: list[dict], start: int) -> None:
        """Validated label records (``annotations[0]`` is record ``start`` of the file): the
        usual ones without their ``as_read`` (NULL), then the others (ids are the rowids: the
        table is the same whatever the order of the inserts)."""
        names = _ANNOTATION_COLUMNS.split(", ")
        others: list[tuple] = []
        rows = timed(annotation_rows(annotations, start, others), "build rows")
        self._db.copy_rows("annotations", names[:-1], rows)
        self._db.copy_rows("annotations", names, others)

    # ------------------------------------------------------------------ images and categories
    def images(self) -> list[dict]:
        """All images in file order, as rows (``extra`` decoded)."""
        return [decode_extra(r) for r in self._db.dicts("SELECT * FROM images ORDER BY position")]

    def image(self, image_id: int) -> dict | None:
        """One image row, or None."""
        rows = self._db.dicts("SELECT * FROM images WHERE id = ?", [image_id])
        return decode_extra(rows[0]) if rows else None

    def image_ids(self) -> list[int]:
        """Every image id, ascending."""
        return [r[0] for r in self._db.rows("SELECT id FROM images ORDER BY id")]

    def image_sizes(self) -> dict[int, tuple[int, int]]:
        """Image id -> (height, width)."""
        return {r[0]: (r[2], r[1]) for r in self._db.rows("SELECT id, width, height FROM images")}

    def file_names(self) -> dict[int, str]:
        """Image id -> file name."""
        return dict(self._db.rows("SELECT id, file_name FROM images"))

    def categories(self) -> list[dict]:
        """All categories in file order."""
        return [
            decode_extra(r) for r in self._db.dicts("SELECT * FROM categories ORDER BY position")
        ]

    def category_names(self) -> dict[int, str]:
        """Category id -> name."""
        return dict(self._db.rows("SELECT id, name FROM categories ORDER BY position"))

    def frequent_categories(self, limit: int) -> list[int]:
        """The ids of the ``limit`` classes with the most labels (ties: lower id first)."""
        return [
            int(r[0])
            for r in self._db.rows(
                "SELECT category_id, COUNT(*) AS n FROM annotations GROUP BY category_id "
                "ORDER BY n DESC, category_id LIMIT ?",
                [limit],
            )
        ]

    # ------------------------------------------------------------------ labels
    def annotation(self, annotation_id: int) -> dict | None:
        """One label in its current state as a COCO-like dict (see :func:`annotation_from_row`)."""
        row = self._db.one(ANNOTATION_SELECT + " WHERE id = ?", [annotation_id])
        return None if row is None else annotation_from_row(row)

    def annotations_for_image(self, image_id: int) -> list[dict]:
        """The current labels of one image, in file order."""
        rows = self._db.rows(
            ANNOTATION_SELECT + " WHERE image_id = ? ORDER BY position", [image_id]
        )
        return [annotation_from_row(r) for r in rows]

    def iter_annotations(self) -> Iterator[dict]:
        """Every current label in file order (new labels last)."""
        for row in self._db.execute(ANNOTATION_SELECT + " ORDER BY position"):
            yield annotation_from_row(row)

    def label_columns(
        self,
        image_ids: Iterable[int] | None = None,
        *,
        segmentation: bool = False,
        image_range: tuple[int, int] | None = None,
    ) -> tuple[np.ndarray, list[str | None] | None]:
        """The current labels (of these images, or of the images with ``lo <= id < hi`` for
        ``image_range``; all by default) for an analysis, sorted by image then file order: a
        float64 array with :data:`LABEL_COLUMNS` columns (``area`` NaN where the label has none)
        and, with ``segmentation``, each label's segmentation as JSON text."""
        real = self._db.real
        cols = ", ".join(
            real(c)
            if c in ("x", "y", "w", "h")
            else c
            if c != "area"
            else f"COALESCE({real('area')}, 'nan')"
            for c in LABEL_COLUMNS
        )
        sql = f"SELECT {cols}{', segmentation' if segmentation else ''} FROM annotations"
        params: list[int] = []
        if image_range is not None:
            params = [int(image_range[0]), int(image_range[1])]
            sql += " WHERE image_id >= ? AND image_id < ?"
        elif image_ids is not None:
            params = sorted(set(image_ids))
            sql += f" WHERE image_id IN ({self._db.marks(len(params))})"
        rows = self._db.rows(sql + " ORDER BY image_id, position", params)
        width = len(LABEL_COLUMNS)
        if not rows:
            return np.zeros((0, width)), [] if segmentation else None
        if segmentation:
            segs = [r[width] for r in rows]
            rows = [r[:width] for r in rows]
            return np.array(rows, dtype=np.float64), segs
        return np.array(rows, dtype=np.float64), None

    def next_annotation_id(self) -> int:
        """An id above every label id ever used in this project (deleted ones included)."""
        top = self._db.scalar("SELECT MAX(id) FROM annotations")
        used = self.get_meta("max_annotation_id", 0)
        return max(int(top or 0), int(used)) + 1

    def segmentation_forms(self, limit: int) -> dict[str, int]:
        """How the first ``limit`` non-crowd labels (by id: a rowid scan that stops there) store
        their shape: counts of "polygon", "mask" (RLE), "empty" (``[]``) and "none" (no
        segmentation)."""
        rows = self._db.rows(
            "SELECT CASE WHEN segmentation IS NULL THEN 'none' WHEN segmentation = '[]' THEN "
            "'empty' WHEN substr(segmentation, 1, 1) = '[' THEN 'polygon' ELSE 'mask' END, "
            "COUNT(*) FROM (SELECT segmentation FROM annotations WHERE iscrowd = 0 LIMIT ?) AS f "
            "GROUP BY 1",
            [limit],
        )
        return {form: int(n) for form, n in rows}

    def reserve_annotation_ids(self, count: int = 1) -> int:
        """The first of ``count`` new label ids that nobody else will be given (other reviewers
        of a team project included), remembered at once; ids are never reused."""
        with self._db.atomic():
            self._db.lock_changes()
            first = self.next_annotation_id()
            self.set_meta("max_annotation_id", first + max(count, 1) - 1)
        return first

    def next_position(self) -> int:
        """The file-order position for a new label (after all others)."""
        top = self._db.scalar("SELECT MAX(position) FROM annotations")
        return int(top if top is not None else -1) + 1

    def insert_annotation(self, ann: dict, position: int | None = None) -> None:
        """Insert a label given as a COCO-like dict (see :func:`annotation_from_row`)."""
        pos = self.next_position() if position is None else position
        self._db.execute(
            f"INSERT INTO annotations ({_ANNOTATION_COLUMNS}, revision) "
            "VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
            [*annotation_row(ann_to_record(ann), pos), ann.get("revision", 0)],
        )
        if ann["id"] > self.get_meta("max_annotation_id", 0):
            self.set_meta("max_annotation_id", ann["id"])

    def delete_annotation(
        self, annotation_id: int, *, expected_revision: int | None = None
    ) -> None:
        """Delete a label (its full state lives on in the change log; its cached mask goes).
        With ``expected_revision``, only if the label is still at that revision, else
        :class:`ConflictError` (someone else changed it since it was read)."""
        sql, params = "DELETE FROM annotations WHERE id = ?", [annotation_id]
        if expected_revision is not None:
            sql, params = sql + " AND revision = ?", [annotation_id, expected_revision]
        if self._db.execute(sql, params).rowcount == 0 and expected_revision is not None:
            raise self.label_conflict(annotation_id, expected_revision)
        self.forget_label_mask(annotation_id)

    def label_conflict(self, annotation_id: int, expected_revision: int | None) -> ConflictError:
        """The error for a label that is no longer at the revision a change was based on:
        who changed it last and when (from the change log), and its state now."""
        current = self.annotation(annotation_id)
        last = self.last_label_change(annotation_id)
        who = (last or {}).get("reviewer") or "someone"
        when = readable_time((last or {}).get("time"))
        what = "deleted" if current is None else "changed"
        return ConflictError(
            f"label {annotation_id} was {what} by {who} at {when} after you read it "
            f"(revision {expected_revision}, now "
            f"{'gone' if current is None else current['revision']}); nothing was changed: "
            "look at it again.",
            annotation_id=annotation_id,
            reviewer=(last or {}).get("reviewer"),
            time=(last or {}).get("time"),
            current=current,
        )

    def update_annotation(
        self, annotation_id: int, *, expected_revision: int | None = None, **fields: Any
    ) -> int:
        """Set category_id, bbox, segmentation, area, iscrowd and/or as_read (the values as read
        that an export still writes back, see :mod:`labelfix.core.as_read`) of a label; bumps
        its revision and returns the new one. With ``expected_revision`` the write is a
        compare-and-set: a label no longer at that revision is left alone and
        :class:`ConflictError` raised."""
        sets: list[str] = []
        params: list[Any] = []
        for key, value in fields.items():
            if key == "bbox":
                sets += ["x = ?", "y = ?", "w = ?", "h = ?"]
                params += list(value)
            elif key == "segmentation":
                sets.append("segmentation = ?")
                params.append(None if value is None else dumps(value))
            elif key in ("category_id", "area", "iscrowd"):
                sets.append(f"{key} = ?")
                params.append(value)
            elif key == "as_read":
                sets.append("as_read = ?")
                params.append(dumps(value) if value else None)
            else:
                raise KeyError(f"cannot update label field {key!r}")
        sets.append("revision = revision + 1")
        where, keys = "id = ?", [annotation_id]
        if expected_revision is not None:
            where, keys = "id = ? AND revision = ?", [annotation_id, expected_revision]
        cursor = self._db.execute(
            f"UPDATE annotations SET {', '.join(sets)} WHERE {where}", [*params, *keys]
        )
        if cursor.rowcount == 0 and expected_revision is not None:
            raise self.label_conflict(annotation_id, expected_revision)
        if "bbox" in fields or "segmentation" in fields:
            self.forget_label_mask(annotation_id)
        revision = self._db.scalar("SELECT revision FROM annotations WHERE id = ?", [annotation_id])
        return -1 if revision is None else int(revision)
