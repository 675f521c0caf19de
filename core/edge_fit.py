"""Image evidence for inaccurate_label (score version 8): does the label's outline sit on the
image's edges, or would it sit better where its prediction is?

A COCO polygon traces its object's boundary, so along a right label the image's gradient is
strong against the texture the label encloses; a label that is too large, too small or shifted
runs over arbitrary texture. The prediction's box alone says little (a box's border touches its
object at a few points only), so the label's own polygon is moved onto the prediction's box (its
bounds mapped onto the box) and both outlines are measured on the same image. An outline's
contrast is the mean gradient magnitude along it over the mean inside its bounds; ``fit`` is the
moved outline's contrast over the label's (ratios of means on the same image: they mean the same
on any image and any detector). The suspect's score is multiplied by ``2 fit / (1 + fit)``: the
moved outline's share of the two contrasts over the share of two equal ones (0.5), so a label
and a moved copy that fit alike leave the score as it was, and the factor stays below 2.

Bounded: only inaccurate_label suspects whose label has a polygon (a box's border is not an
outline: measured, boxes against boxes ranked worse), on the first :data:`IMAGE_BUDGET` images
in the order of their best such suspect's score (an analysis in passes, too large for memory,
takes them chunk by chunk in image order); any other row, and any row whose image file is
missing, unreadable or of another size than its record, keeps factor 1.

Bench (bench/quality_offline.py, paired over seeds 0-9, inaccurate_label AP / all kinds AP):
CenterNet +0.089 / +0.028, NanoDet +0.097 / +0.022, blurred +0.078 / +0.024, synthetic +0.027 /
+0.012 (the mean along each outline alone, not over its bounds: +0.062 / +0.063 / +0.052 /
+0.025); see bench/bench_quality.py's history.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from .errors import KIND_CODE, SUSPECT_COL
from .images import load_image
from .result_rows import prediction_boxes

if TYPE_CHECKING:
    from .store import Store

IMAGE_BUDGET = 200
"""The most image files one analysis (or re-analysis) reads for this evidence."""

_GRAY = np.array([0.299, 0.587, 0.114], dtype=np.float32)  # ITU-R BT.601 luma


def gradient_magnitude(gray: np.ndarray) -> np.ndarray:
    """Sobel gradient magnitude of a 2-D image (edges repeated at its border)."""
    p = np.pad(np.asarray(gray, dtype=np.float32), 1, mode="edge")
    gx = (p[:-2, 2:] + 2 * p[1:-1, 2:] + p[2:, 2:]) - (p[:-2, :-2] + 2 * p[1:-1, :-2] + p[2:, :-2])
    gy = (p[2:, :-2] + 2 * p[2:, 1:-1] + p[2:, 2:]) - (p[:-2, :-2] + 2 * p[:-2, 1:-1] + p[:-2, 2:])
    return np.hypot(gx, gy)


def polygons_of(segmentation: object) -> list[np.ndarray]:
    """The polygons (n x 2, n >= 3) of a COCO polygon segmentation; [] for RLE or none."""
    if not isinstance(segmentation, list):
        return []
    out = []
    for poly in segmentation:
        if isinstance(poly, list) and len(poly) >= 6:
            xy = np.asarray(poly[: len(poly) // 2 * 2], dtype=np.float64).reshape(-1, 2)
            if np.isfinite(xy).all():
                out.append(xy)
    return out


def outline_points(polygons: Sequence[np.ndarray]) -> np.ndarray:
    """Points about 1 px apart along the closed polygons (m x 2)."""
    parts = [np.zeros((0, 2))]
    for poly in polygons:
        step = np.roll(poly, -1, axis=0) - poly
        n = np.maximum(np.ceil(np.hypot(step[:, 0], step[:, 1])), 1).astype(np.int64)
        edge = np.repeat(np.arange(len(poly)), n)
        t = (np.arange(int(n.sum())) - np.repeat(np.cumsum(n) - n, n)) / n[edge]
        parts.append(poly[edge] + step[edge] * t[:, None])
    return np.concatenate(parts)


def moved_onto(polygons: Sequence[np.ndarray], box: Sequence[float]) -> list[np.ndarray]:
    """The polygons with their joint bounds mapped onto ``box`` (x, y, w, h)."""
    every = np.concatenate(polygons)
    x0, y0 = every.min(axis=0)
    x1, y1 = every.max(axis=0)
    bx, by, bw, bh = (float(v) for v in box)
    kx, ky = bw / max(x1 - x0, 1e-9), bh / max(y1 - y0, 1e-9)
    return [np.column_stack([bx + (p[:, 0] - x0) * kx, by + (p[:, 1] - y0) * ky]) for p in polygons]


def fit_ratio(gray: np.ndarray, polygons: Sequence[np.ndarray], box: Sequence[float]) -> float:
    """The contrast of the polygons moved onto ``box`` over the contrast of the polygons where
    they are, on the gray image: an outline's contrast is the mean gradient along it over the
    mean gradient inside its bounds (how much more edge it runs on than the texture it encloses;
    outline points outside the image are clamped to its border). nan when either is undefined
    (no gradient at all, or bounds without pixels)."""
    h, w = gray.shape
    moved = moved_onto(polygons, box)
    label_points, moved_points = outline_points(polygons), outline_points(moved)
    both = np.concatenate([label_points, moved_points])
    xi = np.clip(np.floor(both[:, 0]).astype(np.int64), 0, w - 1)
    yi = np.clip(np.floor(both[:, 1]).astype(np.int64), 0, h - 1)
    # the gradient of the region the outlines cover (1 px more for the Sobel kernel)
    xa, xb = max(int(xi.min()) - 1, 0), min(int(xi.max()) + 2, w)
    ya, yb = max(int(yi.min()) - 1, 0), min(int(yi.max()) + 2, h)
    grad = gradient_magnitude(gray[ya:yb, xa:xb])
    values = grad[yi - ya, xi - xa]
    split = len(label_points)
    label = _contrast(grad, (xa, ya), values[:split], polygons, (w, h))
    there = _contrast(grad, (xa, ya), values[split:], moved, (w, h))
    return there / label if label > 0 else math.nan


def _contrast(
    grad: np.ndarray,
    origin: tuple[int, int],
    on_outline: np.ndarray,
    polygons: Sequence[np.ndarray],
    size: tuple[int, int],
) -> float:
    """Mean of ``on_outline`` over the mean of ``grad`` (a crop of the image's gradient at
    ``origin``) inside the polygons' bounds (clamped to the image of ``size``: w, h)."""
    every = np.concatenate(polygons)
    (x0, y0), (x1, y1) = every.min(axis=0), every.max(axis=0)
    w, h = size
    xa, xb = max(math.floor(x0), 0), min(math.ceil(x1), w)
    ya, yb = max(math.floor(y0), 0), min(math.ceil(y1), h)
    inside = grad[ya - origin[1] : yb - origin[1], xa - origin[0] : xb - origin[0]]
    if not inside.size:
        return math.nan
    texture = float(inside.mean())
    return float(on_outline.mean()) / texture if texture > 0 else math.nan


