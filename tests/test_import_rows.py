"""The rows an import writes: the usual records' segmentations are encoded all at once, and
the rows are the ones the per-record functions make (:func:`annotation_row` of each label,
:func:`shape_rows` of the predictions' segmentations and unknown keys)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from labelfix.core.coco import read_predictions
from labelfix.core.project import import_project
from labelfix.core.store import DatabaseError, Store
from labelfix.core.store.records import annotation_row, annotation_rows, shape_rows

from coco_cases import (
    CATEGORY_IDS,
    SIZES,
    prediction,
    rle_of,
    uncompressed_rle_of,
    valid_gt,
    write_json,
)
from helpers import sql


def test_stored_shape_rows_are_the_records_rows(tmp_path: Path) -> None:
    rng = np.random.default_rng(0)
    mask = rng.random((100, 200)) < 0.3
    records = [
        prediction(segmentation=rle_of(mask)),  # RLE beside a box
        prediction(bbox=..., segmentation=rle_of(mask)),  # box from the mask
        prediction(),  # box only: no row
        prediction(segmentation=[[1, 2, 30, 2, 30, 40]], note="kept"),  # unknown key
        prediction(segmentation=uncompressed_rle_of(mask)),
        prediction(image_id=2, segmentation=rle_of(rng.random((50, 60)) < 0.5), bbox=...),
        prediction(image_id=1.0, segmentation=[[1, 2, 30, 2, 30, 40], []]),  # read leniently
        prediction(source={"model": "x"}),  # unknown key, no segmentation
        prediction(segmentation=None),  # box only, as loadRes reads it
    ]
    gt = write_json(tmp_path, valid_gt(), "gt.json")
    pred = write_json(tmp_path, records, "pred.json")
    import_project(tmp_path / "p.labelfix", gt, None, pred, "model")
    expected = list(shape_rows(1, read_predictions(pred, SIZES, CATEGORY_IDS).records, range(9)))
    with Store.open(tmp_path / "p.labelfix") as store:
        stored = sql(store, "SELECT * FROM prediction_shapes ORDER BY id").fetchall()
        segmentations = store.prediction_segmentations(1)
        first_image = store.prediction_segmentations(1, (1, 2))
        on_image = {p["id"]: p["segmentation"] for p in store.predictions_for_image(1, 1)}
    # the compressed RLEs without unknown keys (predictions 1, 2 and 6) are kept as columns,
    # the rest as rows; read back, every segmentation is the record's
    assert stored == [row for row in expected if row[1] not in (1, 2, 6)]
    assert [row[1] for row in stored] == [4, 5, 7, 8]
    assert sorted(segmentations) == [1, 2, 4, 5, 6, 7]
    assert {k: json.loads(v) for k, v in segmentations.items()} == {
        row[1]: json.loads(row[3]) for row in expected if row[3] is not None
    }
    assert sorted(first_image) == [1, 2, 4, 5, 7]
    assert on_image == {row[1]: None if row[3] is None else json.loads(row[3])
                        for row in expected if row[2] == 1} | {3: None, 9: None}  # fmt: skip


def test_label_rows_are_each_records_row() -> None:
    mask = {"size": [100, 200], "counts": "0f3"}
    polygon = [[10.5, 10.0, 40.5, 10.0, 40.5, 50.0]]
    base = {"id": 1, "image_id": 1, "category_id": 1, "bbox": [1.0, 2, 3, 4.5]}
    records = [
        {**base, "segmentation": polygon, "area": 12.5, "iscrowd": 0},
        {**base, "id": 2, "segmentation": mask, "iscrowd": 1},
        {**base, "id": 3},  # no segmentation
        {**base, "id": 4, "segmentation": [], "iscrowd": True},  # box only, boolean crowd
        {**base, "id": 5, "segmentation": None},
        {**base, "id": 6.0, "segmentation": [polygon[0], []]},  # float id, an empty part
        {**base, "id": 7, "segmentation": polygon, "note": {"by": "me"}},  # unknown key
        {**base, "id": 8, "segmentation": [[1, 2, 3, 4, 5, 6]], "area": 10**30},
    ]
    assert list(annotation_rows(records, 3)) == [
        annotation_row(r, i) for i, r in enumerate(records, 3)
    ]


def test_label_rows_without_as_read_for_a_bulk_insert() -> None:
    # the usual records' rows leave out as_read (None for them: inserted as NULL, not bound),
    # the others' rows go whole to ``others``; together they are every record's row
    polygon = [[10.5, 10.0, 40.5, 10.0, 40.5, 50.0]]
    base = {"id": 1, "image_id": 1, "category_id": 1, "bbox": [1.0, 2, 3, 4.5]}
    records = [
        {**base, "segmentation": polygon, "area": 12.5, "iscrowd": 0},
        {**base, "id": 2, "segmentation": [], "iscrowd": True},  # boolean crowd: as read
        {**base, "id": 3},
        {**base, "id": 4.0, "segmentation": polygon},  # float id: as read
        {**base, "id": 5, "segmentation": polygon, "note": 1},  # unknown key
    ]
    others: list[tuple] = []
    usual = list(annotation_rows(records, 10, others))
    expected = [annotation_row(r, i) for i, r in enumerate(records, 10)]
    assert usual == [row[:-1] for row in expected if row[-1] is None and row[12] == "{}"]
    assert [row[1] for row in usual] == [10, 12]
    assert others == [row for row in expected if row[1] not in (10, 12)]


def test_stored_label_rows_are_the_records_rows(tmp_path: Path) -> None:
    gt = valid_gt()
    polygon = [[10, 10, 30, 10, 30, 40, 10, 40]]
    gt["annotations"] += [
        {"id": 9, "image_id": 1, "category_id": 1, "bbox": [1, 2, 3, 4], "iscrowd": False},
        {"id": 10.0, "image_id": 2, "category_id": 3, "bbox": [1, 2, 3, 4], "segmentation": None},
        {"id": 11, "image_id": 1, "category_id": 1, "bbox": [1, 2, 3, 4], "segmentation": polygon},
    ]
    path = write_json(tmp_path, gt, "gt.json")
    import_project(tmp_path / "p.labelfix", path, None)
    expected = [annotation_row(json.loads(json.dumps(a)), i)
                for i, a in enumerate(gt["annotations"])]  # fmt: skip
    with Store.open(tmp_path / "p.labelfix") as store:
        stored = sql(
            store,
            "SELECT id, position, image_id, category_id, x, y, w, h, area, segmentation, "
            "iscrowd, has_iscrowd, extra, as_read FROM annotations ORDER BY position",
        ).fetchall()
    assert stored == expected


def test_an_imported_project_checks_references_when_opened(tmp_path: Path) -> None:
    # the build leaves the references to the import's own checks; the opened project has
    # SQLite's foreign keys on, so an edit cannot point a label at an unknown image
    path = write_json(tmp_path, valid_gt(), "gt.json")
    import_project(tmp_path / "p.labelfix", path, None)
    with Store.open(tmp_path / "p.labelfix") as store:
        assert sql(store, "PRAGMA foreign_keys").fetchone()[0] == 1
        with pytest.raises(DatabaseError):
            sql(store, "UPDATE annotations SET image_id = 999 WHERE id = 7")
