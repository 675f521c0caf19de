"""DETR-family exports: Hugging Face ``transformers`` / ``optimum`` heads, and the RT-DETR / D-FINE /
DEIM deploy exports that carry their post-processor.

Hugging Face (``pixel_values`` in; ``logits`` [1, Q, C] and ``pred_boxes`` [1, Q, 4] normalised
cx, cy, w, h out) follows ``transformers`` 4.5x, the slow (PIL) image processors and their
``post_process_object_detection``:

* ``image_transforms.resize``: ``PIL.Image.resize((w, h), resample, reducing_gap=None)`` of the
  uint8 image (bilinear by default), to the size the processor's ``size`` gives:
  ``{"shortest_edge", "longest_edge"}`` through ``get_size_with_aspect_ratio`` (the short side
  to ``shortest_edge`` unless the long side would pass ``longest_edge``; the other side
  truncated with ``int``), ``{"height", "width"}`` as given (stretched), or
  ``{"max_height", "max_width"}`` (``int`` of each side times the smaller ratio).
* ``rescale`` (float64 product, then float32), ``normalize`` (float32 ``(x - mean) / std``),
  padding to ``pad_size`` at the bottom and right with zeros (a batch of one image is not
  padded otherwise), NCHW; a ``pixel_mask`` input gets 1 over the image, 0 over the padding.
* post-processing: boxes to corners, times the image's width and height (not clipped);
  ``DetrImageProcessor`` (DETR, YOLOS, Table Transformer): softmax, the no-object class dropped,
  best class per query; ``DeformableDetrImageProcessor`` / ``ConditionalDetrImageProcessor``:
  sigmoid, top 100 over queries x classes; ``RTDetrImageProcessor`` (RT-DETR, RT-DETRv2,
  D-FINE): sigmoid, top Q over queries x classes. Then ``score > threshold``.

Deploy exports (``tools/export_onnx.py`` of lyuwenyu/RT-DETR, Peterande/D-FINE,
ShihuaHuang95/DEIM: inputs ``images`` [N, 3, 640, 640] and ``orig_target_sizes`` [N, 2] =
(width, height); outputs ``labels``, ``boxes`` (x1, y1, x2, y2 in the original image's pixels),
``scores``, top 300 already) follow their ``tools/inference/onnx_inf.py``: the image stretched to
the input size by PIL bilinear (torchvision ``T.Resize`` on a PIL image), ``ToTensor`` (float32
``/ 255``), the original size fed as (width, height).

RF-DETR (``rfdetr`` ``export()``: input ``input`` [1, 3, R, R], outputs ``dets`` [1, Q, 4]
normalised cx, cy, w, h and ``labels`` [1, Q, C] logits) follows ``RFDETR.predict``:
``to_tensor`` (float32 ``/ 255``), ``normalize`` with the ImageNet mean and std, then
``F.resize`` of that float tensor to R x R (bilinear with antialiasing, PyTorch's
``_upsample_bilinear2d_aa``: PIL's triangle filter widened by the downscale factor, width pass
first), and its ``PostProcess``: sigmoid, top 300 (query, class) pairs, boxes times the image's
width and height. The COCO checkpoints' class k is COCO category id k.

LabelFix then keeps predictions scoring ``> conf``, best first, at most ``max_dets``; the image is
decoded without its EXIF orientation, as for every family.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from PIL import Image

from .detections import Detections, Prepared, Settings
from .imageops import to_input

IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)
BILINEAR = 2
"""``PILImageResampling.BILINEAR`` (= ``PIL.Image.Resampling.BILINEAR``)."""


def pil_resize(rgb: np.ndarray, width: int, height: int, resample: int = BILINEAR) -> np.ndarray:
    """``PIL.Image.resize`` of an H x W x 3 uint8 image (what both references call)."""
    if rgb.shape[1::-1] == (width, height):
        return rgb
    image = Image.fromarray(np.ascontiguousarray(rgb))
    return np.asarray(image.resize((width, height), resample, reducing_gap=None))


def aspect_size(height: int, width: int, size: int, max_size: int | None) -> tuple[int, int]:
    """``transformers.image_transforms.get_size_with_aspect_ratio``: (height, width)."""
    raw = None
    if max_size is not None:
        low, high = float(min(height, width)), float(max(height, width))
        if high / low * size > max_size:
            raw = max_size * low / high
            size = int(round(raw))
    if (height <= width and height == size) or (width <= height and width == size):
        return height, width
    side = raw if raw is not None else size
    if width < height:
        return int(side * height / width), size
    return size, int(side * width / height)


@dataclass(frozen=True)
class ImageProcessing:
    """A Hugging Face image processor's settings (``preprocessor_config.json``)."""

    size: dict[str, int]
    resample: int = BILINEAR
    rescale: float | None = 1 / 255
    mean: tuple[float, ...] | None = IMAGENET_MEAN
    std: tuple[float, ...] | None = IMAGENET_STD
    pad_to: tuple[int, int] | None = None
    """(height, width) of ``pad_size`` when ``do_pad`` is on."""

    def output_size(self, height: int, width: int) -> tuple[int, int]:
        """(height, width) the image is resized to."""
        s = self.size
        if "shortest_edge" in s:
            return aspect_size(height, width, s["shortest_edge"], s.get("longest_edge"))
        if "max_height" in s:
            scale = min(s["max_height"] / height, s["max_width"] / width)
            return int(height * scale), int(width * scale)
        return s["height"], s["width"]

    def describe(self) -> str:
        """The resize rule in a few words."""
        s = self.size
        if "shortest_edge" in s:
            longest = f", long side at most {s['longest_edge']}" if "longest_edge" in s else ""
            return f"short side {s['shortest_edge']}{longest}"
        if "max_height" in s:
            return f"within {s['max_width']}x{s['max_height']}"
        return f"{s['width']}x{s['height']}"


