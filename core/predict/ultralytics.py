"""Ultralytics exports: YOLOv8 / YOLO11 detect and segment, end-to-end heads, RT-DETR.

Follows the ``ultralytics`` package 8.4.190 (PyPI wheel), the code behind
``YOLO("model.onnx").predict(...)``:

* ``data/augment.py`` ``LetterBox``: ratio ``r = min(H / h, W / w)``, content size
  ``max(round(w * r), 1)`` x ``max(round(h * r), 1)`` (Python rounding), padding split
  ``round(d / 2 - 0.1)`` / ``round(d / 2 + 0.1)``, value 114, ``cv2.INTER_LINEAR``; a model with a
  dynamic input gets the predictor's minimum rectangle (``auto``: padding modulo the stride),
  a fixed one the full square. RT-DETR stretches to the input size (``scale_fill``).
* ``engine/predictor.py`` ``preprocess``: BGR -> RGB, float32 ``/ 255``, NCHW.
* ``utils/nms.py`` ``non_max_suppression`` with the predictor's arguments (``multi_label=False``):
  candidates with best class score ``> conf``, boxes xywh -> xyxy, class-wise NMS by offsetting
  boxes by ``class * 7680``, ``torchvision.ops.nms``, at most ``max_nms = 30000`` boxes into it,
  ``[:max_det]``. End-to-end outputs (YOLO26, YOLOv10, ``nms=True`` exports) are only filtered by
  score and cut to ``max_det``.
* ``utils/ops.py`` ``scale_boxes`` (per-axis gains from the rounded letterbox size, padding
  ``round(pad - 0.1)``, clip to the image) and, for masks, the predictor's ``retina_masks=True``
  path ``process_mask_native`` (prototype masks times coefficients, upsampled by 1, 2 or 4 so the
  letterbox padding falls on whole pixels, padding cropped, bilinear to the image size,
  ``> 0``, cropped to the box), then predictions whose mask is empty are dropped
  (``SegmentationPredictor.construct_result``).
* ``models/rtdetr/predict.py``: the 8.4 export ``[1, K, 6]`` (cx, cy, w, h normalised, score,
  class) and the earlier ``[1, Q, 4 + nc]`` (8.3: best class per query, sorted by score) are both
  read; boxes scale by the image width and height, with no clipping, as there.

Deliberate differences: the image is decoded by LabelFix's ``load_image`` without applying an
EXIF orientation (COCO labels are in the stored pixels; the reference's ``cv2.imread`` rotates);
mask logits (32 coefficients x prototypes) are summed by numpy's BLAS rather than torch's, so a
pixel whose logit is within float rounding of 0 may differ.
"""

from __future__ import annotations

import math

import numpy as np

from .detections import Detections, Prepared, Settings
from .imageops import LinearTaps, Placement, bilinear_at, place, to_input
from .nms import torchvision_nms

MAX_WH = 7680
MAX_NMS = 30000
PAD = 114


def letterbox_placement(
    height: int,
    width: int,
    input_hw: tuple[int, int],
    *,
    auto: bool = False,
    stride: int = 32,
    min_one: bool = True,
) -> Placement:
    """Ultralytics ``LetterBox.get_params`` (``min_one=False``: YOLOv5's ``letterbox``)."""
    new_h, new_w = input_hw
    r = min(new_h / height, new_w / width)
    unpad_w, unpad_h = round(width * r), round(height * r)
    if min_one:
        unpad_w, unpad_h = max(unpad_w, 1), max(unpad_h, 1)
    dw, dh = new_w - unpad_w, new_h - unpad_h
    if auto:
        dw, dh = dw % stride, dh % stride
    dw, dh = dw / 2, dh / 2
    top, bottom = round(dh - 0.1), round(dh + 0.1)
    left, right = round(dw - 0.1), round(dw + 0.1)
    return Placement(
        (unpad_h + top + bottom, unpad_w + left + right), (unpad_w, unpad_h), left, top
    )


def xywh2xyxy(xywh: np.ndarray) -> np.ndarray:
    """Centre/size boxes as corners, in float32 as the references compute them."""
    out = np.empty_like(xywh)
    half = xywh[:, 2:4] / 2
    out[:, :2] = xywh[:, :2] - half
    out[:, 2:] = xywh[:, :2] + half
    return out


