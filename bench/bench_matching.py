"""Speed check of core.matching beside pycocotools and faster-coco-eval (not a test).

Run: ``python bench/bench_matching.py [--images 5000] [--skip-pycocotools]``

Synthetic data (deterministic numpy RNG): 5,000 images of 640x480, ~7.4 labels each (80
categories, ~1% crowd), 100 predictions each: 1-3 jittered copies of every label (10% with a wrong
category) plus random boxes; scores rounded to 3 decimals, so ties occur.
"""

from __future__ import annotations

import argparse
import contextlib
import copy
import io
import time
from collections.abc import Callable

import numpy as np
from pycocotools import mask as mask_utils

from labelfix.core.matching import (
    ImageLabels,
    ImagePredictions,
    _match_batch,
    _match_in_processes,
    average_precision,
    count_labels,
    match_many,
)

WIDTH, HEIGHT, N_CATEGORIES, PREDS_PER_IMAGE = 640, 480, 80, 100


def _random_boxes(rng: np.random.Generator, n: int) -> np.ndarray:
    w = rng.uniform(8, WIDTH / 2, n)
    h = rng.uniform(8, HEIGHT / 2, n)
    x = rng.uniform(0, WIDTH - w)
    y = rng.uniform(0, HEIGHT - h)
    return np.round(np.stack([x, y, w, h], axis=1), 2)


def _image(rng: np.random.Generator, first_label_id: int) -> tuple[ImagePredictions, ImageLabels]:
    n = int(rng.poisson(7.4))
    boxes = _random_boxes(rng, n)
    cats = rng.integers(1, N_CATEGORIES + 1, n)
    labels = ImageLabels(
        ids=np.arange(first_label_id, first_label_id + n, dtype=np.int64),
        category_ids=cats,
        boxes=boxes,
        iscrowd=rng.random(n) < 0.01,
        areas=boxes[:, 2] * boxes[:, 3],
    )
    copies = rng.integers(1, 4, n)
    source = np.repeat(np.arange(n), copies)[:PREDS_PER_IMAGE]
    jitter = rng.normal(0, 0.08, (len(source), 4)) * np.repeat(boxes[source, 2:], 2, axis=1)
    copied = np.round(np.abs(boxes[source] + jitter), 2)
    copy_cats = np.where(
        rng.random(len(source)) < 0.1, rng.integers(1, 81, len(source)), cats[source]
    )
    extra = PREDS_PER_IMAGE - len(source)
    preds = ImagePredictions(
        ids=np.zeros(PREDS_PER_IMAGE, dtype=np.int64),  # numbered globally below
        category_ids=np.concatenate([copy_cats, rng.integers(1, N_CATEGORIES + 1, extra)]),
        scores=np.round(rng.random(PREDS_PER_IMAGE), 3),
        boxes=np.concatenate([copied, _random_boxes(rng, extra)]),
    )
    return preds, labels


def make_data(n_images: int, seed: int = 0) -> list[tuple[ImagePredictions, ImageLabels]]:
    """Deterministic synthetic images (see the module docstring)."""
    rng = np.random.default_rng(seed)
    items, next_label, next_pred = [], 1, 1
    for _ in range(n_images):
        preds, labels = _image(rng, next_label)
        preds.ids = np.arange(next_pred, next_pred + len(preds.ids), dtype=np.int64)
        next_label += len(labels.ids)
        next_pred += len(preds.ids)
        items.append((preds, labels))
    return items


def with_masks(items: list[tuple[ImagePredictions, ImageLabels]]) -> list:
    """The same images with a diamond-shaped RLE mask inside every box."""

    def rles(boxes: np.ndarray) -> list[dict]:
        x, y, w, h = boxes.T
        polys = np.stack([x + w / 2, y, x + w, y + h / 2, x + w / 2, y + h, x, y + h / 2], axis=1)
        return mask_utils.frPyObjects(polys.tolist(), HEIGHT, WIDTH) if len(boxes) else []

    out = []
    for preds, labels in items:
        preds = ImagePredictions(**{**vars(preds), "rles": rles(preds.boxes)})
        labels = ImageLabels(**{**vars(labels), "rles": rles(labels.boxes)})
        out.append((preds, labels))
    return out


def to_coco(items: list[tuple[ImagePredictions, ImageLabels]]) -> tuple[dict, list[dict]]:
    """The same data as a COCO ground-truth dict and a results list (ids in the same order)."""
    gt: dict = {"images": [], "annotations": [], "categories": []}
    gt["categories"] = [{"id": c, "name": str(c)} for c in range(1, N_CATEGORIES + 1)]
    results: list[dict] = []
    for image_id, (preds, labels) in enumerate(items, start=1):
        gt["images"].append({"id": image_id, "width": WIDTH, "height": HEIGHT})
        for k in range(len(labels.ids)):
            gt["annotations"].append(
                {
                    "id": int(labels.ids[k]),
                    "image_id": image_id,
                    "category_id": int(labels.category_ids[k]),
                    "bbox": labels.boxes[k].tolist(),
                    "area": float(labels.areas[k]),
                    "iscrowd": int(labels.iscrowd[k]),
                }
            )
        for k in range(len(preds.ids)):
            results.append(
                {
                    "image_id": image_id,
                    "category_id": int(preds.category_ids[k]),
                    "bbox": preds.boxes[k].tolist(),
                    "score": float(preds.scores[k]),
                }
            )
    return gt, results


