"""Where the canvas puts its tags: beside their boxes, never on another tag, off the suspect's
outline, inside the view; a tag that has to move away from its box gets a leader line.

Plain geometry in view pixels (no Qt), so it is tested directly. Tags are placed greedily in
priority order (the suspect's own tags first): each takes the cheapest of a few spots around its
box (above or below, left- or right-aligned, just inside the box), else the nearest free spot
further out, reached by a leader line.
"""

from __future__ import annotations

from collections.abc import Hashable, Sequence
from dataclasses import dataclass

import numpy as np

Rect = tuple[float, float, float, float]  # x0, y0, x1, y1
Line = tuple[float, float, float, float]  # x0, y0, x1, y1

GAP = 2.0  # pixels between a moved tag and its neighbours
RINGS = 8  # how many tag heights (and widths) away a tag may move
CLEAR_EDGE = 1.5  # half-width of the band kept clear along the suspect's outline
TOUCH = 2.0  # a tag this close to an outline touches it without covering it
NEAR_PENALTY = 4.0  # cost per rank of a spot beside the box (prefer the first ones)
LEADER_PENALTY = 60.0  # cost of needing a leader line at all
DISTANCE_PENALTY = 1.0  # cost per pixel a leadered tag sits from its box
CLEAR_PENALTY = 40.0  # cost per square pixel of the suspect's outline a tag would cover
TAG_PENALTY = 1e6  # cost per square pixel of another tag covered (only when nothing is free)


@dataclass(frozen=True)
class TagRequest:
    """A tag to place: its size, the box it names, and how early it is placed."""

    key: Hashable
    width: float
    height: float
    anchor: Rect  # the box it names, in view pixels
    priority: int = 10  # lower is placed first
    below: bool = False  # prefer a spot under the box (prediction tags)


@dataclass(frozen=True)
class TagPlace:
    """Where a tag went, and the leader line to its box when it is not beside it."""

    key: Hashable
    rect: Rect
    leader: Line | None = None


def overlap(a: Rect, b: Rect) -> float:
    """The area two rectangles share."""
    w = min(a[2], b[2]) - max(a[0], b[0])
    h = min(a[3], b[3]) - max(a[1], b[1])
    return w * h if w > 0 and h > 0 else 0.0


def outline_bands(rect: Rect, half: float = CLEAR_EDGE) -> list[Rect]:
    """Four thin rectangles along a box's edges (what covering its outline means)."""
    x0, y0, x1, y1 = rect
    return [
        (x0 - half, y0 - half, x1 + half, y0 + half),
        (x0 - half, y1 - half, x1 + half, y1 + half),
        (x0 - half, y0 - half, x0 + half, y1 + half),
        (x1 - half, y0 - half, x1 + half, y1 + half),
    ]


def _clamp(x: float, y: float, w: float, h: float, bounds: Rect) -> tuple[float, float]:
    """Shift a w x h tag at (x, y) into the bounds (its top-left wins when it cannot fit)."""
    x = max(bounds[0], min(x, bounds[2] - w))
    y = max(bounds[1], min(y, bounds[3] - h))
    return x, y


def near_spots(req: TagRequest, pad: float = 0.0) -> list[tuple[float, float]]:
    """Top-left corners of the spots beside the box, best first (``pad`` pixels further from
    its edges: past the edit handles on them)."""
    x0, y0, x1, y1 = req.anchor
    w, h = req.width, req.height
    above = [(x0, y0 - h - pad), (x1 - w, y0 - h - pad), (x0, y0 + pad), (x1 - w, y0 + pad)]
    below = [(x0, y1 + pad), (x1 - w, y1 + pad), (x0, y1 - h - pad), (x1 - w, y1 - h - pad)]
    return below + above if req.below else above + below


