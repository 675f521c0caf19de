"""Pure geometry of editing a label by hand: box handles and body, polygon vertices and body.

Every function takes plain lists (COCO xywh boxes, polygon parts as flat ``[x0, y0, x1, y1, ...]``
lists) and returns new ones; nothing is changed in place. Points are clamped into the image
rectangle ``[0, width] x [0, height]``; moves of a whole box or polygon are limited so that the
shape keeps its size and form instead of being squashed at the border. Sub-pixel floats are kept.
Multi-part polygons are edited part by part: vertex functions take the part's index.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

Box = list[float]
Polygon = list[list[float]]

BOX_HANDLES = ("nw", "n", "ne", "e", "se", "s", "sw", "w")
MIN_VERTICES = 3


class EditGeometryError(ValueError):
    """An edit that would leave an invalid shape (e.g. a polygon part with fewer than 3 points)."""


def clamp_point(x: float, y: float, height: int, width: int) -> tuple[float, float]:
    """A point moved into the image rectangle."""
    return min(max(float(x), 0.0), float(width)), min(max(float(y), 0.0), float(height))


def box_handle_points(box: Sequence[float]) -> dict[str, tuple[float, float]]:
    """Where each of the eight resize handles of an xywh box sits."""
    x, y, w, h = (float(v) for v in box)
    cx, cy, x1, y1 = x + w / 2, y + h / 2, x + w, y + h
    return {
        "nw": (x, y),
        "n": (cx, y),
        "ne": (x1, y),
        "e": (x1, cy),
        "se": (x1, y1),
        "s": (cx, y1),
        "sw": (x, y1),
        "w": (x, cy),
    }


def move_box_handle(
    box: Sequence[float], handle: str, x: float, y: float, height: int, width: int
) -> Box:
    """The box after dragging one handle to (x, y); edges crossing over swap, never negative."""
    if handle not in BOX_HANDLES:
        raise ValueError(f"unknown box handle {handle!r}")
    bx, by, bw, bh = (float(v) for v in box)
    x0, y0, x1, y1 = bx, by, bx + bw, by + bh
    x, y = clamp_point(x, y, height, width)
    if "w" in handle:
        x0 = x
    if "e" in handle:
        x1 = x
    if "n" in handle:
        y0 = y
    if "s" in handle:
        y1 = y
    x0, x1 = min(x0, x1), max(x0, x1)
    y0, y1 = min(y0, y1), max(y0, y1)
    return [x0, y0, x1 - x0, y1 - y0]


def _limited_shift(lo: float, hi: float, d: float, size: float) -> float:
    """``d`` limited so that the span [lo, hi] stays inside [0, size] (or does not leave more)."""
    d_min = min(-lo, 0.0)
    d_max = max(size - hi, 0.0)
    return min(max(d, d_min), d_max)


def move_box(box: Sequence[float], dx: float, dy: float, height: int, width: int) -> Box:
    """The box shifted by (dx, dy), the shift limited so that it stays whole inside the image."""
    x, y, w, h = (float(v) for v in box)
    dx = _limited_shift(x, x + w, float(dx), float(width))
    dy = _limited_shift(y, y + h, float(dy), float(height))
    return [x + dx, y + dy, w, h]


def box_from_corners(x0: float, y0: float, x1: float, y1: float, height: int, width: int) -> Box:
    """The xywh box spanned by two corner points (any order), clamped into the image."""
    x0, y0 = clamp_point(x0, y0, height, width)
    x1, y1 = clamp_point(x1, y1, height, width)
    return [min(x0, x1), min(y0, y1), abs(x1 - x0), abs(y1 - y0)]


def _points(part: Sequence[float]) -> list[tuple[float, float]]:
    return [(float(part[i]), float(part[i + 1])) for i in range(0, len(part) - 1, 2)]


def _flat(points: Sequence[tuple[float, float]]) -> list[float]:
    return [v for p in points for v in p]


def _copy(segmentation: Polygon) -> Polygon:
    return [[float(v) for v in part] for part in segmentation]


def _check_part(segmentation: Polygon, part: int) -> None:
    if not 0 <= part < len(segmentation):
        raise IndexError(f"polygon has no part {part}")


def polygon_points(segmentation: Polygon) -> list[list[tuple[float, float]]]:
    """The vertices of every part as (x, y) tuples."""
    return [_points(part) for part in segmentation]


def move_vertex(
    segmentation: Polygon, part: int, index: int, x: float, y: float, height: int, width: int
) -> Polygon:
    """The polygon with one vertex of one part moved to (x, y) (clamped into the image)."""
    _check_part(segmentation, part)
    out = _copy(segmentation)
    pts = _points(out[part])
    if not 0 <= index < len(pts):
        raise IndexError(f"part {part} has no vertex {index}")
    pts[index] = clamp_point(x, y, height, width)
    out[part] = _flat(pts)
    return out


def insert_vertex(
    segmentation: Polygon, part: int, after: int, x: float, y: float, height: int, width: int
) -> Polygon:
    """The polygon with a new vertex at (x, y) inserted after vertex ``after`` of one part."""
    _check_part(segmentation, part)
    out = _copy(segmentation)
    pts = _points(out[part])
    if not 0 <= after < len(pts):
        raise IndexError(f"part {part} has no vertex {after}")
    pts.insert(after + 1, clamp_point(x, y, height, width))
    out[part] = _flat(pts)
    return out


def remove_vertex(segmentation: Polygon, part: int, index: int) -> Polygon:
    """The polygon without one vertex; a part never drops below three points."""
    _check_part(segmentation, part)
    out = _copy(segmentation)
    pts = _points(out[part])
    if not 0 <= index < len(pts):
        raise IndexError(f"part {part} has no vertex {index}")
    if len(pts) <= MIN_VERTICES:
        raise EditGeometryError(f"a polygon part needs at least {MIN_VERTICES} points")
    del pts[index]
    out[part] = _flat(pts)
    return out


def polygon_bounds(segmentation: Polygon) -> tuple[float, float, float, float]:
    """(x0, y0, x1, y1) around every part."""
    xs = [float(v) for part in segmentation for v in part[0::2]]
    ys = [float(v) for part in segmentation for v in part[1::2]]
    return min(xs), min(ys), max(xs), max(ys)


def move_polygon(
    segmentation: Polygon,
    dx: float,
    dy: float,
    height: int,
    width: int,
    part: int | None = None,
) -> Polygon:
    """The polygon (or one ``part`` of it) shifted by (dx, dy); the shift is limited so that the
    moved points stay inside the image with their shape unchanged."""
    parts = segmentation if part is None else [segmentation[part]]
    x0, y0, x1, y1 = polygon_bounds(parts)
    dx = _limited_shift(x0, x1, float(dx), float(width))
    dy = _limited_shift(y0, y1, float(dy), float(height))
    out = _copy(segmentation)
    for k, flat in enumerate(out):
        if part is not None and k != part:
            continue
        out[k] = [v + (dx if i % 2 == 0 else dy) for i, v in enumerate(flat)]
    return out


def nearest_vertex(segmentation: Polygon, x: float, y: float) -> tuple[int, int, float] | None:
    """(part, index, distance) of the vertex closest to (x, y), or None for an empty polygon."""
    best = None
    for k, pts in enumerate(polygon_points(segmentation)):
        for i, (px, py) in enumerate(pts):
            d = math.hypot(px - x, py - y)
            if best is None or d < best[2]:
                best = (k, i, d)
    return best


def _project(
    ax: float, ay: float, bx: float, by: float, x: float, y: float
) -> tuple[float, float, float]:
    """The point of segment a-b closest to (x, y), and its distance."""
    vx, vy = bx - ax, by - ay
    n = vx * vx + vy * vy
    t = 0.0 if n == 0 else min(max(((x - ax) * vx + (y - ay) * vy) / n, 0.0), 1.0)
    px, py = ax + t * vx, ay + t * vy
    return px, py, math.hypot(px - x, py - y)


def nearest_edge(
    segmentation: Polygon, x: float, y: float
) -> tuple[int, int, float, tuple[float, float]] | None:
    """(part, index of the edge's first vertex, distance, closest point) of the edge nearest to
    (x, y); edge ``i`` joins vertex ``i`` and the next one (the last edge closes the part)."""
    best = None
    for k, pts in enumerate(polygon_points(segmentation)):
        for i, (ax, ay) in enumerate(pts):
            bx, by = pts[(i + 1) % len(pts)]
            px, py, d = _project(ax, ay, bx, by, x, y)
            if best is None or d < best[2]:
                best = (k, i, d, (px, py))
    return best


def polygon_from_points(points: Sequence[tuple[float, float]], height: int, width: int) -> Polygon:
    """A one-part polygon from drawn points (clamped, repeated points dropped; >= 3 needed)."""
    pts: list[tuple[float, float]] = []
    for x, y in points:
        p = clamp_point(x, y, height, width)
        if not pts or p != pts[-1]:
            pts.append(p)
    if len(pts) > 1 and pts[0] == pts[-1]:
        pts.pop()
    if len(pts) < MIN_VERTICES:
        raise EditGeometryError(f"a polygon needs at least {MIN_VERTICES} distinct points")
    return [_flat(pts)]


def is_box_polygon(segmentation: object) -> bool:
    """True for a one-part, four-point, axis-aligned rectangle (a box stored as a polygon)."""
    if not isinstance(segmentation, list) or len(segmentation) != 1:
        return False
    part = segmentation[0]
    if not isinstance(part, list) or len(part) != 8:
        return False
    pts = _points(part)
    xs = sorted({p[0] for p in pts})
    ys = sorted({p[1] for p in pts})
    if len(xs) != 2 or len(ys) != 2:
        return False
    corners = {(xs[0], ys[0]), (xs[1], ys[0]), (xs[1], ys[1]), (xs[0], ys[1])}
    if set(pts) != corners:
        return False
    # consecutive points must share an x or a y (no self-crossing "bow tie")
    return all(
        pts[i][0] == pts[(i + 1) % 4][0] or pts[i][1] == pts[(i + 1) % 4][1] for i in range(4)
    )


def offset_geometry(
    bbox: Sequence[float],
    segmentation: Polygon | None,
    offset: float,
    height: int,
    width: int,
) -> tuple[Box, Polygon | None]:
    """A box and polygon shifted by ``offset`` pixels right and down (for a duplicate); where
    that leaves the image, the copy goes up and left instead."""
    x, y, w, h = (float(v) for v in bbox)
    dx = offset if x + w + offset <= width else -offset
    dy = offset if y + h + offset <= height else -offset
    box = move_box(bbox, dx, dy, height, width)
    if segmentation:
        return box, move_polygon(segmentation, dx, dy, height, width)
    return box, None
