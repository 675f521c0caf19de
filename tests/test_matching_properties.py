"""core.matching against pycocotools COCOeval on small random images (hypothesis)."""

from __future__ import annotations

import contextlib
import io

import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pycocotools import mask as mask_utils
from pycocotools.coco import COCO
from pycocotools.cocoeval import COCOeval

from labelfix.core.matching import (
    FP,
    IGNORED,
    TP,
    ImageLabels,
    ImagePredictions,
    average_precision,
    count_labels,
    match_image,
    match_many,
)

SIZE = 24  # image width and height, small so that equal IoUs (ties) happen often
CATEGORIES = [1, 2, 3]
SETTINGS = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])

# Coordinates on a coarse grid and few distinct scores make IoU and score ties common.
coord = st.integers(0, 5).map(lambda v: v * 4.0)
extent = st.integers(1, 4).map(lambda v: v * 4.0)
box = st.tuples(coord, coord, extent, extent)
area_field = st.sampled_from(["box", "box", "box", -1.0, 2e10])  # outside 'all' -> ignored label
label = st.fixed_dictionaries(
    {
        "box": box,
        "category": st.sampled_from(CATEGORIES),
        "crowd": st.booleans(),
        "area": area_field,
    }
)
score = st.sampled_from([0.1, 0.5, 0.5, 0.9])
prediction = st.fixed_dictionaries(
    {
        "box": box,
        "category": st.sampled_from(CATEGORIES),
        "score": score,
        "copy_of": st.none() | st.integers(0, 5),  # an exact copy of a label's box
    }
)
image = st.tuples(st.lists(label, max_size=6), st.lists(prediction, max_size=12))
scene = st.lists(image, min_size=1, max_size=3)
threshold = st.sampled_from([0.5, 0.5, 0.3, 0.75, 1.0])
max_dets = st.sampled_from([1, 3, 100])


def _polygon(b: tuple[float, float, float, float], flip: bool) -> list[float]:
    """A triangle or quadrilateral inside box ``b`` (so masks are not just boxes)."""
    x, y, w, h = b
    if flip:
        return [x, y, x + w, y, x, y + h]
    return [x, y, x + w, y + h / 2, x + w / 2, y + h, x, y + h / 2]


def _scene_to_coco(images: list, masks: bool) -> tuple[dict, list[dict]]:
    """The generated scene as a COCO ground-truth dict and a results list."""
    gt: dict = {"images": [], "annotations": [], "categories": [{"id": c} for c in CATEGORIES]}
    results: list[dict] = []
    for image_id, (labels, preds) in enumerate(images, start=1):
        gt["images"].append({"id": image_id, "height": SIZE, "width": SIZE})
        for k, lab in enumerate(labels):
            area = lab["area"] if lab["area"] != "box" else lab["box"][2] * lab["box"][3]
            ann = {
                "id": len(gt["annotations"]) + 1,
                "image_id": image_id,
                "category_id": lab["category"],
                "bbox": list(lab["box"]),
                "area": area,
                "iscrowd": int(lab["crowd"]),
                "segmentation": [_polygon(lab["box"], k % 2 == 0)],
            }
            gt["annotations"].append(ann)
        for k, p in enumerate(preds):
            b = p["box"]
            if p["copy_of"] is not None and p["copy_of"] < len(labels):
                b = labels[p["copy_of"]]["box"]
            r = {"image_id": image_id, "category_id": p["category"], "score": p["score"]}
            if masks:
                poly = [_polygon(b, k % 2 == 1)]
                r["segmentation"] = mask_utils.merge(mask_utils.frPyObjects(poly, SIZE, SIZE))
            else:
                r["bbox"] = list(b)
            results.append(r)
    return gt, results


def _our_inputs(gt: dict, results: list[dict], masks: bool) -> list:
    items = []
    for img in gt["images"]:
        anns = [a for a in gt["annotations"] if a["image_id"] == img["id"]]
        rows = [(i, r) for i, r in enumerate(results, start=1) if r["image_id"] == img["id"]]
        rles = [r["segmentation"] for _, r in rows] if masks else None
        labels = ImageLabels(
            ids=np.array([a["id"] for a in anns], dtype=np.int64),
            category_ids=np.array([a["category_id"] for a in anns], dtype=np.int64),
            boxes=np.array([a["bbox"] for a in anns], dtype=np.float64).reshape(-1, 4),
            iscrowd=np.array([bool(a["iscrowd"]) for a in anns], dtype=bool),
            areas=np.array([a["area"] for a in anns], dtype=np.float64),
            rles=[
                mask_utils.merge(mask_utils.frPyObjects(a["segmentation"], SIZE, SIZE))
                for a in anns
            ]
            if masks
            else None,
        )
        preds = ImagePredictions(
            ids=np.array([i for i, _ in rows], dtype=np.int64),
            category_ids=np.array([r["category_id"] for _, r in rows], dtype=np.int64),
            scores=np.array([r["score"] for _, r in rows], dtype=np.float64),
            boxes=np.array(
                mask_utils.toBbox(rles) if rles else [r.get("bbox") for _, r in rows],
                dtype=np.float64,
            ).reshape(-1, 4),
            rles=rles,
        )
        items.append((preds, labels))
    return items


