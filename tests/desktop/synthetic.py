"""Synthetic projects and suspect indexes for the desktop's speed tests (numpy, seeded)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from labelfix.core.project import import_project
from labelfix.core.suspects import SuspectIndex


def write_project(
    tmp: Path, n_images: int = 2000, preds_per_image: int = 20, seed: int = 0
) -> Path:
    """A project of random boxes: 0-8 labels per image, ``preds_per_image`` predictions each
    (jittered labels, some with another class, and random boxes); not analysed yet."""
    rng = np.random.default_rng(seed)
    cats = [{"id": i, "name": f"class{i}"} for i in range(1, 11)]
    images, anns, preds = [], [], []
    ann_id = 1
    for image_id in range(1, n_images + 1):
        images.append(
            {"id": image_id, "file_name": f"{image_id:06d}.jpg", "width": 640, "height": 480}
        )
        boxes = []
        for _ in range(int(rng.integers(0, 9))):
            w, h = rng.uniform(20, 200, 2)
            x, y = rng.uniform(0, 640 - w), rng.uniform(0, 480 - h)
            cat = int(rng.integers(1, 11))
            boxes.append((x, y, w, h, cat))
            anns.append(
                {
                    "id": ann_id,
                    "image_id": image_id,
                    "category_id": cat,
                    "bbox": [x, y, w, h],
                    "area": w * h,
                    "iscrowd": 0,
                }
            )
            ann_id += 1
        for k in range(preds_per_image):
            if k < len(boxes):
                x, y, w, h, cat = boxes[k]
                x, y = x + rng.normal(0, 6), y + rng.normal(0, 6)
                cat = cat if rng.random() > 0.1 else int(rng.integers(1, 11))
            else:
                w, h = rng.uniform(10, 150, 2)
                x, y, cat = (
                    rng.uniform(0, 640 - w),
                    rng.uniform(0, 480 - h),
                    int(rng.integers(1, 11)),
                )
            x, y = float(np.clip(x, 0, 639 - w)), float(np.clip(y, 0, 479 - h))
            preds.append(
                {
                    "image_id": image_id,
                    "category_id": cat,
                    "bbox": [x, y, float(w), float(h)],
                    "score": float(rng.uniform(0.01, 1.0)),
                }
            )
    gt_path = tmp / "labels.json"
    gt_path.write_text(json.dumps({"images": images, "annotations": anns, "categories": cats}))
    pred_path = tmp / "predictions.json"
    pred_path.write_text(json.dumps(preds))
    out = tmp / "synthetic.labelfix"
    import_project(out, gt_path, None, pred_path, "synthetic")
    return out


def big_index(n: int = 500_000, n_images: int = 50_000, seed: int = 0) -> SuspectIndex:
    """A SuspectIndex of ``n`` random suspects (no project behind it)."""
    rng = np.random.default_rng(seed)
    idx = SuspectIndex(analysis_id=1, set_id=1)
    idx.ids = np.arange(1, n + 1, dtype=np.int64)
    idx.kind = rng.integers(0, 5, n).astype(np.int8)
    idx.score = rng.random(n)
    idx.image_id = rng.integers(1, n_images + 1, n).astype(np.int64)
    has_ann = idx.kind != 0
    idx.annotation_id = np.where(has_ann, rng.integers(1, 10 * n, n), -1).astype(np.int64)
    idx.prediction_id = np.where(idx.kind <= 2, rng.integers(1, 10 * n, n), -1).astype(np.int64)
    idx.category_id = np.where(has_ann, rng.integers(1, 81, n), -1).astype(np.int64)
    idx.predicted_category_id = np.where(idx.kind <= 2, rng.integers(1, 81, n), -1).astype(np.int64)
    idx.iou = np.where(idx.kind <= 2, rng.random(n), np.nan)
    idx.confidence = np.where(idx.kind <= 2, rng.random(n), np.nan)
    idx.status = np.zeros(n, dtype=np.int8)
    idx.other_annotation_id = np.where(idx.kind == 3, rng.integers(1, 10 * n, n), -1).astype(
        np.int64
    )
    idx.probability = np.where(idx.kind <= 2, rng.random(n), np.nan)
    # about one suspect in ten shares its object with the one before (two alternatives)
    joins = rng.random(n) < 0.1
    joins[:1] = False
    idx.group = (np.cumsum(~joins) - 1).astype(np.int64)
    second = joins & (idx.score < np.r_[np.inf, idx.score[:-1]])
    first_loses = np.r_[joins[1:] & ~second[1:], False]
    idx.group_rank = (second | first_loses).astype(np.int32)
    idx.prediction_set_id = np.ones(n, dtype=np.int64)
    idx.set_ids = [1]
    idx.file_names = {i: f"{i:012d}.jpg" for i in range(1, n_images + 1)}
    idx.category_names = {i: f"class {i}" for i in range(1, 81)}
    return idx
