"""YOLOv5 exports (``export.py --include onnx``): one output ``[1, N, 5 + nc]`` with objectness.

Follows ultralytics/yolov5 at commit 5081342 (``detect.py`` with ``utils/augmentations.py``
``letterbox`` and ``utils/general.py`` ``non_max_suppression`` / ``scale_boxes``):

* ``letterbox(auto=False)`` (``detect.py`` passes ``auto=pt``, False for ONNX): ratio
  ``min(H / h, W / w)``, content ``round(w * r)`` x ``round(h * r)``, centred with
  ``round(d / 2 -+ 0.1)``, value 114, ``cv2.INTER_LINEAR``; BGR -> RGB, float32 ``/ 255``.
* ``non_max_suppression``: candidates with objectness ``> conf``; class scores multiplied by the
  objectness; best class ``> conf``; sorted by score, at most 30000 into ``torchvision.ops.nms``
  with boxes offset by ``class * 7680``; ``[:max_det]``.
* ``scale_boxes``: padding ``(W - w * gain) / 2`` unrounded, divided by the gain, clipped, then
  ``.round()`` as ``detect.py`` does.

Differences: EXIF orientation is not applied (see :mod:`.ultralytics`).
"""

from __future__ import annotations

import numpy as np

from .detections import Detections, Prepared, Settings
from .imageops import place, to_input
from .ultralytics import PAD, class_wise_nms, letterbox_placement, xywh2xyxy


class YoloV5:
    """YOLOv5 detection."""

    masks = False

    def __init__(self, *, input_hw: tuple[int, int], nc: int, dtype: type = np.float32) -> None:
        self.name, self.input_hw, self.nc, self.dtype = "yolov5", input_hw, nc, dtype

    def prepare(self, rgb: np.ndarray) -> Prepared:
        """Centred letterbox, RGB, /255, NCHW."""
        height, width = rgb.shape[:2]
        placement = letterbox_placement(height, width, self.input_hw, min_one=False)
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
        """Objectness x class score, class-wise NMS, boxes back to the image (rounded)."""
        pred = outputs[0][0].astype(np.float32, copy=False)
        x = pred[pred[:, 4] > settings.conf].copy()
        x[:, 5:] *= x[:, 4:5]
        boxes = xywh2xyxy(np.ascontiguousarray(x[:, :4]))
        cls = x[:, 5 : 5 + self.nc]
        j = cls.argmax(1)
        conf = cls[np.arange(len(j)), j]
        keep = conf > settings.conf
        boxes, conf, j = boxes[keep], conf[keep], j[keep]
        kept = class_wise_nms(boxes, conf, j, settings)
        boxes = scale_boxes_v5(boxes[kept], prepared.context, prepared.height, prepared.width)
        return Detections(np.rint(boxes), conf[kept], j[kept].astype(np.int64))


def scale_boxes_v5(
    boxes: np.ndarray, input_hw: tuple[int, int], height: int, width: int
) -> np.ndarray:
    """YOLOv5 ``scale_boxes`` + ``clip_boxes`` (unrounded padding, one gain)."""
    in_h, in_w = input_hw
    gain = min(in_h / height, in_w / width)
    pad_x, pad_y = (in_w - width * gain) / 2, (in_h - height * gain) / 2
    boxes[:, [0, 2]] -= np.float32(pad_x)
    boxes[:, [1, 3]] -= np.float32(pad_y)
    boxes /= np.float32(gain)
    boxes[:, [0, 2]] = boxes[:, [0, 2]].clip(0, width)
    boxes[:, [1, 3]] = boxes[:, [1, 3]].clip(0, height)
    return boxes
