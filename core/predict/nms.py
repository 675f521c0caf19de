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


def _greedy(
    boxes: np.ndarray, order: np.ndarray, iou, limit: int | None, *, plus_one: bool
) -> np.ndarray:
    x1, y1, x2, y2 = (np.ascontiguousarray(boxes[:, k]) for k in range(4))
    one = 1 if plus_one else 0
    areas = (x2 - x1 + one) * (y2 - y1 + one) if plus_one else (x2 - x1) * (y2 - y1)
    keep: list[int] = []
    zero = boxes.dtype.type(0)
    while order.size and (limit is None or len(keep) < limit):
        i = order[0]
        keep.append(int(i))
        rest = order[1:]
        if plus_one:
            w = np.maximum(0.0, np.minimum(x2[i], x2[rest]) - np.maximum(x1[i], x1[rest]) + 1)
            h = np.maximum(0.0, np.minimum(y2[i], y2[rest]) - np.maximum(y1[i], y1[rest]) + 1)
        else:
            w = np.maximum(np.minimum(x2[i], x2[rest]) - np.maximum(x1[i], x1[rest]), zero)
            h = np.maximum(np.minimum(y2[i], y2[rest]) - np.maximum(y1[i], y1[rest]), zero)
        inter = w * h
        with np.errstate(divide="ignore", invalid="ignore"):
            overlap = inter / (areas[i] + areas[rest] - inter)
        # YOLOX (numpy) compares float32 with float32(thr) and drops a NaN overlap; torchvision
        # (C++) compares the float IoU with the double threshold and keeps a NaN one
        keep_rest = overlap <= iou if plus_one else ~(overlap.astype(np.float64) > iou)
        order = rest[keep_rest]
    return np.asarray(keep, dtype=np.int64)
