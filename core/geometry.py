"""Label geometry: boxes, polygons and RLE masks, with areas as pycocotools computes them.

A *segmentation* is what COCO stores: a list of polygon parts (each a flat ``[x0, y0, x1, y1, ...]``),
or an RLE dict (``{"size": [h, w], "counts": str | list[int]}``), or ``None`` for a box-only label.
"""

from __future__ import annotations

from collections.abc import Sequence
from itertools import chain
from typing import Any

import numpy as np
from pycocotools import mask as mask_utils

from . import contours, opencv

Box = list[float]  # COCO xywh
Segmentation = list[list[float]] | dict[str, Any] | None


def is_polygon(segmentation: Segmentation) -> bool:
    """True if the segmentation is a list of polygon parts."""
    return isinstance(segmentation, list)


def is_rle(segmentation: Segmentation) -> bool:
    """True if the segmentation is an RLE dict (compressed or not)."""
    return isinstance(segmentation, dict)


def to_rle(
    segmentation: Segmentation, height: int, width: int, box: Sequence[float] | None = None
) -> dict:
    """Encode any segmentation (or, without one, the box) as one compressed RLE."""
    if segmentation is None or (is_polygon(segmentation) and not segmentation):
        if box is None:
            raise ValueError("a label without segmentation needs a box")
        segmentation = _box_outline(box)
    if is_polygon(segmentation):
        parts = [list(map(float, part)) for part in segmentation]
        return mask_utils.merge(mask_utils.frPyObjects(parts, height, width))
    if isinstance(segmentation.get("counts"), list):
        return mask_utils.frPyObjects(segmentation, height, width)
    return segmentation


def _box_outline(box: Sequence[float]) -> list[list[float]]:
    """The polygon :func:`to_rle` rasterises for a label without segmentation."""
    x, y, w, h = (float(v) for v in box)
    return [[x, y, x, y + h, x + w, y + h, x + w, y]]


_NUMBERS = frozenset((int, float))


def _as_read(segmentation: list) -> list:
    """The polygon parts as :func:`to_rle` hands them to pycocotools (every number made a
    float): the parts themselves when they are lists of ints and floats only (pycocotools reads
    each part with ``np.array(part, dtype=double)``, which converts them as ``float()`` does),
    converted otherwise."""
    if all(type(part) is list for part in segmentation) and _NUMBERS.issuperset(
        map(type, chain.from_iterable(segmentation))
    ):
        return segmentation
    return [list(map(float, part)) for part in segmentation]


def to_rles(
    segmentations: Sequence[Segmentation],
    height: int,
    width: int,
    boxes: Sequence[Sequence[float] | None] | None = None,
) -> list[dict]:
    """:func:`to_rle` of many segmentations of one image size (``boxes[k]`` for the k-th), the
    same RLEs, with the polygons rasterised in one pycocotools call (one call per label cost ~1 s
    for 37k labels).

    pycocotools' ``frPyObjects`` picks its reader from the first item of the list it is given
    (more than 4 numbers: polygons, exactly 4: boxes), and rasterises each polygon on its own; so
    the parts of every polygon label whose first part has more than 4 numbers go into the one
    call (``merge`` of a single part returns its RLE unchanged, so one-part labels skip it). Any
    other segmentation (RLE dicts, first parts of <= 4 numbers) goes through :func:`to_rle`."""
    out: list[dict | None] = [None] * len(segmentations)
    parts: list[list[float]] = []
    spans: list[tuple[int, int, int]] = []  # label, its first and end part in ``parts``
    for k, seg in enumerate(segmentations):
        box = None if boxes is None else boxes[k]
        if (seg is None or (is_polygon(seg) and not seg)) and box is not None:
            seg = _box_outline(box)
        if is_polygon(seg) and seg:
            own = _as_read(seg)
            if len(own[0]) > 4:
                spans.append((k, len(parts), len(parts) + len(own)))
                parts += own
                continue
        out[k] = to_rle(seg, height, width, box=box)
    if parts:
        rles = mask_utils.frPyObjects(parts, height, width)
        for k, start, end in spans:
            out[k] = rles[start] if end - start == 1 else mask_utils.merge(rles[start:end])
    return out  # type: ignore[return-value]  # every slot filled


def polygon_bbox(segmentation: list[list[float]]) -> Box:
    """The tight xywh box around all polygon parts (sub-pixel floats kept)."""
    xs = [v for part in segmentation for v in part[0::2]]
    ys = [v for part in segmentation for v in part[1::2]]
    x0, y0 = min(xs), min(ys)
    return [x0, y0, max(xs) - x0, max(ys) - y0]


