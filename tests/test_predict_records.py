"""COCO records: boxes as x, y, width, height; masks as the RLE pycocotools would write."""

from __future__ import annotations

import numpy as np
import pytest
from pycocotools import mask as mask_utils

from labelfix.core.predict.classes import map_classes
from labelfix.core.predict.detections import Detections
from labelfix.core.predict.records import coco_records, rle_from_crop


@pytest.mark.parametrize("seed", range(40))
def test_rle_from_crop_equals_encoding_the_full_mask(seed):
    rng = np.random.default_rng(seed)
    h, w = (int(v) for v in rng.integers(1, 40, 2))
    ch, cw = int(rng.integers(1, h + 1)), int(rng.integers(1, w + 1))
    y0, x0 = int(rng.integers(0, h - ch + 1)), int(rng.integers(0, w - cw + 1))
    crop = (rng.uniform(size=(ch, cw)) < rng.uniform(0.1, 0.9)).astype(np.uint8)
    if seed % 5 == 0:
        crop[:] = 1
    full = np.zeros((h, w), np.uint8, order="F")
    full[y0 : y0 + ch, x0 : x0 + cw] = crop
    expected = mask_utils.encode(full)
    got = rle_from_crop(crop, y0, x0, h, w)
    assert got == {"size": [h, w], "counts": expected["counts"].decode("ascii")}


def test_rle_of_an_empty_mask():
    expected = mask_utils.encode(np.zeros((4, 3), np.uint8, order="F"))["counts"].decode()
    assert rle_from_crop(np.zeros((0, 0), np.uint8), 0, 0, 4, 3)["counts"] == expected


def test_records_map_classes_round_boxes_and_drop_unmapped():
    mapping = map_classes({0: "person", 1: "cat"}, {7: "person"})
    det = Detections(
        np.array([[1.23456, 2, 11.5, 22.25], [0, 0, 5, 5]], np.float32),
        np.array([0.9, 0.8], np.float32),
        np.array([0, 1]),
        [(2, 1, np.ones((20, 10), np.uint8)), (0, 0, np.ones((5, 5), np.uint8))],
        (30, 20),
    )
    (record,) = coco_records(5, det, mapping)
    assert record["image_id"] == 5 and record["category_id"] == 7
    assert record["bbox"] == [1.235, 2.0, 10.265, 20.25]
    assert record["score"] == float(np.float32(0.9))
    rle = dict(record["segmentation"], counts=record["segmentation"]["counts"].encode())
    assert mask_utils.area(rle) == 200 and record["segmentation"]["size"] == [30, 20]
