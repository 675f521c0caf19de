"""core.matching against pycocotools COCOeval on the real shared COCO data (boxes and masks)."""

from __future__ import annotations

import contextlib
import copy
import io
import json
from pathlib import Path

import numpy as np
import pytest
from pycocotools import mask as mask_utils
from pycocotools.coco import COCO
from pycocotools.cocoeval import COCOeval

from labelfix.core.matching import (
    FP,
    IGNORED,
    TP,
    ImageLabels,
    ImageMatches,
    ImagePredictions,
    _match_in_processes,
    average_precision,
    count_labels,
    iou_matrix,
    match_image,
    match_many,
)

DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data"
VAL100 = DATA / "coco_val2014_100"
REAL81 = DATA / "coco_real81"

CASES = {
    "val100-bbox": (
        VAL100 / "instances_val2014_100.json",
        VAL100 / "instances_val2014_fakebbox100_results.json",
        "bbox",
    ),
    "val100-segm": (
        VAL100 / "instances_val2014_100.json",
        VAL100 / "instances_val2014_fakesegm100_results.json",
        "segm",
    ),
    "real81-bbox": (
        REAL81 / "annotations" / "instances_real81.json",
        REAL81 / "predictions" / "centernet_bbox_results.json",
        "bbox",
    ),
}


# --- building our inputs straight from the JSON --------------------------------------------------


def _label_rle(ann: dict, height: int, width: int) -> dict:
    """The annotation's mask as a compressed RLE, as pycocotools annToRLE makes it."""
    segm = ann["segmentation"]
    if isinstance(segm, list):
        return mask_utils.merge(mask_utils.frPyObjects(segm, height, width))
    if isinstance(segm["counts"], list):
        return mask_utils.frPyObjects(segm, height, width)
    return segm


def _labels_by_image(gt: dict, masks: bool) -> dict[int, ImageLabels]:
    anns: dict[int, list[dict]] = {img["id"]: [] for img in gt["images"]}
    for ann in gt["annotations"]:
        anns[ann["image_id"]].append(ann)
    sizes = {img["id"]: (img["height"], img["width"]) for img in gt["images"]}
    return {
        image_id: ImageLabels(
            ids=np.array([a["id"] for a in group], dtype=np.int64),
            category_ids=np.array([a["category_id"] for a in group], dtype=np.int64),
            boxes=np.array([a["bbox"] for a in group], dtype=np.float64).reshape(-1, 4),
            iscrowd=np.array([bool(a["iscrowd"]) for a in group], dtype=bool),
            areas=np.array([a["area"] for a in group], dtype=np.float64),
            rles=[_label_rle(a, *sizes[image_id]) for a in group] if masks else None,
        )
        for image_id, group in anns.items()
    }


def _predictions_by_image(
    results: list[dict], image_ids: list[int], masks: bool
) -> dict[int, ImagePredictions]:
    """Predictions per image; ids are the 1-based position in the results, as loadRes numbers them."""
    rows: dict[int, list[tuple[int, dict]]] = {i: [] for i in image_ids}
    for index, r in enumerate(results, start=1):
        rows[r["image_id"]].append((index, r))
    out = {}
    for image_id, group in rows.items():
        rles = [r["segmentation"] for _, r in group] if masks else None
        boxes = mask_utils.toBbox(rles) if masks and rles else [r.get("bbox") for _, r in group]
        out[image_id] = ImagePredictions(
            ids=np.array([i for i, _ in group], dtype=np.int64),
            category_ids=np.array([r["category_id"] for _, r in group], dtype=np.int64),
            scores=np.array([r["score"] for _, r in group], dtype=np.float64),
            boxes=np.array(boxes, dtype=np.float64).reshape(-1, 4),
            rles=rles,
        )
    return out


# --- the pycocotools oracle ------------------------------------------------------------------


def _run_cocoeval(gt: dict, results: list[dict], iou_type: str) -> COCOeval:
    with contextlib.redirect_stdout(io.StringIO()):
        coco_gt = COCO()
        coco_gt.dataset = copy.deepcopy(gt)
        coco_gt.createIndex()
        coco_dt = coco_gt.loadRes(copy.deepcopy(results))
        evaluator = COCOeval(coco_gt, coco_dt, iou_type)
        evaluator.evaluate()
        evaluator.accumulate()
        evaluator.summarize()
    return evaluator


def _expected(evaluator: COCOeval, iou_index: int) -> dict[int, tuple[int, int]]:
    """Prediction id -> (outcome, matched label id or -1) from evalImgs (areaRng all, maxDets 100)."""
    expected = {}
    for e in evaluator.evalImgs:
        if e is None or list(e["aRng"]) != [0, 1e10]:
            continue
        for k, dt_id in enumerate(e["dtIds"]):
            match = int(e["dtMatches"][iou_index, k])
            if e["dtIgnore"][iou_index, k]:
                expected[dt_id] = (IGNORED, match or -1)
            else:
                expected[dt_id] = (TP if match else FP, match or -1)
    return expected


