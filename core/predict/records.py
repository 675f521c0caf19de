"""Predictions as COCO result records (what ``labelfix add-predictions`` reads)."""

from __future__ import annotations

import numpy as np
from pycocotools import mask as mask_utils

from .classes import ClassMapping
from .detections import Detections


def coco_records(image_id: int, detections: Detections, mapping: ClassMapping) -> list[dict]:
    """One record per prediction whose class maps to a dataset category, best first.

    ``bbox`` is [x, y, width, height] rounded to 3 decimals (as Ultralytics' COCO JSON writer
    does); ``score`` is the model's float32 score; mask models add ``segmentation`` as
    compressed RLE (pycocotools).
    """
    records: list[dict] = []
    if not len(detections):
        return records
    xyxy = detections.boxes.astype(np.float64)
    xywh = np.round(np.column_stack([xyxy[:, :2], xyxy[:, 2:] - xyxy[:, :2]]), 3)
    to_category = mapping.to_category
    for k, (cls, score) in enumerate(
        zip(detections.classes.tolist(), detections.scores.tolist(), strict=True)
    ):
        category = to_category.get(cls)
        if category is None:
            continue
        record = {
            "image_id": image_id,
            "category_id": category,
            "bbox": xywh[k].tolist(),
            "score": score,
        }
        if detections.masks is not None:
            rle = mask_utils.encode(np.asfortranarray(detections.masks[k]))
            record["segmentation"] = {
                "size": [int(s) for s in rle["size"]],
                "counts": rle["counts"].decode("ascii"),
            }
        records.append(record)
    return records
