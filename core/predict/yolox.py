"""YOLOX raw-head exports (``tools/export_onnx.py``, ``decode_in_inference`` off): ``[1, N, 5 + nc]``.

Follows Megvii-BaseDetection/YOLOX at commit 6ddff48, ``demo/ONNXRuntime/onnx_inference.py``:

* ``yolox/data/data_augment.py`` ``preproc``: ratio ``min(H / h, W / w)``, content
  ``int(w * r)`` x ``int(h * r)`` (truncated), placed top-left on a canvas of 114,
  ``cv2.INTER_LINEAR``, **BGR**, float32 0-255 (no normalisation), NCHW.
* ``yolox/utils/demo_utils.py`` ``demo_postprocess`` (strides 8, 16, 32; ``xy = (xy + grid) *
  stride``, ``wh = exp(wh) * stride``, in numpy's float64-then-float32 steps), scores =
  objectness x class score, boxes xyxy divided by the ratio (no clipping), then ``multiclass_nms``
  (class-agnostic by default: best class ``> conf``, its numpy ``nms`` with ``+ 1`` areas;
  class-aware: every class above ``conf`` separately).

Differences: the reference keeps every box NMS keeps; LabelFix keeps the best ``max_dets``
(class-aware results are sorted by score first). EXIF orientation is not applied.
"""

from __future__ import annotations

import numpy as np

from .detections import Detections, Prepared, Settings
from .imageops import Placement, place, to_input
from .nms import yolox_nms

STRIDES = (8, 16, 32)


def grid_cells(input_hw: tuple[int, int], strides: tuple[int, ...] = STRIDES) -> int:
    """Number of anchor points of a YOLOX (or YOLOv8) head for an input size."""
    return sum((input_hw[0] // s) * (input_hw[1] // s) for s in strides)


class YoloX:
    """YOLOX detection (raw head)."""

    masks = False

    def __init__(self, *, input_hw: tuple[int, int], nc: int, dtype: type = np.float32) -> None:
        self.name, self.input_hw, self.nc, self.dtype = "yolox", input_hw, nc, dtype
        grids, strides = [], []
        for s in STRIDES:
            hs, ws = input_hw[0] // s, input_hw[1] // s
            xv, yv = np.meshgrid(np.arange(ws), np.arange(hs))
            grids.append(np.stack((xv, yv), 2).reshape(-1, 2))
            strides.append(np.full((hs * ws, 1), s))
        self.grids = np.concatenate(grids, 0)
        self.strides = np.concatenate(strides, 0)

    def prepare(self, rgb: np.ndarray) -> Prepared:
        """Top-left letterbox (truncated size), BGR, 0-255, NCHW."""
        height, width = rgb.shape[:2]
        r = min(self.input_hw[0] / height, self.input_hw[1] / width)
        placement = Placement(self.input_hw, (int(width * r), int(height * r)), 0, 0)
        canvas = place(rgb, placement, 114)
        return Prepared(
            to_input(canvas, bgr=True, scale01=False, dtype=self.dtype), height, width, r
        )

    def decode(
        self, outputs: list[np.ndarray], prepared: Prepared, settings: Settings
    ) -> Detections:
        """Grid decoding, objectness x class score, YOLOX's NMS, boxes / ratio."""
        pred = outputs[0][0].astype(np.float32)  # a copy, as demo_postprocess writes in place
        if len(pred) != len(self.grids):
            raise ValueError(
                f"YOLOX output has {len(pred)} rows, expected {len(self.grids)} for a "
                f"{self.input_hw[1]}x{self.input_hw[0]} input"
            )
        pred[:, :2] = (pred[:, :2] + self.grids) * self.strides
        pred[:, 2:4] = np.exp(pred[:, 2:4]) * self.strides
        scores = pred[:, 4:5] * pred[:, 5 : 5 + self.nc]
        boxes = np.ones_like(pred[:, :4])
        boxes[:, 0] = pred[:, 0] - pred[:, 2] / 2.0
        boxes[:, 1] = pred[:, 1] - pred[:, 3] / 2.0
        boxes[:, 2] = pred[:, 0] + pred[:, 2] / 2.0
        boxes[:, 3] = pred[:, 1] + pred[:, 3] / 2.0
        boxes /= prepared.context
        if settings.agnostic:
            return _agnostic(boxes, scores, settings)
        return _class_aware(boxes, scores, settings)


def _agnostic(boxes: np.ndarray, scores: np.ndarray, settings: Settings) -> Detections:
    classes = scores.argmax(1)
    best = scores[np.arange(len(classes)), classes]
    valid = best > settings.conf
    boxes, best, classes = boxes[valid], best[valid], classes[valid]
    keep = yolox_nms(boxes, best, settings.iou, settings.max_dets)
    return Detections(boxes[keep], best[keep], classes[keep].astype(np.int64))


def _class_aware(boxes: np.ndarray, scores: np.ndarray, settings: Settings) -> Detections:
    parts = []
    for c in range(scores.shape[1]):
        valid = scores[:, c] > settings.conf
        if not valid.any():
            continue
        b, s = boxes[valid], scores[valid, c]
        keep = yolox_nms(b, s, settings.iou, settings.max_dets)
        parts.append((b[keep], s[keep], np.full(len(keep), c, np.int64)))
    if not parts:
        return Detections(
            np.zeros((0, 4), np.float32), np.zeros(0, np.float32), np.zeros(0, np.int64)
        )
    b, s, c = (np.concatenate(p) for p in zip(*parts, strict=True))
    order = np.argsort(-s, kind="stable")[: settings.max_dets]
    return Detections(b[order], s[order], c[order])
