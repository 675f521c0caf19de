"""Image-only inaccurate_label suspects (score version 9): would the label's own polygon, moved,
sit better on the image's edges than where it is?

A right label's outline is close to a local maximum of contrast; a scaled or shifted one is
not: it runs over texture, and some move of it runs on edges. :func:`best_move` searches moves
of the polygon (a scale per axis about its bounds' centre and a shift) whose bounds keep box IoU
>= :data:`MIN_IOU` with the label's and stay in the image: a coarse grid on a blurred gradient,
then refined around the best with halved steps on less blurred ones. An outline's contrast is
the median, along it, of the gradient across it (projected on its normal) over what the mean
gradient inside its bounds gives in a random direction (2/pi of it): about 1 on texture alone.
``r`` is the best move's contrast over the label's own, both on the plain gradient.

Every polygon label that no true positive matches and that has no prediction-backed
inaccurate_label suspect is tested, cheapest first (:func:`search`): its own outline must sit on
no edge (:func:`pre_gate`, on a crop around it: contrast below :data:`OWN_MAX`, and no more
gradient across it than across parallel outlines :data:`RIDGE_OFFSET` of its size inside and
outside, :data:`RIDGE_MAX`); then most of the coarse grid's moves must beat it
(:data:`MIN_BETTER`); then the best move must take at least :data:`MIN_SHARE` of the two
contrasts. It is then a suspect with score ``r / (1 + r) - 1/2``: that share beyond an even
split, below 1/2, so the image alone never calls a label more likely wrong than not. Its fix is
the moved polygon, searched again from there until no move makes a suspect (:func:`settle`, in
core.review: the search is deterministic, so the row needs no stored polygon), and offered only
when the move is sure (:data:`SURE_RATIO`: its gain holds under the mean along the outline and on
a blurred gradient); otherwise accepting changes nothing and says so (the reviewer redraws the
label). The search runs on a window of the image it can reach (:func:`window`). Bounded: on the
images core.edge_fit decodes anyway, then further images in id order, :data:`IMAGE_BUDGET` in
all.

Bench (bench/quality_offline.py, paired over seeds 0-9 on score version 8's dumps; bench/quality_log.md
has the numbers): inaccurate_label AP +0.016 / +0.025 / +0.015 / +0.030 (CenterNet / NanoDet /
blurred / synthetic); on real labels (the demo project, the 81 benchmark images without injected
errors) 4 of 426 / 6-9 of 789 polygon labels are suspects, none a clear label error in the
pixels. The offered fix is better than the label (box IoU with the true label) on
61-73% of the injected hits; the unsure ones, withheld, would have been better on 0-25%.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np

from . import edge_fit
from .edge_fit import IMAGE_BUDGET, ImageEvidence, polygons_of
from .errors import KIND_CODE, SUSPECT_COL, SUSPECT_COLUMNS
from .matching import TP

if TYPE_CHECKING:
    from .store import Store

MIN_IOU = 0.3
"""The least box IoU between a label and a move of it (a move past it is another object)."""

SCALES = np.exp(np.linspace(math.log(0.5), math.log(2.0), 9))
"""Coarse scales per axis (about the bounds' centre; 1 is among them)."""

SHIFTS = np.linspace(-0.8, 0.8, 9)
"""Coarse shifts in units of the label's width / height (0 is among them)."""

MIN_SHARE = 0.6
"""The least share of the two contrasts the best move must take (r >= 1.5) to make a suspect:
the search's own noise on a right label stays below it."""

OWN_MAX = 1.0
"""Searched only when the label's own contrast is below this: no more gradient across its
outline than the texture inside its bounds gives in a random direction (a right label's outline
sits on edges, above it; a cheap test before any search)."""

RIDGE_OFFSET = 0.1
RIDGE_MAX = 1.0
"""... and when the gradient across the outline is below RIDGE_MAX times that across the
parallel outlines RIDGE_OFFSET of its smaller side (at least 2 px) inside and outside it: a
right label's outline is a ridge of the gradient, a misplaced one is not."""

MIN_BETTER = 0.5
"""A suspect only when at least this share of the coarse grid's moves fit the image better than
the label itself (most plausible moves beat it; a right label is beaten by few)."""

SURE_RATIO = 1.5
"""The moved polygon is offered as the fix only when its gain over the label holds under two
other measures, the mean along the outline and the gradient blurred by 2 px, each at least this
ratio (the one MIN_SHARE stands for); otherwise the suspect has no automatic fix."""

LOOK_FACTOR = 4
"""Images looked at for candidate labels, per image of the budget (box-only datasets)."""

STARTS = 4
"""The best coarse moves refined (the label itself is refined too)."""

COARSE_MEDIAN = True
FINE_MEDIAN = True
"""The median along the outline (else the mean) in the coarse grid / the refinement: with the
mean the fix landed on other edges more often (bench/quality_log.md)."""

COARSE_POINTS = 64
FINE_POINTS = 96
REFINE_STEPS = 5


@dataclass
class Move:
    """A label's best move: its contrast over the label's, the label's own contrast, the moved
    polygons and their box (x, y, w, h), and how many contours the search measured."""

    ratio: float
    own: float
    polygons: list[np.ndarray]
    box: tuple[float, float, float, float]
    contours: int
    better: float = 0.0  # the share of the coarse grid's moves with more contrast than the label
    sure: bool = False  # the gain holds under the mean and on a blurred gradient (SURE_RATIO)


class ImageGradient:
    """An image's x / y Sobel gradients (box-blurred copies on demand) and the integral image
    of its gradient magnitude (the mean inside any bounds in O(1))."""

    def __init__(self, gray: np.ndarray, frame: tuple[int, int, int, int] | None = None) -> None:
        """``frame``: (x0, y0, width, height) when ``gray`` is a window of a larger image at x0,
        y0 (moves stay inside the whole image's bounds); the window's own size when None."""
        p = np.pad(np.asarray(gray, dtype=np.float32), 1, mode="edge")
        gx = (p[:-2, 2:] + 2 * p[1:-1, 2:] + p[2:, 2:]) - (
            p[:-2, :-2] + 2 * p[1:-1, :-2] + p[2:, :-2]
        )
        gy = (p[2:, :-2] + 2 * p[2:, 1:-1] + p[2:, 2:]) - (
            p[:-2, :-2] + 2 * p[:-2, 1:-1] + p[:-2, 2:]
        )
        self.h, self.w = gx.shape
        self.frame = frame if frame is not None else (0, 0, self.w, self.h)
        self.integral = _integral(np.hypot(gx, gy))  # gradient_magnitude's, from the same Sobel
        self._signed: dict[int, tuple[np.ndarray, np.ndarray]] = {0: (gx, gy)}

    def signed(self, radius: int) -> tuple[np.ndarray, np.ndarray]:
        """The x and y gradients averaged over a (2 radius + 1) square."""
        if radius not in self._signed:
            gx, gy = self._signed[0]
            self._signed[radius] = (_box(gx, radius), _box(gy, radius))
        return self._signed[radius]

    def inside_mean(self, b: np.ndarray) -> np.ndarray:
        """Mean gradient magnitude inside each bounds (x0, y0, x1, y1; clamped to the image;
        nan when empty)."""
        xa = np.clip(np.floor(b[:, 0]), 0, self.w).astype(np.int64)
        xb = np.clip(np.ceil(b[:, 2]), 0, self.w).astype(np.int64)
        ya = np.clip(np.floor(b[:, 1]), 0, self.h).astype(np.int64)
        yb = np.clip(np.ceil(b[:, 3]), 0, self.h).astype(np.int64)
        s = self.integral
        total = s[yb, xb] - s[ya, xb] - s[yb, xa] + s[ya, xa]
        n = (xb - xa) * (yb - ya)
        return np.where(n > 0, total / np.maximum(n, 1), np.nan)


def _integral(a: np.ndarray) -> np.ndarray:
    s = np.zeros((a.shape[0] + 1, a.shape[1] + 1), dtype=np.float64)
    s[1:, 1:] = a.cumsum(axis=0).cumsum(axis=1)
    return s


def _box(a: np.ndarray, radius: int) -> np.ndarray:
    """``a`` averaged over a (2 radius + 1) square (edges repeated)."""
    k = 2 * radius + 1
    h, w = a.shape
    p = np.pad(_integral(a), ((radius, radius + 1), (radius, radius + 1)), mode="edge")
    out = p[k:, k:] - p[:-k, k:] - p[k:, :-k] + p[:-k, :-k]
    return (out[:h, :w] / (k * k)).astype(np.float32)


def outline_with_normals(polygons: Sequence[np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
    """Points about 1 px apart along the closed polygons and each point's unit normal."""
    pts, nrm = [np.zeros((0, 2))], [np.zeros((0, 2))]
    for poly in polygons:
        step = np.roll(poly, -1, axis=0) - poly
        length = np.hypot(step[:, 0], step[:, 1])
        n = np.maximum(np.ceil(length), 1).astype(np.int64)
        edge = np.repeat(np.arange(len(poly)), n)
        t = (np.arange(int(n.sum())) - np.repeat(np.cumsum(n) - n, n)) / n[edge]
        pts.append(poly[edge] + step[edge] * t[:, None])
        unit = step / np.maximum(length, 1e-9)[:, None]
        nrm.append(np.column_stack([unit[edge, 1], -unit[edge, 0]]))
    return np.concatenate(pts), np.concatenate(nrm)


def _even(a: np.ndarray, n: int) -> np.ndarray:
    """At most ``n`` of the rows, evenly spread."""
    return a if len(a) <= n else a[np.linspace(0, len(a) - 1, n).astype(np.int64)]


def moved_bounds(bounds: np.ndarray, moves: np.ndarray) -> np.ndarray:
    """The bounds (x0, y0, x1, y1) after each move (sx, sy, dx, dy)."""
    cx, cy = (bounds[0] + bounds[2]) / 2, (bounds[1] + bounds[3]) / 2
    hw, hh = (bounds[2] - bounds[0]) / 2, (bounds[3] - bounds[1]) / 2
    sx, sy, dx, dy = moves.T
    return np.column_stack(
        [cx + dx - hw * sx, cy + dy - hh * sy, cx + dx + hw * sx, cy + dy + hh * sy]
    )


def _contrasts(
    g: ImageGradient,
    radius: int,
    outline: tuple[np.ndarray, np.ndarray],
    bounds: np.ndarray,
    moves: np.ndarray,
    median: bool = False,
) -> np.ndarray:
    """The contrast (see the module) of each move (sx, sy, dx, dy in px) of the outline
    (points, unit normals) of ``bounds`` (x0, y0, x1, y1), on the gradient blurred by ``radius``."""
    points, normals = outline
    cx, cy = (bounds[0] + bounds[2]) / 2, (bounds[1] + bounds[3]) / 2
    sx, sy, dx, dy = (moves[:, i : i + 1] for i in range(4))
    xi = np.clip((cx + (points[None, :, 0] - cx) * sx + dx).astype(np.int64), 0, g.w - 1)
    yi = np.clip((cy + (points[None, :, 1] - cy) * sy + dy).astype(np.int64), 0, g.h - 1)
    nx, ny = normals[None, :, 0] / sx, normals[None, :, 1] / sy  # normals under the scaling
    gx, gy = g.signed(radius)
    across = np.abs(gx[yi, xi] * nx + gy[yi, xi] * ny) / np.maximum(np.hypot(nx, ny), 1e-12)
    inside = g.inside_mean(moved_bounds(bounds, moves)) * (2 / np.pi)
    with np.errstate(invalid="ignore", divide="ignore"):
        along = np.median(across, axis=1) if median else across.mean(axis=1)
        return np.where(inside > 0, along / inside, np.nan)


def _allowed(g: ImageGradient, bounds: np.ndarray, moves: np.ndarray) -> np.ndarray:
    """The moves whose bounds keep IoU >= MIN_IOU with ``bounds`` and stay in the image."""
    b = moved_bounds(bounds, moves)
    iw = np.clip(np.minimum(b[:, 2], bounds[2]) - np.maximum(b[:, 0], bounds[0]), 0, None)
    ih = np.clip(np.minimum(b[:, 3], bounds[3]) - np.maximum(b[:, 1], bounds[1]), 0, None)
    inter = iw * ih
    area = (bounds[2] - bounds[0]) * (bounds[3] - bounds[1])
    union = area + (b[:, 2] - b[:, 0]) * (b[:, 3] - b[:, 1]) - inter
    x0, y0, width, height = g.frame
    inside = (
        (b[:, 0] + x0 >= -1)
        & (b[:, 1] + y0 >= -1)
        & (b[:, 2] + x0 <= width + 1)
        & (b[:, 3] + y0 <= height + 1)
    )
    return inside & (inter >= MIN_IOU * union)


def _radius(px: float) -> int:
    """The blur radius (0 or a power of 2, at most 16) at most ``px``."""
    return 0 if px < 1 else int(min(16, 2 ** math.floor(math.log2(px))))


def best_move(
    g: ImageGradient, polygons: Sequence[np.ndarray], min_better: float = 0.0
) -> Move | None:
    """The move of ``polygons`` with the highest contrast (see the module); None when the label
    is smaller than 2 px either way, has no contrast of its own, or fewer than ``min_better`` of
    the coarse grid's moves beat it (then without refining)."""
    every = np.concatenate(polygons)
    bounds = np.concatenate([every.min(axis=0), every.max(axis=0)]).astype(np.float64)
    w, h = bounds[2] - bounds[0], bounds[3] - bounds[1]
    if w < 2 or h < 2:
        return None
    points, normals = outline_with_normals(polygons)
    coarse = (_even(points, COARSE_POINTS), _even(normals, COARSE_POINTS))
    fine = (_even(points, FINE_POINTS), _even(normals, FINE_POINTS))
    moves = np.stack(np.meshgrid(SCALES, SCALES, SHIFTS * w, SHIFTS * h, indexing="ij"), -1)
    moves = moves.reshape(-1, 4)
    moves = moves[_allowed(g, bounds, moves)]  # the label itself always is
    log_step = math.log(SCALES[1] / SCALES[0])
    step = np.array([log_step, log_step, (SHIFTS[1] - SHIFTS[0]) * w, (SHIFTS[1] - SHIFTS[0]) * h])
    coarse_radius = _radius(min(step[2], step[3]) / 2)
    c = _contrasts(g, coarse_radius, coarse, bounds, moves, COARSE_MEDIAN)
    tried = len(moves)
    if not np.isfinite(c).any():
        return None
    identity = np.array([1.0, 1.0, 0.0, 0.0])
    itself = _contrasts(g, coarse_radius, coarse, bounds, identity[None], COARSE_MEDIAN)[0]
    better = float(np.mean(c > itself)) if np.isfinite(itself) else 1.0
    if better < min_better:
        return None  # most moves do not beat the label: no refinement needed
    order = np.argsort(-np.nan_to_num(c, nan=-np.inf), kind="stable")[:STARTS]
    starts = [moves[i] for i in order.tolist() if np.isfinite(c[i])] + [identity]
    offsets = np.stack(np.meshgrid(*[np.array([-1.0, 0.0, 1.0])] * 4, indexing="ij"), -1)
    offsets = offsets.reshape(-1, 4)
    bests = np.array(starts)  # every start refined at once, one step size after another
    step_k = step
    for _ in range(REFINE_STEPS):
        step_k = step_k / 2
        near = (
            np.concatenate(
                [
                    bests[:, None, 0] * np.exp(offsets[None, :, 0] * step_k[0]),
                    bests[:, None, 1] * np.exp(offsets[None, :, 1] * step_k[1]),
                    bests[:, None, 2] + offsets[None, :, 2] * step_k[2],
                    bests[:, None, 3] + offsets[None, :, 3] * step_k[3],
                ]
            )
            .reshape(4, -1)
            .T
        )
        ok = _allowed(g, bounds, near)
        tried += int(ok.sum())
        radius = _radius(min(step_k[2], step_k[3]) / 2)
        c = np.full(len(near), -np.inf)
        c[ok] = np.nan_to_num(
            _contrasts(g, radius, fine, bounds, near[ok], FINE_MEDIAN), nan=-np.inf
        )
        c = c.reshape(len(bests), -1)
        pick = np.argmax(c, axis=1)
        moved = np.isfinite(c[np.arange(len(bests)), pick])
        candidates = near.reshape(len(bests), -1, 4)[np.arange(len(bests)), pick]
        bests = np.where(moved[:, None], candidates, bests)
    ends = list(bests)
    # the ends and the label itself on the plain gradient: the best of them
    ends = np.array([identity, *ends])
    final = _contrasts(g, 0, fine, bounds, ends, FINE_MEDIAN)
    tried += len(ends)
    if not np.isfinite(final).any():
        return None
    best = ends[int(np.nanargmax(final))]
    own, there = float(final[0]), float(np.nanmax(final))
    if not (math.isfinite(own) and own > 0 and math.isfinite(there)):
        return None
    cx, cy = (bounds[0] + bounds[2]) / 2, (bounds[1] + bounds[3]) / 2
    moved = [
        np.column_stack(
            [cx + (p[:, 0] - cx) * best[0] + best[2], cy + (p[:, 1] - cy) * best[1] + best[3]]
        )
        for p in polygons
    ]
    b = moved_bounds(bounds, best[None])[0]
    box = (float(b[0]), float(b[1]), float(b[2] - b[0]), float(b[3] - b[1]))
    pair = np.array([identity, best])
    mean = _contrasts(g, 0, fine, bounds, pair, median=False)
    blurred = _contrasts(g, 2, fine, bounds, pair, median=True)
    with np.errstate(invalid="ignore", divide="ignore"):
        sure = bool(mean[1] >= SURE_RATIO * mean[0] and blurred[1] >= SURE_RATIO * blurred[0])
    return Move(float(there / own), float(own), moved, box, tried + 4, better, sure)


class Pixels:
    """An image's gray pixels and, made on first use, its :class:`ImageGradient` (most images
    have no label that passes :func:`pre_gate`: their whole gradient is never made)."""

    def __init__(self, gray: np.ndarray) -> None:
        self.gray = gray
        self._gradient: ImageGradient | None = None

    @property
    def gradient(self) -> ImageGradient:
        if self._gradient is None:
            self._gradient = ImageGradient(self.gray)
        return self._gradient


REACH = 2.2
"""How far from a label's centre, in label widths / heights, any move's bounds reach (scale at
most 2 and shift 0.8 in the grid, less than one more step in the refinement)."""

MARGIN = 20
"""Pixels around that reach in a search window: the widest blur (16) and the Sobel's need."""


def window(pixels: Pixels, polygons: Sequence[np.ndarray]) -> tuple[ImageGradient, np.ndarray]:
    """The gradient of the part of the image a search of ``polygons`` can reach (the whole
    image's, made once, when that part is over half of it) and the window's origin (x, y): the
    search's numbers are the same on it as on the whole image (up to rounding)."""
    height, width = pixels.gray.shape
    every = np.concatenate(polygons)
    lo, hi = every.min(axis=0), every.max(axis=0)
    centre, reach = (lo + hi) / 2, REACH * (hi - lo) + MARGIN
    x0, y0 = (max(0, int(math.floor(v))) for v in centre - reach)
    x1 = min(width, int(math.ceil(centre[0] + reach[0])) + 1)
    y1 = min(height, int(math.ceil(centre[1] + reach[1])) + 1)
    if (x1 - x0) * (y1 - y0) * 2 >= width * height or x1 - x0 < 3 or y1 - y0 < 3:
        return pixels.gradient, np.zeros(2)
    crop = pixels.gray[y0:y1, x0:x1]
    return ImageGradient(crop, (x0, y0, width, height)), np.array([x0, y0], dtype=np.float64)


def pre_gate(gray: np.ndarray, polygons: Sequence[np.ndarray]) -> bool:
    """Whether the label's own outline sits on no edge (:data:`OWN_MAX`, :data:`RIDGE_MAX`),
    measured on a crop around it (the same numbers :class:`ImageGradient` gives there): the
    test before any search."""
    every = np.concatenate(polygons)
    bounds = np.concatenate([every.min(axis=0), every.max(axis=0)]).astype(np.float64)
    w, h = bounds[2] - bounds[0], bounds[3] - bounds[1]
    if w < 2 or h < 2:
        return False
    d = max(2.0, RIDGE_OFFSET * min(w, h))
    m = int(math.ceil(d)) + 3
    height, width = gray.shape
    x0, y0 = max(0, int(math.floor(bounds[0])) - m), max(0, int(math.floor(bounds[1])) - m)
    x1 = min(width, int(math.ceil(bounds[2])) + m + 1)
    y1 = min(height, int(math.ceil(bounds[3])) + m + 1)
    if x1 - x0 < 3 or y1 - y0 < 3:
        return False
    p = np.pad(np.asarray(gray[y0:y1, x0:x1], dtype=np.float32), 1, mode="edge")
    gx = (p[:-2, 2:] + 2 * p[1:-1, 2:] + p[2:, 2:]) - (p[:-2, :-2] + 2 * p[1:-1, :-2] + p[2:, :-2])
    gy = (p[2:, :-2] + 2 * p[2:, 1:-1] + p[2:, 2:]) - (p[:-2, :-2] + 2 * p[:-2, 1:-1] + p[:-2, 2:])
    ch, cw = gx.shape
    xa, xb = (
        int(np.clip(v, 0, cw)) for v in (math.floor(bounds[0]) - x0, math.ceil(bounds[2]) - x0)
    )
    ya, yb = (
        int(np.clip(v, 0, ch)) for v in (math.floor(bounds[1]) - y0, math.ceil(bounds[3]) - y0)
    )
    if xb <= xa or yb <= ya:
        return False
    inside = float(np.hypot(gx[ya:yb, xa:xb], gy[ya:yb, xa:xb]).mean()) * (2 / np.pi)
    points, normals = outline_with_normals([q - (x0, y0) for q in polygons])
    points, normals = _even(points, FINE_POINTS), _even(normals, FINE_POINTS)

    def across(t: float, blurred: bool) -> np.ndarray:
        q = points + normals * t
        xi = np.clip(q[:, 0].astype(np.int64), 0, cw - 1)
        yi = np.clip(q[:, 1].astype(np.int64), 0, ch - 1)
        if not blurred:
            sx, sy = gx[yi, xi], gy[yi, xi]
        else:  # the 3 x 3 mean (edges repeated), as ImageGradient.signed(1)
            sx, sy = np.zeros(len(xi), np.float32), np.zeros(len(xi), np.float32)
            for oy in (-1, 0, 1):
                for ox in (-1, 0, 1):
                    yy, xx = np.clip(yi + oy, 0, ch - 1), np.clip(xi + ox, 0, cw - 1)
                    sx, sy = sx + gx[yy, xx], sy + gy[yy, xx]
            sx, sy = sx / 9, sy / 9
        return np.abs(sx * normals[:, 0] + sy * normals[:, 1])

    if not (inside > 0 and float(np.median(across(0.0, False))) < OWN_MAX * inside):
        return False
    beside = (float(np.median(across(-d, True))) + float(np.median(across(d, True)))) / 2
    return bool(float(np.median(across(0.0, True))) < RIDGE_MAX * beside)


def search(pixels: Pixels, polygons: Sequence[np.ndarray]) -> Move | None:
    """The label's best move when it makes a suspect: its outline passes :func:`pre_gate`, most
    of the coarse moves beat it (:data:`MIN_BETTER`) and the best takes :data:`MIN_SHARE` of
    the two contrasts; None otherwise."""
    if not pre_gate(pixels.gray, polygons):
        return None
    g, origin = window(pixels, polygons)
    move = best_move(g, [p - origin for p in polygons], MIN_BETTER)
    if move is None or move.better < MIN_BETTER or score(move.ratio) <= 0:
        return None
    move.polygons = [p + origin for p in move.polygons]
    move.box = (move.box[0] + origin[0], move.box[1] + origin[1], move.box[2], move.box[3])
    return move


SETTLE_ROUNDS = 4
"""The most searches :func:`settle` makes (each from the last one's move)."""


def settle(pixels: Pixels, polygons: Sequence[np.ndarray]) -> Move | None:
    """:func:`search` again from its own move while that still makes a suspect (at most
    :data:`SETTLE_ROUNDS` searches), so an accepted fix is not a suspect itself; the last move
    (its ratio against the label's own outline, sure when the first search's was), None when
    the label makes no suspect."""
    out = None
    current = list(polygons)
    for _ in range(SETTLE_ROUNDS):
        move = search(pixels, current)
        if move is None:
            break
        if out is None:
            out = move
        else:
            ratio = move.ratio * move.own / out.own
            contours = move.contours + out.contours
            out = Move(ratio, out.own, move.polygons, move.box, contours, out.better, out.sure)
        current = move.polygons
    return out


def score(ratio: float) -> float:
    """``r / (1 + r) - 1/2``: the moved outline's share of the two contrasts beyond an even
    split (below 1/2); 0 when that share is under :data:`MIN_SHARE` or the ratio unknown."""
    if not math.isfinite(ratio) or ratio / (1.0 + ratio) < MIN_SHARE:
        return 0.0
    return ratio / (1.0 + ratio) - 0.5


def _box_iou(a: Sequence[float], b: Sequence[float]) -> float:
    iw = max(0.0, min(a[0] + a[2], b[0] + b[2]) - max(a[0], b[0]))
    ih = max(0.0, min(a[1] + a[3], b[1] + b[3]) - max(a[1], b[1]))
    union = a[2] * a[3] + b[2] * b[3] - iw * ih
    return iw * ih / union if union > 0 else 0.0


@dataclass
class ImageOnly:
    """Image-only inaccurate_label suspects of an analysis, image by image (see the module):
    ``take(image_id, gray)`` on an image decoded anyway, ``more(...)`` for further images."""

    scored: np.ndarray  # the analysis's scored suspects (SUSPECT_COLUMNS + score)
    matches: dict[str, np.ndarray]  # its match columns (annotation_id, outcome)
    labels: Callable[[int], list[dict]]  # image id -> its labels (COCO-like dicts)
    budget: int = IMAGE_BUDGET
    rows: list[np.ndarray] = field(default_factory=list)
    evidence: ImageEvidence = field(default_factory=ImageEvidence)
    contours: int = 0
    seen: set[int] = field(default_factory=set)  # images taken into the budget
    _skip: set[int] = field(default_factory=set)

    def __post_init__(self) -> None:
        inaccurate = self.scored[:, SUSPECT_COL["kind"]] == KIND_CODE["inaccurate_label"]
        ann = self.scored[inaccurate, SUSPECT_COL["annotation_id"]]
        tp = np.asarray(self.matches.get("outcome", np.zeros(0))) == TP
        confirmed = np.asarray(self.matches.get("annotation_id", np.zeros(0)))[tp]
        self._skip = {int(a) for a in np.concatenate([ann, confirmed]) if np.isfinite(a)}

    def _candidates(self, image_id: int) -> list[tuple[dict, list[np.ndarray]]]:
        return [
            (a, polygons)
            for a in self.labels(image_id)
            if not a.get("iscrowd")
            and int(a["id"]) not in self._skip
            and (polygons := polygons_of(a.get("segmentation")))
        ]

    def take(
        self,
        image_id: int,
        gray: np.ndarray,
        candidates: list[tuple[dict, list[np.ndarray]]] | None = None,
    ) -> None:
        """Search the image's candidate labels on its gray pixels (within the budget)."""
        if image_id in self.seen or len(self.seen) >= self.budget:
            return
        self.seen.add(image_id)
        candidates = self._candidates(image_id) if candidates is None else candidates
        if not candidates:
            return
        pixels = Pixels(gray)
        for a, polygons in candidates:
            move = search(pixels, polygons)
            self.evidence.measured += 1
            if move is None:
                continue
            self.contours += move.contours
            value = score(move.ratio)
            if value > 0:
                row = np.full(len(SUSPECT_COLUMNS) + 1, np.nan)
                row[SUSPECT_COL["kind"]] = KIND_CODE["inaccurate_label"]
                row[SUSPECT_COL["image_id"]] = image_id
                row[SUSPECT_COL["annotation_id"]] = a["id"]
                for name in ("other_annotation_id", "prediction_id", "predicted_category_id"):
                    row[SUSPECT_COL[name]] = -1
                row[SUSPECT_COL["category_id"]] = a["category_id"]
                row[SUSPECT_COL["iou"]] = _box_iou(a["bbox"], move.box)
                row[-1] = value
                self.rows.append(row)

    def more(
        self,
        image_ids: Iterable[int],
        gray: Callable[[int], tuple[np.ndarray | None, str | None]],
    ) -> None:
        """Further images in the given order, while the budget lasts (and at most
        :data:`LOOK_FACTOR` x the budget images looked at); ``gray(image id)`` gives the pixels
        (or None and the file's name when it cannot be used, None and None without one)."""
        looked = 0
        for im in image_ids:
            if len(self.seen) >= self.budget or looked >= LOOK_FACTOR * self.budget:
                break
            if im in self.seen:
                continue
            looked += 1
            candidates = self._candidates(im)
            if not candidates:
                continue  # nothing to search: the image is not read
            pixels, missing = gray(im)
            if pixels is None:
                self.seen.add(im)
                if missing:
                    self.evidence.missing.append(missing)
                continue
            self.evidence.images += 1
            self.take(im, pixels, candidates)

    def warnings(self) -> list[str]:
        """A warning naming the image files the search could not use (none if all were)."""
        if not self.evidence.missing:
            return []
        missing = self.evidence.missing
        shown = ", ".join(missing[:5]) + (", ..." if len(missing) > 5 else "")
        return [
            f"inaccurate_label image-only search: {len(missing)} image file(s) missing, "
            f"unreadable or of another size than their record (their labels were not "
            f"searched): {shown}"
        ]

    def appended(self) -> np.ndarray:
        """The scored suspects with the image-only rows after them."""
        if not self.rows:
            return self.scored
        return np.vstack([self.scored, np.asarray(self.rows)])


def with_edge_fit(
    store: Store,
    scored: np.ndarray,
    matches: dict[str, np.ndarray],
    predictions: dict[str, np.ndarray],
    image_ids: Iterable[int],
    edge_budget: int = IMAGE_BUDGET,
    budget: int = IMAGE_BUDGET,
) -> tuple[np.ndarray, ImageEvidence, ImageOnly]:
    """Score version 9: core.edge_fit on ``scored`` (in place, within ``edge_budget``), then the
    image-only suspects (on the images it decoded first, then ``image_ids`` in order, within
    ``budget``); the suspects with those rows after them, edge_fit's evidence and the search."""
    found = ImageOnly(scored, matches, store.annotations_for_image, budget)
    edge = edge_fit.from_store(store, scored, predictions, edge_budget, on_image=found.take)
    root = store.images_root
    if root is None or budget <= 0:
        return found.appended(), edge, found
    unusable = set(edge.missing)

    def gray(image_id: int) -> tuple[np.ndarray | None, str | None]:
        record = store.image(image_id)
        if record is None:
            return None, None
        path = root / record["file_name"]
        if str(path) in unusable:
            return None, None  # edge_fit warned about it
        size = (int(record["height"]), int(record["width"])) if record.get("height") else None
        pixels = edge_fit.gray_pixels(path, size)
        return pixels, None if pixels is not None else str(path)

    found.more(image_ids, gray)
    return found.appended(), edge, found


def moved_label(store: Store, annotation_id: int) -> list[list[float]]:
    """The fix of an image-only suspect: the label's polygons moved as :func:`settle` finds on
    its image now (clamped to the image; COCO's flat lists). EditError when the label, its
    polygon or its image file is gone, or no move fits better than the label."""
    from .edits import EditError  # edits builds on the store: only the review needs it

    ann = store.annotation(annotation_id)
    if ann is None:
        raise EditError(f"label {annotation_id} does not exist in {store.location}")
    polygons = polygons_of(ann.get("segmentation"))
    record = store.image(ann["image_id"])
    path = None if record is None else store.image_path(record)
    if not polygons or record is None or path is None:
        raise EditError(f"label {annotation_id} has no polygon or no image file to search")
    size = (int(record["height"]), int(record["width"])) if record.get("height") else None
    gray = edge_fit.gray_pixels(path, size)
    if gray is None:
        raise EditError(f"cannot read the image file {path} of label {annotation_id}")
    move = settle(Pixels(gray), polygons)
    if move is None:
        raise EditError(f"label {annotation_id} fits its image's edges as well as any move")
    if not move.sure:
        raise EditError(
            f"no sure outline for label {annotation_id}: the image's edges do not settle on one "
            "move of it (redraw it by hand, or flag it)"
        )
    h, w = gray.shape
    return [
        np.column_stack([p[:, 0].clip(0, w), p[:, 1].clip(0, h)]).ravel().round(2).tolist()
        for p in move.polygons
    ]
