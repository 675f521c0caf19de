"""Segmented operations over images concatenated into flat arrays, for the suspect rules
(core.errors): per-segment maxima and argmax, the pairs within each segment, the IoU of
row-aligned boxes, the x-sweep that finds a segment's overlapping boxes, and greedy NMS per
segment without a Python loop over boxes.

A *segment* is one image's run of items (predictions, labels or their pairs) in the flat
arrays; ``sizes`` gives each image's run length, in order. Pure numpy: no Qt, no store.
"""

from __future__ import annotations

import numpy as np


def flat(arrays: list[np.ndarray], dtype: type, shape: tuple[int, ...] = ()) -> np.ndarray:
    parts = [np.asarray(a, dtype=dtype).reshape((-1, *shape)) for a in arrays]
    return np.concatenate(parts) if parts else np.zeros((0, *shape), dtype=dtype)


def starts(sizes: np.ndarray) -> np.ndarray:
    return np.cumsum(sizes) - sizes


def segment_max(values: np.ndarray, sizes: np.ndarray) -> np.ndarray:
    """Max of each consecutive segment of ``values`` (0.0 for an empty segment)."""
    out = np.zeros(len(sizes))
    full = sizes > 0
    if full.any():  # reduceat on an empty segment would return the next element: leave them out
        out[full] = np.maximum.reduceat(values, starts(sizes)[full])
    return out


def segment_argmax(values: np.ndarray, segment: np.ndarray, maxima: np.ndarray) -> np.ndarray:
    """Position of the first maximum of each non-empty segment, like ``np.argmax`` per row.

    ``segment`` numbers the segment of each value (non-decreasing); ``maxima`` per segment.
    """
    hit = np.flatnonzero((values == maxima[segment]) | np.isnan(values))  # argmax: first nan
    seg = segment[hit]
    return hit[np.r_[True, seg[1:] != seg[:-1]]]