def scale_boxes(
    boxes: np.ndarray, input_hw: tuple[int, int], height: int, width: int
) -> np.ndarray:
    """Ultralytics 8.4 ``scale_boxes`` + ``clip_boxes``: letterbox input -> image pixels, in place."""
    in_h, in_w = input_hw
    gain = min(in_h / height, in_w / width)
    new_h, new_w = max(round(height * gain), 1), max(round(width * gain), 1)
    gain_y, gain_x = new_h / height, new_w / width
    pad_x, pad_y = round((in_w - new_w) / 2 - 0.1), round((in_h - new_h) / 2 - 0.1)
    boxes[:, [0, 2]] -= np.float32(pad_x)
    boxes[:, [1, 3]] -= np.float32(pad_y)
    boxes[:, [0, 2]] /= np.float32(gain_x)
    boxes[:, [1, 3]] /= np.float32(gain_y)
    boxes[:, [0, 2]] = boxes[:, [0, 2]].clip(0, width)
    boxes[:, [1, 3]] = boxes[:, [1, 3]].clip(0, height)
    return boxes


def class_wise_nms(
    boxes: np.ndarray, scores: np.ndarray, classes: np.ndarray, settings: Settings
) -> np.ndarray:
    """Ultralytics/YOLOv5 batched NMS: boxes offset by class * 7680, torchvision NMS, max_det."""
    if len(scores) > MAX_NMS:
        top = np.argsort(-scores, kind="stable")[:MAX_NMS]
        keep = class_wise_nms(boxes[top], scores[top], classes[top], settings)
        return top[keep]
    offset = classes.astype(np.float32)[:, None] * np.float32(0 if settings.agnostic else MAX_WH)
    return torchvision_nms(boxes + offset, scores, settings.iou, settings.max_dets)


class Ultralytics:
    """YOLOv8 / YOLO11 (and end-to-end YOLO26 / YOLOv10) detect or segment, and RT-DETR."""

    def __init__(
        self,
        *,
        name: str,
        input_hw: tuple[int, int],
        dynamic: bool,
        stride: int,
        nc: int,
        masks: bool,
        end2end: bool = False,
        rtdetr: str | None = None,
        dtype: type = np.float32,
        order: tuple[int, int] = (0, 1),
    ) -> None:
        self.name, self.input_hw, self.dynamic, self.stride, self.nc = (
            name,
            input_hw,
            dynamic,
            stride,
            nc,
        )
        self.masks, self.end2end, self.rtdetr, self.dtype = masks, end2end, rtdetr, dtype
        self.pred_out, self.proto_out = order  # which output is the head, which the prototypes

    def prepare(self, rgb: np.ndarray) -> Prepared:
        """Letterbox (or stretch for RT-DETR), RGB, /255, NCHW."""
        height, width = rgb.shape[:2]
        if self.rtdetr:
            placement = Placement(self.input_hw, self.input_hw[::-1], 0, 0)
        else:
            placement = letterbox_placement(
                height, width, self.input_hw, auto=self.dynamic, stride=self.stride
            )
        canvas = place(rgb, placement, PAD)
        return Prepared(
            to_input(canvas, bgr=False, scale01=True, dtype=self.dtype),
            height,
            width,
            placement.input_hw,
        )

    def decode(
        self, outputs: list[np.ndarray], prepared: Prepared, settings: Settings
    ) -> Detections:
        """Network outputs -> the image's predictions."""
        h, w = prepared.height, prepared.width
        if self.rtdetr:
            return self._decode_rtdetr(outputs[self.pred_out][0].astype(np.float32), h, w, settings)
        pred = outputs[self.pred_out][0].astype(np.float32, copy=False)
        if self.end2end:
            rows = pred[pred[:, 4] > settings.conf][: settings.max_dets]
            boxes, scores = rows[:, :4].copy(), rows[:, 4].copy()
            classes, coefs = rows[:, 5].astype(np.int64), rows[:, 6:]
        else:
            boxes, scores, classes, coefs = self._nms(pred, settings)
        scale_boxes(boxes, prepared.context, h, w)
        if not self.masks:
            return Detections(boxes, scores, classes)
        protos = outputs[self.proto_out][0].astype(np.float32, copy=False)
        masks, keep = process_mask_native(protos, coefs, boxes, h, w)
        return Detections(boxes[keep], scores[keep], classes[keep], masks, (h, w))

    def _nms(self, pred: np.ndarray, settings: Settings) -> tuple[np.ndarray, ...]:
        nc = self.nc
        scores = pred[4 : 4 + nc]
        best = scores.max(0)
        candidates = np.flatnonzero(best > settings.conf)  # the best class only (no multi-label)
        j = scores[:, candidates].argmax(0)
        conf = best[candidates]
        boxes = xywh2xyxy(np.ascontiguousarray(pred[:4, candidates].T))
        kept = class_wise_nms(boxes, conf, j, settings)
        coefs = pred[4 + nc :, candidates[kept]].T
        return boxes[kept], conf[kept], j[kept].astype(np.int64), coefs

    def _decode_rtdetr(self, pred: np.ndarray, h: int, w: int, settings: Settings) -> Detections:
        boxes = xywh2xyxy(np.ascontiguousarray(pred[:, :4]))
        if self.rtdetr == "topk":  # 8.4: rows already sorted by score: cx, cy, w, h, score, class
            scores, classes = pred[:, 4], pred[:, 5].astype(np.int64)
            keep = np.flatnonzero(scores > settings.conf)[: settings.max_dets]
        else:  # 8.3: best class per query, sorted by score
            cls = pred[:, 4:]
            classes = cls.argmax(1)
            scores = cls[np.arange(len(classes)), classes]
            keep = np.flatnonzero(scores > settings.conf)
            keep = keep[np.argsort(-scores[keep], kind="stable")][: settings.max_dets]
        boxes = boxes[keep]
        boxes[:, [0, 2]] *= np.float32(w)
        boxes[:, [1, 3]] *= np.float32(h)
        return Detections(boxes, scores[keep].copy(), classes[keep].astype(np.int64))