def factor(ratio: float) -> float:
    """``2 r / (1 + r)``: 1 when both outlines fit alike, towards 2 when only the moved one
    does, towards 0 when only the label does; 1 for an unknown ratio."""
    if not math.isfinite(ratio) or ratio < 0:
        return 1.0
    return 2.0 * ratio / (1.0 + ratio)


@dataclass
class ImageEvidence:
    """What :func:`apply` did: rows measured and image files it could not use."""

    images: int = 0  # taken into the budget
    measured: int = 0
    missing: list[str] = field(default_factory=list)  # missing, unreadable or of another size

    def warnings(self) -> list[str]:
        """A warning naming the image files that could not be used (none if all were)."""
        if not self.missing:
            return []
        shown = ", ".join(self.missing[:5]) + (", ..." if len(self.missing) > 5 else "")
        return [
            f"inaccurate_label image evidence: {len(self.missing)} image file(s) missing, "
            f"unreadable or of another size than their record (their suspects keep their "
            f"score): {shown}"
        ]


def gray_pixels(path: Path | None, size: tuple[int, int] | None) -> np.ndarray | None:
    """The image's gray pixels, or None when the file is missing, unreadable or its size is
    not the record's (height, width)."""
    if path is None or not path.is_file():
        return None
    rgb, _ = load_image(path)
    if rgb is None or rgb.ndim != 3 or (size is not None and tuple(rgb.shape[:2]) != size):
        return None
    return rgb.astype(np.float32) @ _GRAY