def segmentation_area(
    segmentation: Segmentation, height: int, width: int, box: Sequence[float]
) -> float:
    """Area as pycocotools computes it: mask pixel count for segmentations, w*h for boxes."""
    if segmentation is None or (is_polygon(segmentation) and not segmentation):
        return float(box[2]) * float(box[3])
    return float(mask_utils.area(to_rle(segmentation, height, width)))


def segmentation_bbox(segmentation: Segmentation, height: int, width: int) -> Box:
    """Box of a segmentation: exact polygon bounds, or pycocotools' toBbox for RLE."""
    if is_polygon(segmentation):
        return polygon_bbox(segmentation)
    return [float(v) for v in mask_utils.toBbox(to_rle(segmentation, height, width))]


def box_to_polygon(box: Sequence[float]) -> list[list[float]]:
    """A one-part rectangle polygon for an xywh box."""
    x, y, w, h = (float(v) for v in box)
    return [[x, y, x + w, y, x + w, y + h, x, y + h]]


def fit_polygon_to_box(segmentation: list[list[float]], box: Sequence[float]) -> list[list[float]]:
    """Scale and shift polygon parts so that their bounds become ``box`` (keeps the shape)."""
    sx, sy, sw, sh = polygon_bbox(segmentation)
    x, y, w, h = (float(v) for v in box)
    kx = w / sw if sw > 0 else 1.0
    ky = h / sh if sh > 0 else 1.0
    out = []
    for part in segmentation:
        arr = np.asarray(part, dtype=np.float64).reshape(-1, 2)
        arr[:, 0] = x + (arr[:, 0] - sx) * kx
        arr[:, 1] = y + (arr[:, 1] - sy) * ky
        out.append(arr.ravel().tolist())
    return out


def clamp_polygon(segmentation: list[list[float]], height: int, width: int) -> list[list[float]]:
    """Clamp every vertex into the image rectangle [0, width] x [0, height]."""
    out = []
    for part in segmentation:
        arr = np.asarray(part, dtype=np.float64).reshape(-1, 2)
        arr[:, 0] = np.clip(arr[:, 0], 0.0, float(width))
        arr[:, 1] = np.clip(arr[:, 1], 0.0, float(height))
        out.append(arr.ravel().tolist())
    return out


def clamp_box(box: Sequence[float], height: int, width: int) -> Box:
    """Clamp an xywh box into the image; keeps sub-pixel floats."""
    x0 = min(max(float(box[0]), 0.0), float(width))
    y0 = min(max(float(box[1]), 0.0), float(height))
    x1 = min(max(float(box[0]) + float(box[2]), 0.0), float(width))
    y1 = min(max(float(box[1]) + float(box[3]), 0.0), float(height))
    return [x0, y0, max(x1 - x0, 0.0), max(y1 - y0, 0.0)]


def rle_to_polygon(rle: dict, height: int, width: int) -> list[list[float]]:
    """Outer outlines of an RLE mask as polygon parts, each with >= 3 points.

    The outline runs along the pixels' edges, so pycocotools rasterises the polygon back to the
    mask (a contour through the border pixels' centres, as ``findContours`` gives it, loses half a
    pixel all round: a 20x20 square came back as 19x19). The mask is traced at twice its size,
    where each border pixel's outer half is a pixel of its own, and ``ceil(c / 2)`` maps those
    halves' centres onto the pixel edges. OpenCV's ``findContours`` (external borders, simple
    chain) traces; without OpenCV (the app bundle) :func:`.contours.outer_contours` gives the
    same points.
    """
    mask = mask_utils.decode(to_rle(rle, height, width))
    rows, cols = np.flatnonzero(mask.any(axis=1)), np.flatnonzero(mask.any(axis=0))
    if not len(rows):
        return []
    y0, x0 = int(rows[0]), int(cols[0])
    crop = mask[y0 : int(rows[-1]) + 1, x0 : int(cols[-1]) + 1]
    double = np.ascontiguousarray(np.repeat(np.repeat(crop, 2, axis=0), 2, axis=1), dtype=np.uint8)
    cv2 = opencv.module()
    if cv2 is None:
        found = contours.outer_contours(double)
    else:
        found = cv2.findContours(double, cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_SIMPLE)[0]
    parts = []
    for contour in found:
        points = (contour.reshape(-1, 2).astype(np.int64) + 1) // 2 + (x0, y0)
        kept = np.ones(len(points), dtype=bool)  # two halves of one pixel map to one corner
        kept[1:] = np.any(points[1:] != points[:-1], axis=1)
        if len(points) > 1 and np.array_equal(points[-1], points[0]):
            kept[-1] = False
        points = points[kept]
        if len(points) >= 3:
            parts.append(points.reshape(-1).astype(float).tolist())
    return parts