def upper_pairs(sizes: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Positions (i, j), i < j, of every pair within each consecutive segment, row-major."""
    seg = np.repeat(np.arange(len(sizes)), sizes)
    pos = np.arange(len(seg))
    later = (starts(sizes) + sizes)[seg] - pos - 1  # items after each one in its segment
    i = np.repeat(pos, later)
    j = i + 1 + np.arange(len(i)) - np.repeat(starts(later), later)
    return i, j


def pair_box_iou(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """``errors._box_iou`` of the row-aligned boxes ``a[k]``, ``b[k]`` (the same bits)."""
    ax1, ay1 = a[:, 0] + a[:, 2], a[:, 1] + a[:, 3]
    bx1, by1 = b[:, 0] + b[:, 2], b[:, 1] + b[:, 3]
    iw = np.clip(np.minimum(ax1, bx1) - np.maximum(a[:, 0], b[:, 0]), 0, None)
    ih = np.clip(np.minimum(ay1, by1) - np.maximum(a[:, 1], b[:, 1]), 0, None)
    inter = iw * ih
    union = a[:, 2] * a[:, 3] + b[:, 2] * b[:, 3] - inter
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(union > 0, inter / union, 0.0)


def overlapping_pairs(boxes: np.ndarray, sizes: np.ndarray, iou: float) -> tuple[np.ndarray, ...]:
    """Positions (i, j), i < j, of the pairs within each segment with IoU >= ``iou`` > 0.

    A sweep along x finds the candidates: sorted by (segment, left edge), a box can reach
    IoU >= ``iou`` only with boxes after it whose left edge lies at most ``x1 - iou * w`` (its
    right edge less ``iou`` times its width: the intersection is at most the overlap in x times
    the box's height, and must be at least ``iou`` times the box's area), taken with a margin
    far above rounding. Only those pairs that also overlap in y get their IoU computed, by
    ``errors._box_iou``'s operations (which are symmetric in the two boxes, so the sweep's pair
    order does not matter); the margin only adds candidates, so the pairs are exactly those.
    """
    with np.errstate(invalid="ignore", over="ignore"):  # nan / inf boxes: expected
        return _overlapping_pairs(boxes, sizes, iou)


def _overlapping_pairs(boxes: np.ndarray, sizes: np.ndarray, iou: float) -> tuple[np.ndarray, ...]:
    seg = np.repeat(np.arange(len(sizes)), sizes)
    # one int key orders (segment, x) exactly: x as its rank among all left edges, the rank
    # np.searchsorted(lefts, x) gives (equal edges share the first), here from the sort
    by_x = np.argsort(boxes[:, 0], kind="stable")
    lefts = boxes[by_x, 0]
    n = len(lefts)
    new = np.ones(n, dtype=bool)
    np.not_equal(lefts[1:], lefts[:-1], out=new[1:])
    nan = np.isnan(lefts)
    if nan.any():  # nan sorts last, and searchsorted finds every nan at the first one
        new[1:] &= ~(nan[1:] & nan[:-1])
    rank = np.empty(n, dtype=np.int64)
    rank[by_x] = np.maximum.accumulate(np.where(new, np.arange(n), 0))
    span = n + 1
    # the stable sort of (segment, x): the x order, then stably by segment
    small = len(sizes) < 2**15  # numpy sorts 16-bit integers by radix
    order = by_x[np.argsort(seg[by_x].astype(np.int16) if small else seg[by_x], kind="stable")]
    seg = seg[order]
    key = seg * span + rank[order]
    x0, y0, w, h = (np.ascontiguousarray(boxes[order, k]) for k in range(4))
    x1, y1 = x0 + w, y0 + h
    slack = 1e-9 * (np.abs(x0) + np.abs(x1)) + 1e-12  # nan / inf reach: every later box
    reach = x1 - (iou * (1.0 - 1e-6)) * w + slack
    end = np.searchsorted(key, seg * span + np.searchsorted(lefts, reach, side="right"))
    pos = np.arange(len(x0))
    later = np.maximum(end - pos - 1, 0)  # boxes after this one whose left edge is in reach
    a = np.repeat(pos, later)
    b = a + 1 + np.arange(len(a)) - np.repeat(starts(later), later)
    # y overlap first (most candidates have none); box a's terms repeated, not gathered
    ih = np.minimum(np.repeat(y1, later), y1[b])
    ih -= np.maximum(np.repeat(y0, later), y0[b])
    meet = np.flatnonzero(ih > 0)  # clipped at 0 this is the overlap; nan: none
    a, b, ih = a[meet], b[meet], ih[meet]
    iw = np.clip(np.minimum(x1[a], x1[b]) - np.maximum(x0[a], x0[b]), 0, None)
    inter = iw * ih
    area = w * h
    union = area[a] + area[b] - inter
    with np.errstate(divide="ignore"):
        over = np.where(union > 0, inter / union, 0.0) >= iou
    a, b = order[a[over]], order[b[over]]
    return np.minimum(a, b), np.maximum(a, b)


def nms_pairs(boxes: np.ndarray, sizes: np.ndarray, iou: float) -> tuple[np.ndarray, ...]:
    """Positions (i, j), i < j, of the pairs within each segment that suppress each other in
    greedy NMS at ``iou`` (IoU >= ``iou``). Whether a pair does depends on the two boxes only,
    so the pairs of a subset of the boxes are these pairs between its members."""
    if iou > 0:
        return overlapping_pairs(boxes, sizes, iou)
    i, j = upper_pairs(sizes)  # iou <= 0 (or nan): every pair may count
    over = pair_box_iou(boxes[i], boxes[j]) >= iou
    return i[over], j[over]


def nms_keep(n: int, i: np.ndarray, j: np.ndarray) -> np.ndarray:
    """Which of ``n`` candidates in NMS order greedy NMS keeps, given every suppressing pair
    (i, j), i < j (in any order): a candidate is kept once every earlier candidate overlapping
    it is suppressed, and is suppressed once one of them is kept. Each round settles at least
    the first open candidate of every image; images without overlapping candidates settle in
    the first round."""
    state = np.zeros(n, dtype=np.int8)  # 0 open, 1 kept, 2 suppressed
    while True:
        open_ = state == 0
        if not open_.any():
            return state == 1
        live = open_[j]
        i, j = i[live], j[live]
        by = state[i]
        hit = np.zeros(n, dtype=bool)
        hit[j[by == 1]] = True
        waiting = np.zeros(n, dtype=bool)
        waiting[j[by == 0]] = True
        state[open_ & hit] = 2
        state[open_ & ~hit & ~waiting] = 1