def apply(
    scored: np.ndarray,
    boxes: Callable[[Sequence[int]], dict[int, np.ndarray]],
    label: Callable[[int], dict | None],
    image: Callable[[int], tuple[Path | None, tuple[int, int] | None]],
    budget: int = IMAGE_BUDGET,
    on_image: Callable[[int, np.ndarray], None] | None = None,
) -> ImageEvidence:
    """Multiply, in place, the score (last column) of ``scored``'s inaccurate_label rows (a
    suspects array, core.errors.SUSPECT_COLUMNS + score) by :func:`factor` of their label's
    :func:`fit_ratio` against their prediction's box, on up to ``budget`` images (those of
    the highest-scored such rows first). ``boxes(prediction ids)`` gives the boxes,
    ``label(annotation id)`` a label dict (with ``segmentation``), ``image(image id)`` the
    image file's path (None without an image folder) and its (height, width);
    ``on_image(image id, gray pixels)`` is called on every image decoded (score version 9)."""
    out = ImageEvidence()
    if budget <= 0 or not len(scored):
        return out
    kind = scored[:, SUSPECT_COL["kind"]]
    pred = scored[:, SUSPECT_COL["prediction_id"]]
    ann = scored[:, SUSPECT_COL["annotation_id"]]
    rows = np.flatnonzero(
        (kind == KIND_CODE["inaccurate_label"]) & ~np.isnan(pred) & ~np.isnan(ann)
    )
    if not len(rows):
        return out
    rows = rows[np.argsort(-scored[rows, -1], kind="stable")]  # best first
    by_image: dict[int, list[int]] = {}
    for r in rows.tolist():
        im = int(scored[r, SUSPECT_COL["image_id"]])
        if im in by_image or len(by_image) < budget:
            by_image.setdefault(im, []).append(r)
    out.images = len(by_image)
    wanted = [int(scored[r, SUSPECT_COL["prediction_id"]]) for rs in by_image.values() for r in rs]
    box_of = boxes(wanted)
    for im, rs in by_image.items():
        path, size = image(im)
        if path is None:
            continue  # no image folder (or no such image): nothing to measure
        todo = []
        for r in rs:
            lab = label(int(scored[r, SUSPECT_COL["annotation_id"]]))
            polygons = polygons_of(None if lab is None else lab.get("segmentation"))
            box = box_of.get(int(scored[r, SUSPECT_COL["prediction_id"]]))
            if polygons and box is not None:
                todo.append((r, polygons, box))
        if not todo:
            continue
        gray = gray_pixels(path, size)
        if gray is None:
            out.missing.append(str(path))
            continue
        for r, polygons, box in todo:
            scored[r, -1] = min(1.0, scored[r, -1] * factor(fit_ratio(gray, polygons, box)))
            out.measured += 1
        if on_image is not None:
            on_image(im, gray)
    return out


def from_store(
    store: Store,
    scored: np.ndarray,
    predictions: dict[str, np.ndarray],
    budget: int = IMAGE_BUDGET,
    on_image: Callable[[int, np.ndarray], None] | None = None,
) -> ImageEvidence:
    """:func:`apply` (``on_image`` passed on) with the project's labels, image folder and the set's prediction columns
    (``id``, ``box``); nothing is read without an image folder."""
    root = store.images_root
    if root is None or not len(scored) or budget <= 0:
        return ImageEvidence()

    def boxes(ids: Sequence[int]) -> dict[int, np.ndarray]:
        return prediction_boxes(predictions["id"], predictions["box"], np.asarray(ids))

    def image(image_id: int) -> tuple[Path | None, tuple[int, int] | None]:
        record = store.image(image_id)
        if record is None:
            return None, None
        size = (int(record["height"]), int(record["width"])) if record.get("height") else None
        return root / record["file_name"], size  # as store.image_path, its root read once

    return apply(scored, boxes, store.annotation, image, budget, on_image)