def far_spots(req: TagRequest) -> list[tuple[float, float]]:
    """Top-left corners further from the box (reached by a leader line), nearest first."""
    x0, y0, x1, y1 = req.anchor
    w, h = req.width, req.height
    step_y, step_x = h + GAP, w + GAP
    spots: list[tuple[float, float, float]] = []
    for k in range(1, RINGS + 1):
        for x in (x0, x1 - w, x0 - step_x / 2, x0 + step_x / 2):
            spots.append((k * step_y, x, y0 - h - k * step_y))
            spots.append((k * step_y, x, y1 + k * step_y))
        for j in range(-1, 2):
            y = y0 + j * step_y
            spots.append((k * step_x * 0.5, x0 - w - GAP - (k - 1) * step_x, y))
            spots.append((k * step_x * 0.5, x1 + GAP + (k - 1) * step_x, y))
    spots.sort(key=lambda s: s[0])
    return [(x, y) for _d, x, y in spots]


def _leader(tag: Rect, anchor: Rect) -> Line:
    """From the tag's edge to the nearest point of its box."""
    cx, cy = (tag[0] + tag[2]) / 2, (tag[1] + tag[3]) / 2
    ax = min(max(cx, anchor[0]), anchor[2])
    ay = min(max(cy, anchor[1]), anchor[3])
    tx = min(max(ax, tag[0]), tag[2])
    ty = min(max(ay, tag[1]), tag[3])
    return (tx, ty, ax, ay)


def _touches(tag: Rect, anchor: Rect, slack: float = 1.0) -> bool:
    """True when a tag sits on or right beside its box (no leader needed)."""
    return (
        tag[0] <= anchor[2] + slack
        and tag[2] >= anchor[0] - slack
        and tag[1] <= anchor[3] + slack
        and tag[3] >= anchor[1] - slack
    )


def place_tags(
    requests: Sequence[TagRequest],
    bounds: Rect,
    suspect: Sequence[Rect] = (),
    avoid: Sequence[Rect] = (),
    blocked: Sequence[Rect] = (),
) -> list[TagPlace]:
    """Place every tag inside ``bounds``, in priority order (stable): the best free spot beside
    its box, else the nearest free spot further out (with a leader line), where free means on
    no tag placed before it, on none of the ``avoid`` rectangles (the edited label's handles)
    and off the outlines of the ``suspect`` boxes (but its own: a tag may sit on its own box's
    edge), nor on the ``blocked`` rectangles (the canvas's badges over the view). Only when
    nothing is free does a tag take the least covered spot."""
    placed: list[Rect] = [*avoid, *blocked]  # handles and badges block like tags placed before
    pad = max((r[3] - r[1] for r in avoid), default=0.0) / 2  # half a handle
    slack = 1.0 + pad
    out: list[TagPlace] = []
    for req in sorted(requests, key=lambda r: r.priority):
        w, h = req.width, req.height
        if not _meets(req.anchor, bounds):  # its box is out of view: leave the tag beside it
            x, y = near_spots(req)[0]
            out.append(TagPlace(req.key, (x, y, x + w, y + h)))
            continue
        bands = [band for rect in suspect if rect != req.anchor for band in outline_bands(rect)]
        best: tuple[float, Rect] | None = None
        chosen: Rect | None = None
        spots = near_spots(req) + (near_spots(req, pad) if pad else [])
        for rank, (x, y) in enumerate(spots):
            x, y = _clamp(x, y, w, h, bounds)
            rect = (x, y, x + w, y + h)
            covered = _covered(rect, placed, bands)
            touches = _touches(rect, req.anchor, slack)
            if covered == 0 and touches:
                chosen = rect
                break
            cost = covered + rank * NEAR_PENALTY + LEADER_PENALTY * (not touches)
            if best is None or cost < best[0]:
                best = (cost, rect)
        if chosen is None:
            spots = [_clamp(x, y, w, h, bounds) for x, y in far_spots(req)]
            rects = [(x, y, x + w, y + h) for x, y in spots]
            chosen = next((r for r in rects if _is_free(r, placed, bands)), None)
            if chosen is None:  # nothing free anywhere: the least covered spot
                for rect in rects:
                    cost = (
                        _covered(rect, placed, bands)
                        + LEADER_PENALTY
                        + _distance(rect, req.anchor) * DISTANCE_PENALTY
                    )
                    if best is None or cost < best[0]:
                        best = (cost, rect)
        if chosen is None:
            assert best is not None
            chosen = best[1]
        placed.append(chosen)
        leader = None if _touches(chosen, req.anchor, slack) else _leader(chosen, req.anchor)
        out.append(TagPlace(req.key, chosen, leader))
    return out