@dataclass
class HuggingFaceDetr:
    """A ``transformers`` DETR-style detector: softmax with a no-object class, or sigmoid top-k."""

    name: str
    processing: ImageProcessing
    logits_out: int
    boxes_out: int
    softmax: bool
    top_k: int | None
    """Sigmoid: how many (query, class) pairs the reference keeps (None: as many as queries)."""
    mask_input: str | None = None
    fixed_hw: tuple[int, int] | None = None
    dtype: type = np.float32
    mask_dtype: type = np.int64
    masks: bool = field(default=False, init=False)

    def __post_init__(self) -> None:
        p = self.processing
        self.tables = channel_tables(p.rescale, p.mean, p.std, float64_rescale=True)

    def prepare(self, rgb: np.ndarray) -> Prepared:
        """Resize (PIL), rescale, normalise, pad, NCHW (and the pixel mask)."""
        height, width = rgb.shape[:2]
        p = self.processing
        out_h, out_w = p.output_size(height, width)
        pixels = pil_resize(rgb, out_w, out_h, p.resample)
        canvas_hw = p.pad_to or (out_h, out_w)
        if self.fixed_hw is not None and canvas_hw != self.fixed_hw:
            raise ValueError(
                f"the model's input is fixed at {self.fixed_hw[1]}x{self.fixed_hw[0]} but its image "
                f"processor makes this image {canvas_hw[1]}x{canvas_hw[0]}; export the model with "
                "dynamic height and width"
            )
        if canvas_hw[0] < out_h or canvas_hw[1] < out_w:
            raise ValueError(f"the image resized to {out_w}x{out_h} does not fit the padding size")
        tensor = np.zeros((1, 3, *canvas_hw), np.float32)
        for c, table in enumerate(self.tables):
            np.take(table, pixels[:, :, c], out=tensor[0, c, :out_h, :out_w])
        feeds = {}
        if self.mask_input:
            mask = np.zeros((1, *canvas_hw), self.mask_dtype)
            mask[0, :out_h, :out_w] = 1
            feeds[self.mask_input] = mask
        if self.dtype is not np.float32:
            tensor = tensor.astype(self.dtype)
        return Prepared(tensor, height, width, feeds=feeds)

    def decode(
        self, outputs: list[np.ndarray], prepared: Prepared, settings: Settings
    ) -> Detections:
        """Softmax or sigmoid top-k scores, boxes times the image size, best first."""
        logits = np.asarray(outputs[self.logits_out], np.float32)[0]
        boxes = corners(np.asarray(outputs[self.boxes_out], np.float32)[0])
        boxes *= np.array([prepared.width, prepared.height] * 2, np.float32)
        if not self.softmax:
            return sigmoid_top_k(logits, boxes, self.top_k or logits.shape[0], settings)
        shifted = np.exp(logits - logits.max(1, keepdims=True))
        prob = (shifted / shifted.sum(1, keepdims=True))[:, :-1]
        classes = prob.argmax(1)
        scores = prob[np.arange(len(prob)), classes]
        return best_first(boxes, scores, classes, settings)


