"""Polygon predictions on the reader's fast path: the column test takes exactly the polygon
lists the per-record test takes, and the boxes derived from polygons in batches (one
pycocotools call per image size) are the per-record ``toBbox(merge(frPyObjects(...)))``."""

from __future__ import annotations

import numpy as np
from pycocotools import mask as mask_utils

from labelfix.core.coco import read_predictions
from labelfix.core.coco_masks import _polygons_ok, derive_boxes, polygons_ok

from coco_cases import CATEGORY_IDS, SIZES, prediction, write_json


def _segmentations(rng: np.random.Generator, sides: np.ndarray) -> list:
    out: list = []
    for side in sides[:-4].tolist():
        parts = []
        for _ in range(int(rng.integers(0, 4))):
            n = int(rng.choice([4, 5, 6, 8, 8, 12, 12, 13]))
            part = rng.uniform(-1.05 * side, 2.05 * side, n).round(2).tolist()
            kind = rng.random()
            if kind < 0.03:
                part[0] = True
            elif kind < 0.06:
                part[0] = float("inf")
            elif kind < 0.09:
                part[0] = 2**80
            elif kind < 0.12:
                part[0] = int(part[0])
            elif kind < 0.14:
                part = "x"
            elif kind < 0.16:
                part = []
            parts.append(part)
        out.append(parts if rng.random() > 0.03 else rng.uniform(0, 5, 6).tolist())
    out += [None, {"size": [1, 1], "counts": "1"}, "polygon", [[1e308, 1e308, 1e308, 0, 0, 0]]]
    return out


def test_the_column_test_takes_what_the_record_test_takes() -> None:
    rng = np.random.default_rng(0)
    sides = rng.choice([100, 200, 640], size=3004)
    segs = _segmentations(rng, sides)
    expected = [
        type(seg) is list and _polygons_ok(seg, -float(side), 2.0 * side)
        for seg, side in zip(segs, sides.tolist(), strict=True)
    ]
    assert 300 < sum(expected) < len(segs) - 300
    assert polygons_ok(segs, sides).tolist() == expected
    plain = [seg for seg, ok in zip(segs, expected, strict=True) if ok]  # numbers only: numpy
    assert polygons_ok(plain, np.full(len(plain), 640)).all()


def test_boxes_from_polygons_in_batches_are_each_records(tmp_path) -> None:
    rng = np.random.default_rng(1)
    records = []
    for k in range(400):
        image_id = 1 + k % 2
        h, w = SIZES[image_id]
        parts = [
            rng.uniform(-0.5 * w, 1.5 * w, 2 * int(rng.integers(3, 9))).round(2).tolist()
            for _ in range(1 + (k % 5 == 0))
        ]
        records.append(prediction(image_id=image_id, bbox=..., segmentation=parts))
    pf = read_predictions(write_json(tmp_path, records, "p.json"), SIZES, CATEGORY_IDS)
    for r in pf.records:
        h, w = SIZES[r["image_id"]]
        rle = mask_utils.merge(mask_utils.frPyObjects(r["segmentation"], h, w))
        assert r["bbox"] == mask_utils.toBbox(rle).tolist()
    assert pf.columns["box"].tolist() == [r["bbox"] for r in pf.records]
    again = [{"image_id": r["image_id"], "segmentation": r["segmentation"]} for r in records]
    derive_boxes(again, list(range(len(again))), SIZES)
    assert [r["bbox"] for r in again] == [r["bbox"] for r in pf.records]