def _pycocotools(
    gt: dict, results: list[dict], masks: bool, iou: float, dets: int
) -> tuple[dict[int, tuple[int, int]], float]:
    """Prediction id -> (outcome, matched label id or -1), and AP, from COCOeval."""
    with contextlib.redirect_stdout(io.StringIO()):
        coco_gt = COCO()
        coco_gt.dataset = gt
        coco_gt.createIndex()
        evaluator = COCOeval(coco_gt, coco_gt.loadRes(results), "segm" if masks else "bbox")
        evaluator.params.iouThrs = np.array([iou])
        evaluator.params.maxDets = [dets]
        evaluator.params.areaRng = [[0, 1e10]]
        evaluator.params.areaRngLbl = ["all"]
        evaluator.evaluate()
        evaluator.accumulate()
    expected = {}
    for e in evaluator.evalImgs:
        for k, dt_id in enumerate(e["dtIds"] if e else []):
            match = int(e["dtMatches"][0, k])
            outcome = IGNORED if e["dtIgnore"][0, k] else (TP if match else FP)
            expected[dt_id] = (outcome, match or -1)
    precision = evaluator.eval["precision"]
    ap = float(np.mean(precision[precision > -1])) if (precision > -1).any() else -1.0
    return expected, ap


def _check(images: list, masks: bool, iou: float, dets: int) -> None:
    gt, results = _scene_to_coco(images, masks)
    items = _our_inputs(gt, results, masks)
    geometry = "masks" if masks else "boxes"
    ours = [match_image(p, lab, iou, dets, geometry) for p, lab in items]
    if not results:  # loadRes cannot take an empty list; nothing to compare
        assert all(len(m.outcome) == 0 for m in ours)
        return
    expected, ap = _pycocotools(gt, results, masks, iou, dets)
    for (preds, _), matches in zip(items, ours, strict=True):
        for k, pred_id in enumerate(preds.ids.tolist()):
            want = expected.get(pred_id, (IGNORED, -1))
            assert (int(matches.outcome[k]), int(matches.annotation_id[k])) == want
    n_labels = count_labels(lab for _, lab in items)
    assert abs(average_precision([p for p, _ in items], ours, n_labels) - ap) < 1e-12
    batched = match_many(items, iou, dets, geometry, workers=1)
    for a, b in zip(batched, ours, strict=True):
        np.testing.assert_array_equal(a.outcome, b.outcome)
        np.testing.assert_array_equal(a.annotation_id, b.annotation_id)


@SETTINGS
@given(images=scene, iou=threshold, dets=max_dets)
def test_boxes_match_pycocotools(images: list, iou: float, dets: int) -> None:
    _check(images, masks=False, iou=iou, dets=dets)


@SETTINGS
@given(images=scene, iou=threshold, dets=max_dets)
def test_masks_match_pycocotools(images: list, iou: float, dets: int) -> None:
    _check(images, masks=True, iou=iou, dets=dets)


def test_ties_later_label_wins() -> None:
    """Two labels with the same IoU: pycocotools keeps the later one (``<`` comparison)."""
    labels = ImageLabels(
        ids=np.array([10, 11]),
        category_ids=np.array([1, 1]),
        boxes=np.array([[0.0, 0, 10, 10], [10.0, 0, 10, 10]]),
        iscrowd=np.array([False, False]),
        areas=np.array([100.0, 100.0]),
    )
    preds = ImagePredictions(
        ids=np.array([1]),
        category_ids=np.array([1]),
        scores=np.array([0.9]),
        boxes=np.array([[5.0, 0, 10, 10]]),
    )
    matches = match_image(preds, labels, iou_threshold=0.3)
    assert matches.annotation_id.tolist() == [11]
    assert matches.outcome.tolist() == [TP]