@dataclass
class RFDetr:
    """An RF-DETR export: ``dets`` (boxes) and ``labels`` (logits) for R x R inputs."""

    input_hw: tuple[int, int]
    boxes_out: int
    logits_out: int
    dtype: type = np.float32
    name: str = "rf-detr"
    top_k: int = 300
    masks: bool = field(default=False, init=False)

    def prepare(self, rgb: np.ndarray) -> Prepared:
        """/ 255, ImageNet normalisation, antialiased bilinear resize of the float image."""
        height, width = rgb.shape[:2]
        tables = channel_tables(1 / 255, IMAGENET_MEAN, IMAGENET_STD, float64_rescale=False)
        x = np.stack([tables[c][rgb[:, :, c]] for c in range(3)])
        tensor = resize_antialiased(x, *self.input_hw)[None]
        return Prepared(tensor.astype(self.dtype, copy=False), height, width)

    def decode(
        self, outputs: list[np.ndarray], prepared: Prepared, settings: Settings
    ) -> Detections:
        """Sigmoid, top 300 (query, class) pairs, boxes times the image size."""
        logits = np.asarray(outputs[self.logits_out], np.float32)[0]
        boxes = corners(np.asarray(outputs[self.boxes_out], np.float32)[0])
        boxes *= np.array([prepared.width, prepared.height] * 2, np.float32)
        return sigmoid_top_k(logits, boxes, self.top_k, settings)


def channel_tables(
    rescale: float | None,
    mean: tuple[float, ...] | None,
    std: tuple[float, ...] | None,
    *,
    float64_rescale: bool,
) -> list[np.ndarray]:
    """Per channel, the float32 input value of each uint8 level: the references' rescale
    (``transformers``: a float64 product; ``to_tensor``: a float32 division) then
    ``(x - mean) / std`` in float32, computed once for the 256 levels."""
    levels = np.arange(256)
    if rescale is None:
        base = levels.astype(np.float32)
    elif float64_rescale:
        base = (levels.astype(np.float64) * rescale).astype(np.float32)
    else:
        base = np.divide(
            levels.astype(np.float32), np.float32(round(1 / rescale)), dtype=np.float32
        )
    if mean is None or std is None:
        return [base] * 3
    return [(base - np.float32(m)) / np.float32(s) for m, s in zip(mean, std, strict=True)]


def aa_taps(src: int, dst: int) -> tuple[np.ndarray, np.ndarray]:
    """PyTorch's antialiased bilinear taps for one axis: source indices and float32 weights,
    ``dst`` x K (unused taps have weight 0)."""
    scale = src / dst
    support = scale if scale >= 1 else 1.0
    invscale = 1 / scale if scale >= 1 else 1.0
    center = scale * (np.arange(dst) + 0.5)
    lo = np.maximum((center - support + 0.5).astype(np.int64), 0)
    hi = np.minimum((center + support + 0.5).astype(np.int64), src)
    k = int((hi - lo).max())
    index = lo[:, None] + np.arange(k)
    taps = np.maximum(0, 1 - np.abs((index - center[:, None] + 0.5) * invscale))
    taps[index >= hi[:, None]] = 0
    taps /= taps.sum(1, keepdims=True)
    return np.minimum(index, src - 1), taps.astype(np.float32)


