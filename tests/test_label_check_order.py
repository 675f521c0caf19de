"""The labels' checks: the fast test per record, with its polygons tested together after the
loop and the full checks and box warnings run afterwards in file order, say exactly what the
full check of each record, one by one in file order, says (the definition)."""

from __future__ import annotations

import copy
from typing import Any

import numpy as np
import pytest

from labelfix.core.coco import (
    _AnnotationContext,
    _check_annotation,
    _check_annotation_records,
    _Report,
)

from coco_cases import CATEGORY_IDS, SIZES, uncompressed_rle_of

POLYGON = [[10.5, 10.0, 40.5, 10.0, 40.5, 50.0]]


def _label(k: int, **changes: Any) -> dict[str, Any]:
    ann = {
        "id": 100 + k,
        "image_id": 1,
        "category_id": 1,
        "bbox": [10.5, 10.0, 30.0, 40.0],
        "area": 600.0,
        "iscrowd": 0,
        "segmentation": copy.deepcopy(POLYGON),
    }
    ann.update(changes)
    return {key: value for key, value in ann.items() if value is not ...}


def _one_by_one(annotations: list[Any], start: int = 0) -> tuple[list, list, list, list]:
    ctx = _AnnotationContext(dict(SIZES), set(CATEGORY_IDS), _Report("gt.json"))
    for i, ann in enumerate(annotations, start):
        _check_annotation(i, ann, ctx)
    return _said(ctx)


def _batch(annotations: list[Any], start: int = 0) -> tuple[list, list, list, list]:
    ctx = _AnnotationContext(dict(SIZES), set(CATEGORY_IDS), _Report("gt.json"))
    _check_annotation_records(annotations, ctx, start)
    return _said(ctx)


def _said(ctx: _AnnotationContext) -> tuple[list, list, list, list]:
    report = ctx.report
    return report.errors, report.warnings, report.all_warnings(), list(ctx.pending)


def _mixed() -> list[Any]:
    crowd = np.zeros((100, 200), bool)
    crowd[5:20, 30:60] = True
    return [
        _label(0),
        _label(1, bbox=[-5.0, 10.0, 30.0, 40.0]),  # a box warning, fast record
        _label(2, iscrowd=1, segmentation=uncompressed_rle_of(crowd)),  # full check (RLE)
        _label(3, segmentation=[[10.0, 10.0, 9e9, 10.0, 40.0, 50.0]]),  # bad polygon
        _label(4, bbox=[190.0, 10.0, 30.0, 40.0]),  # a box warning after a full check
        _label(5, id=200, image_id=99),  # unknown image: full check, takes id 200 first
        _label(6, id=200),  # ... so this one is the duplicate
        _label(7, id=107.0),  # a float id: read leniently
        _label(8, iscrowd=True),  # a boolean iscrowd
        _label(9, segmentation=None),  # box only
        _label(10, segmentation=[POLYGON[0], []]),  # an empty part beside a real one
        _label(11, bbox=[10.0, 10.0, 0.0, 40.0], segmentation=...),  # zero width, no shape
        "not a label",
        _label(13, segmentation=[[1, 2, 3, 4]]),  # too few points, in the middle of the batch
        _label(14, category_id=2),  # unknown category
        _label(15),
    ]


def test_mixed_labels_say_what_one_by_one_says() -> None:
    labels = _mixed()
    errors, warnings, assumed, pending = _batch(labels)
    assert (errors, warnings, assumed, pending) == _one_by_one(labels)
    records = [p.record for p in errors]
    assert "annotations[3] (id 103).segmentation[0]" in records  # the bad polygon, named
    assert "annotations[13] (id 113).segmentation[0]" in records
    assert "annotations[6] (id 200).id" in records  # the duplicate, not its first use
    assert [p.record for p in warnings][:2] == [
        "annotations[1] (id 101).bbox",
        "annotations[4] (id 104).bbox",
    ]


@pytest.mark.parametrize("start", [0, 1000])
def test_every_order_of_the_mixed_labels(start: int) -> None:
    rng = np.random.default_rng(start)
    labels = _mixed()
    for _ in range(20):
        shuffled = [labels[k] for k in rng.permutation(len(labels))]
        assert _batch(shuffled, start) == _one_by_one(shuffled, start)


def test_a_bad_polygon_among_many_names_its_record() -> None:
    labels = [_label(k) for k in range(500)]
    labels[250]["segmentation"] = [[10.0, 10.0, float("inf"), 10.0, 40.0, 50.0]]
    labels[251]["segmentation"] = [[10.0, 10.0, 40.0, 10.0, 40.0]]  # odd count
    errors, *_ = said = _batch(labels)
    assert said == _one_by_one(labels)
    assert [p.record for p in errors] == [
        "annotations[250] (id 350).segmentation[0]",
        "annotations[251] (id 351).segmentation[0]",
    ]