def process_mask_native(
    protos: np.ndarray, coefs: np.ndarray, boxes: np.ndarray, height: int, width: int
) -> tuple[np.ndarray, np.ndarray]:
    """Ultralytics ``process_mask_native``, then the predictor's drop of empty masks.

    Returns the non-empty masks as (top, left, 0/1 crop of the box) and which predictions they
    belong to. Each mask is evaluated only inside its box (the crop zeroes the rest): the same
    bilinear samples at fewer pixels, from the prototype block they read.
    """
    c, mh, mw = protos.shape
    gain = min(4 * mh / height, 4 * mw / width)
    pad = (4 * mh - max(round(height * gain), 1)) | (4 * mw - max(round(width * gain), 1))
    f = 4 // math.gcd(4, pad | pad // 2)
    up_h, up_w = mh * f, mw * f
    first = (LinearTaps.make(mh, up_h, f), LinearTaps.make(mw, up_w, f)) if f > 1 else None
    second = None
    top = left = 0
    if (up_h, up_w) != (height, width):
        g = min(up_h / height, up_w / width)
        content_h, content_w = max(round(height * g), 1), max(round(width * g), 1)
        top, left = round((up_h - content_h) / 2 - 0.1), round((up_w - content_w) / 2 - 0.1)
        second = (LinearTaps.make(content_h, height), LinearTaps.make(content_w, width))
    cols = np.arange(width, dtype=np.float32)
    rows = np.arange(height, dtype=np.float32)
    crops: list[tuple[int, int, np.ndarray]] = []
    keep = np.zeros(len(coefs), bool)
    for k in range(len(coefs)):
        x1, y1, x2, y2 = boxes[k]
        xs = np.flatnonzero((cols >= x1) & (cols < x2))
        ys = np.flatnonzero((rows >= y1) & (rows < y2))
        if not len(xs) or not len(ys):
            continue
        crop = _sample(protos, coefs[k], ys, xs, first, second, top, left) > 0
        if crop.any():
            keep[k] = True
            crops.append((int(ys[0]), int(xs[0]), crop.view(np.uint8)))
    return crops, keep


def _sample(
    protos: np.ndarray,
    coef: np.ndarray,
    ys: np.ndarray,
    xs: np.ndarray,
    first: tuple[LinearTaps, LinearTaps] | None,
    second: tuple[LinearTaps, LinearTaps] | None,
    top: int,
    left: int,
) -> np.ndarray:
    """The mask logits (coefficients x prototypes, upsampled, cropped, resized) at ys x xs."""
    if second is None:  # the (upsampled) prototype grid is already the image size
        need_r, need_c = ys, xs
    else:
        r2, c2 = second[0].take(ys), second[1].take(xs)
        need_r = np.arange(r2.i0[0], r2.i1[-1] + 1) + top  # taps are monotonic: one span
        need_c = np.arange(c2.i0[0], c2.i1[-1] + 1) + left
    if first is None:
        proto_r, proto_c = need_r, need_c
    else:
        r1, c1 = first[0].take(need_r), first[1].take(need_c)
        proto_r = np.arange(r1.i0[0], r1.i1[-1] + 1)
        proto_c = np.arange(c1.i0[0], c1.i1[-1] + 1)
    r0, c0 = proto_r[0], proto_c[0]
    block = np.tensordot(coef, protos[:, r0 : proto_r[-1] + 1, c0 : proto_c[-1] + 1], axes=1)
    if first is None:
        grid = block[np.ix_(need_r - r0, need_c - c0)]
    else:
        grid = bilinear_at(block, _shift(r1, r0), _shift(c1, c0))
    if second is None:
        return grid
    return bilinear_at(grid, _shift(r2, need_r[0] - top), _shift(c2, need_c[0] - left))


def _shift(taps: LinearTaps, offset: int) -> LinearTaps:
    """Taps into a block that starts at `offset`."""
    return LinearTaps(taps.i0 - offset, taps.i1 - offset, taps.w0, taps.w1)
