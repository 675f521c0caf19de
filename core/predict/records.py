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
    h, w = detections.image_hw
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
            y0, x0, crop = detections.masks[k]
            record["segmentation"] = rle_from_crop(crop, y0, x0, h, w)
        records.append(record)
    return records


def rle_from_crop(crop: np.ndarray, y0: int, x0: int, height: int, width: int) -> dict:
    """Compressed COCO RLE of an image-size mask that is zero outside `crop` placed at (y0, x0).

    Same result as ``pycocotools.mask.encode`` of the full mask, without building it: the crop's
    columns are read in column-major order, each followed by one marker standing for the
    ``height - crop height`` zeros between two crop columns.
    """
    ch, cw = crop.shape
    if not crop.size:
        crop, ch, cw, y0, x0 = np.zeros((1, 1), np.uint8), 1, 1, 0, 0
    column_major = np.zeros((ch + 1, cw), np.uint8)
    column_major[:ch] = crop
    values = column_major.ravel(order="F")
    weights = np.ones(values.size, np.int64)
    weights[ch :: ch + 1] = height - ch
    before = x0 * height + y0
    weights[-1] = height * width - before - (weights.sum() - weights[-1])
    nonzero = weights > 0  # a full-height crop has no gap between its columns
    values, weights = values[nonzero], weights[nonzero]
    change = np.flatnonzero(np.diff(values)) + 1
    starts = np.concatenate(([0], change))
    counts = np.add.reduceat(weights, starts)
    if values[0] == 0:
        counts[0] += before
    else:
        counts = np.concatenate(([before], counts))
    rle = mask_utils.frPyObjects(
        {"size": [height, width], "counts": counts.tolist()}, height, width
    )
    return {"size": [height, width], "counts": rle["counts"].decode("ascii")}