# --- the test -------------------------------------------------------------------------------


@pytest.fixture(scope="module", params=sorted(CASES))
def case(request: pytest.FixtureRequest) -> dict:
    gt_path, results_path, iou_type = CASES[request.param]
    if not gt_path.exists() or not results_path.exists():
        pytest.skip(f"shared data absent: {gt_path.parent}")
    gt = json.loads(gt_path.read_text())
    results = json.loads(results_path.read_text())
    masks = iou_type == "segm"
    image_ids = sorted(img["id"] for img in gt["images"])
    labels = _labels_by_image(gt, masks)
    preds = _predictions_by_image(results, image_ids, masks)
    items = [(preds[i], labels[i]) for i in image_ids]
    return {
        "evaluator": _run_cocoeval(gt, results, iou_type),
        "items": items,
        "image_ids": image_ids,
        "geometry": "masks" if masks else "boxes",
        "categories": {c["id"] for c in gt["categories"]},
    }


def _ours(case: dict) -> list[ImageMatches]:
    return [match_image(p, lab, 0.5, 100, case["geometry"]) for p, lab in case["items"]]


def test_outcomes_equal_pycocotools(case: dict) -> None:
    expected = _expected(case["evaluator"], iou_index=0)
    n_tp = n_checked = 0
    for (preds, _), matches in zip(case["items"], _ours(case), strict=True):
        for k, pred_id in enumerate(preds.ids.tolist()):
            if int(preds.category_ids[k]) not in case["categories"]:
                continue  # pycocotools does not evaluate unknown categories
            want = expected.get(pred_id, (IGNORED, -1))  # absent: beyond maxDets
            got = (int(matches.outcome[k]), int(matches.annotation_id[k]))
            assert got == want, f"prediction {pred_id}"
            n_checked += 1
            n_tp += got[0] == TP
    assert n_checked > 500 and n_tp > 100


def test_iou_matrix_bit_identical(case: dict) -> None:
    evaluator = case["evaluator"]
    for image_id, (preds, labels) in zip(case["image_ids"], case["items"], strict=True):
        ours = iou_matrix(preds, labels, case["geometry"])
        for cat in np.unique(preds.category_ids).tolist():
            theirs = evaluator.ious.get((image_id, cat))
            rows = np.flatnonzero(preds.category_ids == cat)
            cols = np.flatnonzero(labels.category_ids == cat)
            if theirs is None or len(theirs) == 0:
                continue
            rows = rows[np.argsort(-preds.scores[rows], kind="mergesort")][:100]
            assert np.array_equal(ours[np.ix_(rows, cols)], theirs)


def test_average_precision_equals_stats(case: dict) -> None:
    preds = [p for p, _ in case["items"]]
    n_labels = count_labels(lab for _, lab in case["items"])
    ap = average_precision(preds, _ours(case), n_labels)
    assert ap == pytest.approx(case["evaluator"].stats[1], abs=1e-9)


def test_match_many_equals_match_image(case: dict) -> None:
    single = _ours(case)
    many = match_many(case["items"], geometry=case["geometry"])
    in_processes = _match_in_processes(case["items"], 0.5, 100, case["geometry"], workers=2)
    for batched in (many, in_processes):
        for a, b in zip(batched, single, strict=True):
            np.testing.assert_array_equal(a.outcome, b.outcome)
            np.testing.assert_array_equal(a.annotation_id, b.annotation_id)
            np.testing.assert_array_equal(a.iou, b.iou)
            np.testing.assert_array_equal(a.ious, b.ious)


def test_stricter_threshold_matches_pycocotools(case: dict) -> None:
    """At IoU 0.75 (iouThrs index 5) outcomes and AP (stats[2]) still agree."""
    expected = _expected(case["evaluator"], iou_index=5)
    threshold = float(case["evaluator"].params.iouThrs[5])
    ours = [match_image(p, lab, threshold, 100, case["geometry"]) for p, lab in case["items"]]
    for (preds, _), matches in zip(case["items"], ours, strict=True):
        for k, pred_id in enumerate(preds.ids.tolist()):
            if int(preds.category_ids[k]) in case["categories"]:
                want = expected.get(pred_id, (IGNORED, -1))
                assert (int(matches.outcome[k]), int(matches.annotation_id[k])) == want
    n_labels = count_labels(lab for _, lab in case["items"])
    ap = average_precision([p for p, _ in case["items"]], ours, n_labels)
    assert ap == pytest.approx(case["evaluator"].stats[2], abs=1e-9)
