"""The selected label's editor: draws its handles and live outline, turns one drag (or one
vertex click, or one nudge) into one "edit finished (id, old, new, what)" signal. It never
writes to the store; the session does, as one undoable command per signal.

A box (or a box stored as a 4-point rectangle polygon) shows corner and edge handles and moves
by its body; a polygon shows its vertices, part by part; an RLE mask is read-only.
"""

from __future__ import annotations

import copy
import math
from dataclasses import dataclass

from PySide6.QtCore import QObject, QPointF, QRectF, Signal
from PySide6.QtGui import QPainter, QPainterPath, QPolygonF
from PySide6.QtWidgets import QGraphicsItem, QGraphicsView, QStyleOptionGraphicsItem, QWidget

from labelfix.core import editing as ed

from .handles import (
    EDGE_RADIUS,
    HANDLE_SIZE,
    HIT_RADIUS,
    SELECTION_COLOUR,
    HandleItem,
    outline_item,
)
from .items import remove_from_scene

BOX_CURSORS = {"nw": "fdiag", "se": "fdiag", "ne": "bdiag", "sw": "bdiag"}
HANDLE_GAP = HANDLE_SIZE + 3.0  # screen pixels between the centres of two drawn vertex handles


class VertexHandle(HandleItem):
    """A polygon vertex's dot, drawn only where it does not pile onto its neighbours: with the
    part's vertices ``spacing`` scene units apart (their median), every ``stride``-th at the
    view's zoom (all when zoomed in), and any vertex ``isolation`` units from both neighbours
    that is a handle apart on screen (a corner of a long edge), and the selected one. Hidden
    vertices are still grabbed (the editor hit-tests every vertex)."""

    def __init__(
        self, pos: QPointF, index: int, spacing: float, isolation: float, parent: QGraphicsItem
    ) -> None:
        super().__init__(pos, round_=True, parent=parent)
        self.index = index
        self.spacing = spacing
        self.isolation = isolation

    def stride(self, scale: float) -> int:
        """Draw every n-th vertex of the part at this zoom (screen pixels per scene unit)."""
        gap = self.spacing * scale
        return 1 if gap >= HANDLE_GAP else math.ceil(HANDLE_GAP / max(gap, 1e-6))

    def shown(self, scale: float) -> bool:
        """Whether the dot is drawn at this zoom."""
        return (
            self.active
            or self.isolation * scale >= HANDLE_GAP
            or self.index % self.stride(scale) == 0
        )

    def paint(
        self, painter: QPainter, option: QStyleOptionGraphicsItem, widget: QWidget | None = None
    ) -> None:
        view = widget.parent() if widget is not None else None
        if self.shown(view.transform().m11() if isinstance(view, QGraphicsView) else 1.0):
            super().paint(painter, option, widget)


