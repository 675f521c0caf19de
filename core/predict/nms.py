"""Greedy non-maximum suppression as the references compute it, stopping once enough are kept.

* :func:`torchvision_nms` is ``torchvision.ops.nms`` (used by Ultralytics and YOLOv5): boxes in
  descending score order (stable for ties), areas ``(x2 - x1) * (y2 - y1)`` in float32, a box is
  suppressed when its float32 IoU is greater than the (double) threshold.
* :func:`yolox_nms` is YOLOX's numpy ``nms`` in ``yolox/utils/demo_utils.py``: ``+ 1`` in widths,
  heights and areas, order from ``scores.argsort()[::-1]``, kept while IoU <= threshold
  (float32 against float32).

Greedy NMS keeps boxes in score order, so stopping after `limit` kept boxes gives exactly the
first `limit` of the full result (what the references keep after ``[:max_det]``); that bounds the
work on a low-threshold run with thousands of candidates.
"""

from __future__ import annotations

import numpy as np


def torchvision_nms(
    boxes: np.ndarray, scores: np.ndarray, iou: float, limit: int | None = None
) -> np.ndarray:
    """Indices of the kept boxes (xyxy float32), best first, at most `limit` of them."""
    order = np.argsort(-scores, kind="stable")
    return _greedy(boxes.astype(np.float32, copy=False), order, float(iou), limit, plus_one=False)


def yolox_nms(
    boxes: np.ndarray, scores: np.ndarray, iou: float, limit: int | None = None
) -> np.ndarray:
    """Indices of the kept boxes as YOLOX's demo NMS keeps them, at most `limit` of them."""
    order = scores.argsort()[::-1]
    return _greedy(boxes, order, iou, limit, plus_one=True)


CHUNK = 256


def _greedy(
    boxes: np.ndarray, order: np.ndarray, iou, limit: int | None, *, plus_one: bool
) -> np.ndarray:
    """Greedy NMS over boxes in `order`, a chunk of candidates at a time.

    A candidate is kept when its overlap with every box kept before it is within the threshold,
    which is what the one-box-at-a-time loop computes. Each chunk is first checked against the
    boxes already kept (one matrix), then its survivors against each other in order; the
    overlaps are the same float operations as the references' (the IoU is symmetric).
    """
    sorted_boxes = boxes[order]
    kept: list[int] = []
    kept_boxes = sorted_boxes[:0]
    for start in range(0, len(order), CHUNK):
        chunk = sorted_boxes[start : start + CHUNK]
        alive = np.ones(len(chunk), bool)
        if len(kept_boxes):
            alive &= ~_suppressed(kept_boxes, chunk, iou, plus_one).any(0)
        index = np.flatnonzero(alive)
        if len(index) > 1:
            among = _suppressed(chunk[index], chunk[index], iou, plus_one)
            keep_local = np.ones(len(index), bool)
            for a in range(len(index)):
                if keep_local[a]:
                    keep_local[a + 1 :] &= ~among[a, a + 1 :]
            index = index[keep_local]
        if limit is not None:
            index = index[: limit - len(kept)]
        kept.extend((start + index).tolist())
        kept_boxes = sorted_boxes[np.asarray(kept, dtype=np.int64)]
        if limit is not None and len(kept) >= limit:
            break
    return order[np.asarray(kept, dtype=np.int64)]


def _suppressed(a: np.ndarray, b: np.ndarray, iou, plus_one: bool) -> np.ndarray:
    """len(a) x len(b): does box b[j] overlap the earlier (better) box a[i] too much?"""
    x1a, y1a, x2a, y2a = (a[:, k, None] for k in range(4))
    x1b, y1b, x2b, y2b = (b[None, :, k] for k in range(4))
    if plus_one:  # YOLOX: float32 arithmetic with Python 1 and 0.0, as its numpy code
        area_a = (x2a - x1a + 1) * (y2a - y1a + 1)
        area_b = (x2b - x1b + 1) * (y2b - y1b + 1)
        w = np.maximum(0.0, np.minimum(x2a, x2b) - np.maximum(x1a, x1b) + 1)
        h = np.maximum(0.0, np.minimum(y2a, y2b) - np.maximum(y1a, y1b) + 1)
    else:  # torchvision: areas (x2 - x1) * (y2 - y1), widths clamped at 0
        zero = a.dtype.type(0)
        area_a = (x2a - x1a) * (y2a - y1a)
        area_b = (x2b - x1b) * (y2b - y1b)
        w = np.maximum(np.minimum(x2a, x2b) - np.maximum(x1a, x1b), zero)
        h = np.maximum(np.minimum(y2a, y2b) - np.maximum(y1a, y1b), zero)
    inter = w * h
    with np.errstate(divide="ignore", invalid="ignore"):
        overlap = inter / (area_a + area_b - inter)
    # YOLOX (numpy) keeps while float32 IoU <= float32(thr), dropping a NaN; torchvision (C++)
    # suppresses when the float IoU > the double threshold, keeping a NaN
    return ~(overlap <= iou) if plus_one else overlap.astype(np.float64) > iou
