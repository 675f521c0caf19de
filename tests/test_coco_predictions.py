"""Tests for the strict COCO reader (core/coco.py): prediction files, and the real data."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from pycocotools import mask as mask_utils
from pycocotools.coco import COCO

from labelfix.core.coco import (
    GroundTruth,
    read_ground_truth,
    read_predictions,
)

from coco_cases import (
    CATEGORY_IDS,
    REAL81,
    SIZES,
    VAL100,
    assert_pred_error,
    crowd_mask,
    pred_error,
    prediction,
    read_pred,
    rle_of,
    uncompressed_rle_of,
    write_json,
)

# ----------------------------------------------------------------------------- predictions


def test_valid_bbox_predictions(tmp_path: Path) -> None:
    records = [prediction(), prediction(image_id=2, category_id=3, score=1, extra="kept")]
    result = read_pred(tmp_path, records)
    assert result.records == records and result.has_segmentation is False
    assert result.warnings == []


def test_prediction_category_ids_may_be_any_collection(tmp_path: Path) -> None:
    path = write_json(tmp_path, [prediction()])
    assert len(read_predictions(path, SIZES, [1, 3]).records) == 1


@pytest.mark.parametrize(
    ("data", "reason"),
    [
        ({"annotations": []}, "a ground-truth file?"),
        ({"results": []}, "must be a JSON array of prediction records, got an object"),
        ("x", "must be a JSON array"),
    ],
)
def test_predictions_top_level(tmp_path: Path, data: Any, reason: str) -> None:
    assert_pred_error(tmp_path, data, "top level", reason)


@pytest.mark.parametrize(
    ("changes", "field", "reason"),
    [
        ({"score": ...}, "score", "missing required field"),
        ({"score": "0.5"}, "score", "score must be a number from 0 to 1, got a string '0.5'"),
        ({"score": float("nan")}, "score", "score must be a number from 0 to 1, got a number nan"),
        ({"score": 1.5}, "score", "score must be a number from 0 to 1"),
        ({"score": -0.01}, "score", "score must be a number from 0 to 1"),
        ({"score": True}, "score", "got a boolean True"),
        ({"image_id": 5}, "image_id", "unknown image id 5"),
        ({"image_id": ...}, "image_id", "missing required field"),
        ({"category_id": 2}, "category_id", "unknown category id 2"),
        ({"category_id": "1"}, "category_id", "category id must be an integer"),
        ({"bbox": [1, 2, 3]}, "bbox", "bbox must be 4 finite numbers"),
        ({"bbox": [1, 2, float("-inf"), 3]}, "bbox", "bbox must be 4 finite numbers"),
        ({"bbox": [1, 2, -3, 3]}, "bbox", "must not be negative"),
        ({"bbox": [1, 1e308, 3, 1e308]}, "bbox", "overflows to infinity"),
        ({"bbox": None}, "bbox", "got null"),
        ({"bbox": [1, 2, 10**20, 3]}, "bbox", "bbox must be 4 finite numbers"),
        ({"bbox": [1, 2, 10**400, 3]}, "bbox", "bbox must be 4 finite numbers"),
        ({"score": 10**400}, "score", "score must be a number from 0 to 1"),
        ({"segmentation": [[1, 2, 3, 4, 5, 10**400]]}, "segmentation[0]", "finite"),
        ({"segmentation": [[1, 2, 3, 4]]}, "segmentation[0]", "at least 3 points"),
        ({"segmentation": [[1, 2, 3, 4, 5, 6], [7]]}, "segmentation[1]", "at least 3 points"),
        ({"segmentation": {"size": [50, 60], "counts": "PP"}}, "segmentation.size", "differs"),
    ],
)
def test_prediction_fields(
    tmp_path: Path, changes: dict[str, Any], field: str, reason: str
) -> None:
    records = [prediction() for _ in range(18)]
    records[17] = prediction(**changes)
    assert_pred_error(tmp_path, records, f"[17] (prediction 18).{field}", reason)


def test_prediction_not_object_and_neither_box_nor_mask(tmp_path: Path) -> None:
    err = pred_error(tmp_path, [prediction(), 3, prediction(bbox=...)])
    text = str(err)
    assert "[1]: prediction must be an object, got an integer 3" in text
    assert "[2] (prediction 3): prediction has neither a bbox nor a segmentation" in text


def test_empty_prediction_file_warns(tmp_path: Path) -> None:
    result = read_pred(tmp_path, [])
    assert result.records == [] and not result.has_segmentation
    assert [w.record for w in result.warnings] == ["top level"]


def test_prediction_box_warnings(tmp_path: Path) -> None:
    records = [prediction(bbox=[0, 0, 0, 3]), prediction(image_id=2, bbox=[50, 40, 20, 5])]
    result = read_pred(tmp_path, records)
    assert [(w.record, w.severity) for w in result.warnings] == [
        ("[0] (prediction 1).bbox", "warning"),
        ("[1] (prediction 2).bbox", "warning"),
    ]
    assert "zero-area box" in result.warnings[0].reason
    assert "outside the 60x50 image" in result.warnings[1].reason


def test_segmentation_only_predictions_get_pycocotools_boxes(tmp_path: Path) -> None:
    mask = crowd_mask()
    polygon = [[20.5, 30.0, 80.25, 32.0, 60.0, 90.5], [150, 10, 170, 10, 160, 40]]
    records = [
        prediction(bbox=..., segmentation=rle_of(mask)),
        prediction(bbox=..., segmentation=uncompressed_rle_of(mask)),
        prediction(bbox=..., segmentation=polygon),
        prediction(segmentation=rle_of(mask), bbox=[1, 1, 1, 1]),
    ]
    result = read_pred(tmp_path, copy.deepcopy(records))
    assert result.has_segmentation
    expected = mask_utils.toBbox(rle_of(mask)).tolist()
    assert result.records[0]["bbox"] == expected
    assert result.records[1]["bbox"] == expected
    merged = mask_utils.merge(mask_utils.frPyObjects(polygon, 100, 200))
    assert result.records[2]["bbox"] == mask_utils.toBbox(merged).tolist()
    assert result.records[3]["bbox"] == [1, 1, 1, 1]
    for got, original in zip(result.records, records, strict=True):
        assert {k: v for k, v in got.items() if k != "bbox"} == {
            k: v for k, v in original.items() if k != "bbox"
        }
    assert all(type(v) is float for v in result.records[0]["bbox"])


def test_boxes_from_masks_in_the_columns_only_for_the_store(tmp_path: Path) -> None:
    """The store's import (``boxes_in_records=False``) leaves the boxes derived from clean
    records' masks in the columns only; a record checked one by one (a whole-number float
    image id) still gets its box, and the columns are those of the default read."""
    mask = crowd_mask()
    records = [
        prediction(bbox=..., segmentation=rle_of(mask)),
        prediction(image_id=1.0, bbox=..., segmentation=rle_of(mask)),
        prediction(segmentation=rle_of(mask), bbox=[1, 1, 1, 1]),
    ]
    path = write_json(tmp_path, records, "pred.json")
    default = read_predictions(path, SIZES, CATEGORY_IDS)
    lean = read_predictions(path, SIZES, CATEGORY_IDS, boxes_in_records=False)
    expected = mask_utils.toBbox(rle_of(mask)).tolist()
    assert "bbox" not in lean.records[0]
    assert lean.records[1]["bbox"] == expected and lean.records[2]["bbox"] == [1, 1, 1, 1]
    assert lean.columns is not None and default.columns is not None
    assert lean.columns["box"].tolist() == [expected, expected, [1, 1, 1, 1]]
    for name, column in default.columns.items():
        assert np.array_equal(lean.columns[name], column), name


def test_a_leniently_read_rle_prediction_beside_clean_ones(tmp_path: Path) -> None:
    """A mask prediction checked one by one (its image id a whole-number float) among clean
    ones: its RLE string is stored and its box derived like theirs (this crashed: the
    reader's list of RLE strings named it by a record path, not an index)."""
    mask = crowd_mask()
    records = [
        prediction(bbox=..., segmentation=rle_of(mask)),
        prediction(image_id=1.0, bbox=..., segmentation=rle_of(mask)),
        prediction(image_id=1.0, segmentation=rle_of(mask)),
    ]
    result = read_pred(tmp_path, records)
    expected = mask_utils.toBbox(rle_of(mask)).tolist()
    assert [r["bbox"] for r in result.records] == [expected, expected, [1, 2, 3, 4]]
    assert result.columns is not None and result.columns["box"].tolist()[:2] == [expected] * 2
    assert result.rles is not None and result.rles["place"].tolist() == [0, 1, 2]
    assert [r["image_id"] for r in result.records] == [1, 1, 1]


@pytest.mark.parametrize(
    ("size", "reason"),
    [
        ([100.0, 200], "RLE size must be [height, width] integers, got an array [100.0, 200]"),
        ([100, 200.0], "RLE size must be [height, width] integers"),
        ([True, 200], "RLE size must be [height, width] integers"),
        ([100, 200, 1], "RLE size must be [height, width] integers"),
        ([100], "RLE size must be [height, width] integers"),
        ([200, 100], "RLE size [200, 100] differs from the image's [height, width] [100, 200]"),
        ("100x200", "RLE size must be [height, width] integers"),
    ],
)
def test_rle_sizes_that_only_look_right(tmp_path: Path, size: Any, reason: str) -> None:
    """The column check takes an RLE size only as two integers equal to the image's (a float
    or a bool equal to them is not); the rest get the one-by-one check's message."""
    counts = rle_of(crowd_mask())["counts"]
    good = prediction(bbox=..., segmentation={"size": [100, 200], "counts": counts})
    records = [good, prediction(bbox=..., segmentation={"size": size, "counts": counts}), good]
    assert_pred_error(tmp_path, records, "[1] (prediction 2).segmentation.size", reason)
    assert len(pred_error(tmp_path, records).problems) == 1


def test_mixed_predictions_are_not_segmentation(tmp_path: Path) -> None:
    records = [prediction(bbox=..., segmentation=rle_of(crowd_mask())), prediction()]
    assert read_pred(tmp_path, records).has_segmentation is False


def test_bad_rle_string_in_prediction(tmp_path: Path) -> None:
    records = [prediction(bbox=..., segmentation={"size": [100, 200], "counts": "0000"})]
    assert_pred_error(tmp_path, records, "[0] (prediction 1).segmentation.counts", "cover 0 pixels")
    records = [prediction(segmentation={"size": [100, 200], "counts": "~~"})]
    assert_pred_error(tmp_path, records, "[0] (prediction 1).segmentation.counts", "malformed")


def test_prediction_error_cap(tmp_path: Path) -> None:
    err = pred_error(tmp_path, [prediction(score=2) for _ in range(1000)])
    assert err.total == 1000 and len(err.problems) == 50
    assert str(err).splitlines()[-1] == "  ... and 950 more"


# ----------------------------------------------------------------------------- real data


def need(path: Path) -> Path:
    if not path.exists():
        pytest.skip(f"shared test data not found: {path}")
    return path


def sizes_and_categories(gt: GroundTruth) -> tuple[dict[int, tuple[int, int]], set[int]]:
    sizes = {image["id"]: (image["height"], image["width"]) for image in gt.images}
    return sizes, {category["id"] for category in gt.categories}


def test_real81_ground_truth_and_images() -> None:
    path = need(REAL81 / "annotations" / "instances_real81.json")
    raw = json.loads(path.read_text(encoding="utf-8"))
    gt = read_ground_truth(path, images_dir=need(REAL81 / "images"))
    assert (len(gt.images), len(gt.annotations), len(gt.categories)) == (81, 798, 80)
    assert gt.images == raw["images"] and gt.annotations == raw["annotations"]
    assert all("source" in image for image in gt.images)
    assert list(gt.top) == [
        key for key in raw if key not in ("images", "annotations", "categories")
    ]
    assert sum(1 for a in gt.annotations if a.get("iscrowd")) == 9
    # five of the real JPEGs decode with garbage (libjpeg: "Corrupt JPEG data")
    assert len(gt.warnings) == 5
    assert all("the JPEG data is damaged (Corrupt JPEG data" in w.reason for w in gt.warnings)


def test_real81_predictions() -> None:
    gt = read_ground_truth(need(REAL81 / "annotations" / "instances_real81.json"))
    path = need(REAL81 / "predictions" / "centernet_bbox_results.json")
    result = read_predictions(path, *sizes_and_categories(gt))
    assert len(result.records) == 8100 and not result.has_segmentation
    assert result.records == json.loads(path.read_text(encoding="utf-8"))


def val100_result_files() -> list[Path]:
    if not VAL100.exists():
        return []
    return sorted(VAL100.glob("*results*.json"))


@pytest.mark.parametrize(
    "path", val100_result_files() or [None], ids=lambda p: getattr(p, "name", "absent")
)
def test_val2014_predictions_match_pycocotools(path: Path | None) -> None:
    gt_path = need(VAL100 / "instances_val2014_100.json")
    if path is None:
        pytest.skip("no result files")
    gt = read_ground_truth(gt_path)
    assert len(gt.annotations) == 839
    result = read_predictions(path, *sizes_and_categories(gt))
    raw = json.loads(path.read_text(encoding="utf-8"))
    assert len(result.records) == len(raw)
    coco = COCO()
    coco.dataset = json.loads(gt_path.read_text(encoding="utf-8"))
    coco.createIndex()
    loaded = coco.loadRes(raw)  # numbers records 1..N in file order, derives segm boxes
    for k, record in enumerate(result.records):
        reference = loaded.anns[k + 1]
        assert reference["image_id"] == record["image_id"]
        assert np.asarray(reference["bbox"], dtype=float).tolist() == record["bbox"]
    assert result.has_segmentation == ("segm" in path.name)