def resize_antialiased(chw: np.ndarray, height: int, width: int) -> np.ndarray:
    """``F.interpolate(mode="bilinear", antialias=True)`` of a C x H x W float32 image."""
    if chw.shape[1:] == (height, width):
        return chw
    cols, wx = aa_taps(chw.shape[2], width)  # the width pass first, as PyTorch
    across = chw[:, :, cols[:, 0]] * wx[:, 0]
    for j in range(1, cols.shape[1]):
        across += chw[:, :, cols[:, j]] * wx[:, j]
    rows, wy = aa_taps(chw.shape[1], height)
    out = across[:, rows[:, 0], :] * wy[:, :1]
    for j in range(1, rows.shape[1]):
        out += across[:, rows[:, j], :] * wy[:, j : j + 1]
    return out


def sigmoid_top_k(logits: np.ndarray, boxes: np.ndarray, k: int, settings: Settings) -> Detections:
    """Sigmoid scores, the top `k` (query, class) pairs over Q x C, then :func:`best_first`."""
    prob = sigmoid(logits).ravel()
    top = np.argsort(-prob, kind="stable")[: min(k, prob.size)]
    nc = logits.shape[1]
    return best_first(boxes[top // nc], prob[top], top % nc, settings)


@dataclass
class DeployDetr:
    """An RT-DETR / D-FINE / DEIM export whose graph ends in the post-processor."""

    input_hw: tuple[int, int]
    size_input: str
    size_dtype: type
    roles: dict[str, int]
    dtype: type = np.float32
    name: str = "d-fine"
    masks: bool = field(default=False, init=False)

    def prepare(self, rgb: np.ndarray) -> Prepared:
        """Stretch to the input size (PIL bilinear), / 255, NCHW; the original (width, height)."""
        height, width = rgb.shape[:2]
        pixels = pil_resize(rgb, self.input_hw[1], self.input_hw[0])
        tensor = to_input(pixels, bgr=False, scale01=True, dtype=self.dtype)
        sizes = np.array([[width, height]], self.size_dtype)
        return Prepared(tensor, height, width, feeds={self.size_input: sizes})

    def decode(
        self, outputs: list[np.ndarray], prepared: Prepared, settings: Settings
    ) -> Detections:
        """The graph's own top-k: scores ``> conf``, best first."""
        boxes = np.asarray(outputs[self.roles["boxes"]], np.float32).reshape(-1, 4)
        scores = np.asarray(outputs[self.roles["scores"]], np.float32).reshape(-1)
        labels = np.asarray(outputs[self.roles["labels"]]).reshape(-1).astype(np.int64)
        if not len(boxes) == len(scores) == len(labels):
            raise ValueError(
                f"{len(boxes)} boxes, {len(scores)} scores and {len(labels)} labels do not match"
            )
        return best_first(boxes.copy(), scores, labels, settings)


def corners(cxcywh: np.ndarray) -> np.ndarray:
    """``center_to_corners_format``: cx, cy, w, h -> x1, y1, x2, y2 (float32)."""
    cx, cy, w, h = cxcywh[:, 0], cxcywh[:, 1], cxcywh[:, 2], cxcywh[:, 3]
    half = np.float32(0.5)
    return np.stack([cx - half * w, cy - half * h, cx + half * w, cy + half * h], 1)


def sigmoid(x: np.ndarray) -> np.ndarray:
    """float32 logistic function."""
    return np.float32(1) / (np.float32(1) + np.exp(-x))


def best_first(
    boxes: np.ndarray, scores: np.ndarray, classes: np.ndarray, settings: Settings
) -> Detections:
    """Predictions scoring ``> conf``, sorted by score (stable), the best ``max_dets``."""
    keep = np.flatnonzero(scores > settings.conf)
    keep = keep[np.argsort(-scores[keep], kind="stable")][: settings.max_dets]
    return Detections(
        np.ascontiguousarray(boxes[keep], np.float32),
        scores[keep].astype(np.float32),
        classes[keep].astype(np.int64),
    )