def _best_of(fn: Callable[[], object], repeat: int) -> tuple[float, object]:
    best, result = float("inf"), None
    for _ in range(repeat):
        start = time.perf_counter()
        result = fn()
        best = min(best, time.perf_counter() - start)
    return best, result


def _pycocotools(gt: dict, results: list[dict]) -> float:
    from pycocotools.coco import COCO
    from pycocotools.cocoeval import COCOeval

    with contextlib.redirect_stdout(io.StringIO()):
        coco_gt = COCO()
        coco_gt.dataset = copy.deepcopy(gt)
        coco_gt.createIndex()
        evaluator = COCOeval(coco_gt, coco_gt.loadRes(copy.deepcopy(results)), "bbox")
        evaluator.params.iouThrs = np.array([0.5])
        start = time.perf_counter()
        evaluator.evaluate()
        elapsed = time.perf_counter() - start
        evaluator.accumulate()
        evaluator.summarize()
    print(f"  (pycocotools AP@0.5 = {evaluator.stats[1]:.12f})")
    return elapsed


def _faster_coco_eval(gt: dict, results: list[dict], iou_thrs: np.ndarray | None) -> float:
    from faster_coco_eval import COCO, COCOeval_faster

    coco_gt = COCO(copy.deepcopy(gt))
    coco_dt = coco_gt.loadRes(copy.deepcopy(results))
    evaluator = COCOeval_faster(coco_gt, coco_dt, "bbox", print_function=lambda *a: None)
    if iou_thrs is not None:
        evaluator.params.iouThrs = iou_thrs
    start = time.perf_counter()
    evaluator.evaluate()
    return time.perf_counter() - start


def _analysis(items: list, image_ids: list[int]) -> float:
    matches = match_many(items)
    n_labels = count_labels(lab for _, lab in items)
    return average_precision([p for p, _ in items], matches, n_labels, image_ids)


def main() -> None:
    """Time matching over synthetic images beside pycocotools and faster-coco-eval."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--images", type=int, default=5000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--mask-images", type=int, default=1000)
    parser.add_argument("--skip-pycocotools", action="store_true")
    args = parser.parse_args()

    items = make_data(args.images)
    image_ids = list(range(1, len(items) + 1))
    n_labels = sum(len(lab.ids) for _, lab in items)
    n_preds = sum(len(p.ids) for p, _ in items)
    print(f"{len(items)} images, {n_labels / len(items):.2f} labels/image, {n_preds} predictions")
    gt, results = to_coco(items)

    rows: list[tuple[str, float]] = []
    t, _ = _best_of(lambda: _match_batch(items, 0.5, 100, "boxes"), args.repeat)
    rows.append(("labelfix match, 1 process, one batch", t))
    t, _ = _best_of(lambda: match_many(items, workers=1), args.repeat)
    rows.append(("labelfix match_many (chunks of 500)", t))
    t, _ = _best_of(lambda: _match_in_processes(items, 0.5, 100, "boxes", 2), args.repeat)
    rows.append(("labelfix match, 2 processes (pickling incl.)", t))
    t, ap = _best_of(lambda: _analysis(items, image_ids), args.repeat)
    rows.append(("labelfix match_many + average_precision", t))
    print(f"  (labelfix AP@0.5    = {ap:.12f})")
    rows.append(("faster-coco-eval evaluate(), 10 IoU thrs", _faster_coco_eval(gt, results, None)))
    rows.append(
        (
            "faster-coco-eval evaluate(), iouThrs=[0.5]",
            _faster_coco_eval(gt, results, np.array([0.5])),
        )
    )
    if not args.skip_pycocotools:
        rows.append(("pycocotools evaluate(), iouThrs=[0.5]", _pycocotools(gt, results)))

    masked = with_masks(items[: args.mask_images])
    label = f"masks, {len(masked)} images"
    t, _ = _best_of(lambda: _match_batch(masked, 0.5, 100, "masks"), args.repeat)
    rows.append((f"labelfix {label}, 1 process", t))
    t, _ = _best_of(lambda: _match_in_processes(masked, 0.5, 100, "masks", 2), args.repeat)
    rows.append((f"labelfix {label}, 2 processes", t))

    reference = dict(rows)["faster-coco-eval evaluate(), 10 IoU thrs"]
    print(f"\n{'what':48s} {'seconds':>8s} {'/ faster-coco-eval':>19s}")
    for name, seconds in rows:
        print(f"{name:48s} {seconds:8.3f} {seconds / reference:19.2f}")


if __name__ == "__main__":
    main()