def _meets(a: Rect, b: Rect) -> bool:
    """True when two rectangles share a point (a visible outline's box may be a line)."""
    return a[0] <= b[2] and a[2] >= b[0] and a[1] <= b[3] and a[3] >= b[1]


def _distance(rect: Rect, anchor: Rect) -> float:
    """How far a tag's centre is from its box (Manhattan, 0 inside it)."""
    cx, cy = (rect[0] + rect[2]) / 2, (rect[1] + rect[3]) / 2
    return max(anchor[0] - cx, 0.0, cx - anchor[2]) + max(anchor[1] - cy, 0.0, cy - anchor[3])


def _is_free(rect: Rect, placed: Sequence[Rect], bands: Sequence[Rect]) -> bool:
    """True when a tag at ``rect`` covers no tag and no band (stops at the first it covers)."""
    x0, y0, x1, y1 = rect
    for a in placed:
        if a[0] < x1 and x0 < a[2] and a[1] < y1 and y0 < a[3]:
            return False
    inner = (x0 + TOUCH, y0 + TOUCH, x1 - TOUCH, y1 - TOUCH)
    return all(overlap(inner, band) <= 0 for band in bands)


def _covered(rect: Rect, placed: Sequence[Rect], bands: Sequence[Rect]) -> float:
    """The cost of what a tag at ``rect`` would cover: other tags, the suspect's outline."""
    cost = 0.0
    for other in placed:
        cost += overlap(rect, other) * TAG_PENALTY
    inner = (rect[0] + TOUCH, rect[1] + TOUCH, rect[2] - TOUCH, rect[3] - TOUCH)
    for band in bands:
        cost += overlap(inner, band) * CLEAR_PENALTY
    return cost


def visible_outline(parts: Sequence[np.ndarray], bounds: Rect) -> Rect | None:
    """The box around the part of a closed outline (polygons of (x, y) rows) inside
    ``bounds``, or None when none of it is (the bounds lie wholly inside or outside it).
    A tag of a shape that runs out of the view sits there, not at its box's clamped corner."""
    bx0, by0, bx1, by1 = bounds
    xs: list[np.ndarray] = []
    ys: list[np.ndarray] = []
    for pts in parts:
        if len(pts) < 2:
            continue
        p0 = np.asarray(pts, dtype=np.float64)
        d = np.roll(p0, -1, axis=0) - p0  # each edge, the last closing the polygon
        t0, t1 = np.zeros(len(p0)), np.ones(len(p0))
        keep = np.ones(len(p0), dtype=bool)
        with np.errstate(divide="ignore", invalid="ignore"):  # Liang-Barsky, every edge at once
            for p, q in (
                (-d[:, 0], p0[:, 0] - bx0),
                (d[:, 0], bx1 - p0[:, 0]),
                (-d[:, 1], p0[:, 1] - by0),
                (d[:, 1], by1 - p0[:, 1]),
            ):
                r = q / p
                keep &= ~((p == 0) & (q < 0))  # parallel to this side, outside it
                t0 = np.where(p < 0, np.maximum(t0, r), t0)
                t1 = np.where(p > 0, np.minimum(t1, r), t1)
        keep &= t0 <= t1
        if keep.any():
            a = p0[keep] + t0[keep, None] * d[keep]
            b = p0[keep] + t1[keep, None] * d[keep]
            xs += [a[:, 0], b[:, 0]]
            ys += [a[:, 1], b[:, 1]]
    if not xs:
        return None
    x, y = np.concatenate(xs), np.concatenate(ys)
    return (float(x.min()), float(y.min()), float(x.max()), float(y.max()))