def _spacing(part: list[tuple[float, float]]) -> tuple[float, list[float]]:
    """A part's median distance between consecutive vertices, and each vertex's distance to
    its nearer neighbour (scene units)."""
    steps = [math.dist(p, part[i - 1]) for i, p in enumerate(part)]
    if not steps:
        return 0.0, []
    nearer = [min(steps[i], steps[(i + 1) % len(steps)]) for i in range(len(steps))]
    return sorted(steps)[len(steps) // 2], nearer


@dataclass(frozen=True)
class Hit:
    """What a press lands on: a box ``handle`` (name), a ``vertex`` or an ``edge`` (part,
    index; an edge starts at vertex ``index``), or the ``body``."""

    kind: str
    name: str = ""
    part: int = -1
    index: int = -1
    point: tuple[float, float] | None = None


def label_mode(annotation: dict) -> str:
    """How a label is edited: "box", "polygon" or "mask" (read-only)."""
    seg = annotation.get("segmentation")
    if isinstance(seg, dict):
        return "mask"
    if isinstance(seg, list) and seg and not ed.is_box_polygon(seg):
        return "polygon"
    return "box"


def geometry_path(mode: str, box: list[float], polygon: list[list[float]] | None) -> QPainterPath:
    """The outline of a box or of every polygon part."""
    path = QPainterPath()
    if mode == "polygon" and polygon:
        for part in polygon:
            pts = [QPointF(part[i], part[i + 1]) for i in range(0, len(part) - 1, 2)]
            if len(pts) >= 2:
                path.addPolygon(QPolygonF(pts))
                path.closeSubpath()
    else:
        path.addRect(QRectF(*box))
    return path


class LabelEditor(QObject):
    """Handles and live outline of one label; a drag changes only the drawing until release."""

    editFinished = Signal(object, object, object, str)  # id (COCO ids exceed int32), old, new, what

    def __init__(self, annotation: dict, height: int, width: int, layer: QGraphicsItem) -> None:
        super().__init__()
        self.annotation_id = int(annotation["id"])
        self.height, self.width = int(height), int(width)
        self.mode = label_mode(annotation)
        self.readonly = self.mode == "mask"
        seg = annotation.get("segmentation")
        self.box = [float(v) for v in annotation["bbox"]]
        self.polygon = copy.deepcopy(seg) if self.mode == "polygon" else None
        self.selected_vertex: tuple[int, int] | None = None
        self._drag: Hit | None = None
        self._press: QPointF | None = None
        self._start: dict | None = None
        self.outline = outline_item(self._path(), SELECTION_COLOUR, width=2.2)
        self.outline.setParentItem(layer)
        self.handles: list[HandleItem] = []
        self._layer = layer
        self._build_handles()

    # ------------------------------------------------------------------ state and drawing
    def geometry(self) -> dict:
        """The current geometry in the form SetGeometry takes."""
        if self.mode == "polygon":
            return {"segmentation": copy.deepcopy(self.polygon)}
        return {"bbox": list(self.box)}

    def _set(self, geometry: dict) -> None:
        if "segmentation" in geometry:
            self.polygon = geometry["segmentation"]
            x0, y0, x1, y1 = ed.polygon_bounds(self.polygon)
            self.box = [x0, y0, x1 - x0, y1 - y0]
        else:
            self.box = geometry["bbox"]
        self._redraw()

    def _path(self) -> QPainterPath:
        return geometry_path(self.mode, self.box, self.polygon)

    def _points(self) -> list[tuple[str, int, int, tuple[float, float]]]:
        """(box handle name or "", part, index, point) of every handle."""
        if self.readonly:
            return []
        if self.mode == "polygon":
            return [
                ("", k, i, p)
                for k, pts in enumerate(ed.polygon_points(self.polygon))
                for i, p in enumerate(pts)
            ]
        return [(name, -1, -1, p) for name, p in ed.box_handle_points(self.box).items()]

    def _build_handles(self) -> None:
        for h in self.handles:
            remove_from_scene(h)
        if self.mode == "polygon":
            spacing = [_spacing(part) for part in ed.polygon_points(self.polygon)]
            self.handles = [
                VertexHandle(QPointF(*p), i, spacing[k][0], spacing[k][1][i], self._layer)
                for _name, k, i, p in self._points()
            ]
        else:
            self.handles = [
                HandleItem(QPointF(*p), parent=self._layer) for _n, _k, _i, p in self._points()
            ]
        self._mark_vertex()

    def _redraw(self) -> None:
        self.outline.setPath(self._path())
        points = self._points()
        if len(points) != len(self.handles):
            self._build_handles()
            return
        for handle, (_name, _k, _i, p) in zip(self.handles, points, strict=True):
            handle.setPos(QPointF(*p))

    def select_vertex(self, part: int, index: int) -> None:
        """Mark one vertex as selected (Backspace removes it), if it exists."""
        ok = self.mode == "polygon" and 0 <= part < len(self.polygon)
        if ok and 0 <= index < len(self.polygon[part]) // 2:
            self.selected_vertex = (part, index)
            self._mark_vertex()

    def _mark_vertex(self) -> None:
        points = self._points()
        for handle, (_n, k, i, _p) in zip(self.handles, points, strict=True):
            handle.set_active(self.selected_vertex == (k, i))

    def remove(self) -> None:
        """Take the outline and handles off the scene."""
        for item in [*self.handles, self.outline]:
            remove_from_scene(item)
        self.handles = []

    # ------------------------------------------------------------------ hit testing
    def hit(self, view: QGraphicsView, pos: QPointF) -> Hit | None:
        """What a press at viewport position ``pos`` grabs (handles in screen pixels)."""
        best: tuple[float, str, int, int] | None = None
        for name, k, i, p in self._points():
            vp = view.mapFromScene(QPointF(*p))
            d = ((vp.x() - pos.x()) ** 2 + (vp.y() - pos.y()) ** 2) ** 0.5
            if d <= HIT_RADIUS and (best is None or d < best[0]):
                best = (d, name, k, i)
        if best is not None:
            _d, name, k, i = best
            return Hit("handle", name) if name else Hit("vertex", part=k, index=i)
        scene = view.mapToScene(pos.toPoint())
        if self.mode == "polygon" and not self.readonly:
            edge = ed.nearest_edge(self.polygon, scene.x(), scene.y())
            if edge is not None and edge[2] * view.transform().m11() <= EDGE_RADIUS:
                return Hit("edge", part=edge[0], index=edge[1], point=edge[3])
        if self._path().contains(scene):
            return Hit("body")
        return None

    @staticmethod
    def cursor_for(hit: Hit | None) -> str:
        """A cursor name for what is under the mouse ("" for the default)."""
        if hit is None:
            return ""
        if hit.kind == "handle":
            return BOX_CURSORS.get(hit.name, "hor" if hit.name in ("e", "w") else "ver")
        return "move" if hit.kind == "body" else "cross"

    # ------------------------------------------------------------------ one drag
    def begin(self, hit: Hit, scene_pos: QPointF) -> bool:
        """Start dragging what ``hit`` names; False for a read-only label."""
        if self.readonly:
            return False
        self._drag = hit
        self._press = QPointF(scene_pos)
        self._start = self.geometry()
        if hit.kind == "vertex":
            self.selected_vertex = (hit.part, hit.index)
            self._mark_vertex()
        return True

    def dragging(self) -> bool:
        """True between begin() and finish()/cancel()."""
        return self._drag is not None

    def drag_to(self, scene_pos: QPointF) -> None:
        """Follow the mouse: redraw only, nothing is written yet."""
        if self._drag is None or self._start is None or self._press is None:
            return
        hit, start = self._drag, self._start
        dx, dy = scene_pos.x() - self._press.x(), scene_pos.y() - self._press.y()
        h, w = self.height, self.width
        if hit.kind == "handle":
            hx, hy = ed.box_handle_points(start["bbox"])[hit.name]
            self._set({"bbox": ed.move_box_handle(start["bbox"], hit.name, hx + dx, hy + dy, h, w)})
        elif hit.kind == "vertex":
            vx, vy = ed.polygon_points(start["segmentation"])[hit.part][hit.index]
            self._set(
                {
                    "segmentation": ed.move_vertex(
                        start["segmentation"], hit.part, hit.index, vx + dx, vy + dy, h, w
                    )
                }
            )
        elif "segmentation" in start:
            self._set({"segmentation": ed.move_polygon(start["segmentation"], dx, dy, h, w)})
        else:
            self._set({"bbox": ed.move_box(start["bbox"], dx, dy, h, w)})

    def finish(self) -> bool:
        """End the drag: emit one edit if the shape changed; True if it did."""
        hit, start = self._drag, self._start
        self._drag = self._press = self._start = None
        if hit is None or start is None:
            return False
        new = self.geometry()
        if new == start:
            return False
        what = {
            "handle": "resize box",
            "vertex": "move vertex",
        }.get(hit.kind, "move polygon" if self.mode == "polygon" else "move box")
        self.editFinished.emit(self.annotation_id, start, new, what)
        return True

    def cancel(self) -> None:
        """Abandon the drag and put the shape back."""
        if self._start is not None:
            self._set(self._start)
        self._drag = self._press = self._start = None

    # ------------------------------------------------------------------ single-step edits
    def add_vertex(self, hit: Hit) -> bool:
        """Insert a vertex where an edge was clicked (emits one edit)."""
        if self.mode != "polygon" or self.readonly or hit.kind != "edge" or hit.point is None:
            return False
        old = self.geometry()
        seg = ed.insert_vertex(
            self.polygon, hit.part, hit.index, *hit.point, self.height, self.width
        )
        self.selected_vertex = (hit.part, hit.index + 1)
        self._set({"segmentation": seg})
        self._mark_vertex()
        self.editFinished.emit(self.annotation_id, old, self.geometry(), "add vertex")
        return True

    def remove_vertex(self, part: int | None = None, index: int | None = None) -> str | None:
        """Remove a vertex (default: the selected one); None when done, else why not."""
        if self.mode != "polygon" or self.readonly:
            return "Only polygon labels have vertices to remove."
        if part is None or index is None:
            if self.selected_vertex is None:
                return "Select a vertex first (click it)."
            part, index = self.selected_vertex
        old = self.geometry()
        try:
            seg = ed.remove_vertex(self.polygon, part, index)
        except ed.EditGeometryError as exc:
            return f"Cannot remove the vertex: {exc}."
        self.selected_vertex = None
        self._set({"segmentation": seg})
        self.editFinished.emit(self.annotation_id, old, self.geometry(), "remove vertex")
        return None

    def nudge(self, dx: float, dy: float) -> bool:
        """Move the whole label by (dx, dy) image pixels (emits one "nudge" edit)."""
        if self.readonly or self._drag is not None:
            return False
        old = self.geometry()
        if self.mode == "polygon":
            new = {"segmentation": ed.move_polygon(self.polygon, dx, dy, self.height, self.width)}
        else:
            new = {"bbox": ed.move_box(self.box, dx, dy, self.height, self.width)}
        if new == old:
            return False
        self._set(new)
        self.editFinished.emit(self.annotation_id, old, new, "nudge")
        return True
