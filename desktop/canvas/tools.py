"""Drawing tools of the canvas: a box (W: drag a rectangle) and a polygon (P: click points;
Enter or a click on the first point closes, Esc cancels). A finished shape is emitted as
``drawn(geometry)``; the session adds it as one undoable label of the current class."""

from __future__ import annotations

from PySide6.QtCore import QObject, QPointF, QRectF, Signal
from PySide6.QtGui import QPainterPath, QPolygonF
from PySide6.QtWidgets import QGraphicsItem, QGraphicsView

from labelfix.core import editing as ed

from .handles import DRAW_COLOUR, HIT_RADIUS, HandleItem, outline_item
from .items import remove_from_scene

MIN_BOX_PIXELS = 3.0  # a drag shorter than this (on screen) is a click, not a box


class DrawTool(QObject):
    """Shared state of a drawing tool: the image size, the preview item, the finish signal."""

    drawn = Signal(object)  # {"bbox": [...]} or {"segmentation": [[...]]}
    name = "draw"

    def __init__(self, height: int, width: int, layer: QGraphicsItem) -> None:
        super().__init__()
        self.height, self.width = int(height), int(width)
        self.preview = outline_item(QPainterPath(), DRAW_COLOUR, width=2.0, fill_alpha=35)
        self.preview.setParentItem(layer)
        self._layer = layer

    def remove(self) -> None:
        """Take the preview off the scene."""
        remove_from_scene(self.preview)

    def active(self) -> bool:
        """True while a shape is being drawn."""
        return False

    def press(self, view: QGraphicsView, pos: QPointF) -> None:
        """A left press at viewport position ``pos``."""

    def move(self, view: QGraphicsView, pos: QPointF) -> None:
        """The mouse moved (button held or not)."""

    def release(self, view: QGraphicsView, pos: QPointF) -> None:
        """The left button was released."""

    def double_click(self, view: QGraphicsView, pos: QPointF) -> None:
        """A double-click."""

    def close(self) -> bool:
        """Finish the shape (Enter); True if one was emitted."""
        return False

    def cancel(self) -> bool:
        """Drop the shape being drawn; True if there was one."""
        return False


class BoxTool(DrawTool):
    """Drag a rectangle: press at one corner, release at the other."""

    name = "box"

    def __init__(self, height: int, width: int, layer: QGraphicsItem) -> None:
        super().__init__(height, width, layer)
        self.start: QPointF | None = None
        self.start_view: QPointF | None = None

    def active(self) -> bool:
        """True while dragging."""
        return self.start is not None

    def press(self, view: QGraphicsView, pos: QPointF) -> None:
        """Anchor the first corner."""
        self.start = view.mapToScene(pos.toPoint())
        self.start_view = QPointF(pos)

    def move(self, view: QGraphicsView, pos: QPointF) -> None:
        """Show the rectangle so far."""
        if self.start is None:
            return
        p = view.mapToScene(pos.toPoint())
        box = ed.box_from_corners(
            self.start.x(), self.start.y(), p.x(), p.y(), self.height, self.width
        )
        path = QPainterPath()
        path.addRect(QRectF(*box))
        self.preview.setPath(path)

    def release(self, view: QGraphicsView, pos: QPointF) -> None:
        """Emit the box unless the drag was too short to mean one."""
        if self.start is None or self.start_view is None:
            return
        start, start_view = self.start, self.start_view
        self.cancel()
        if (
            abs(pos.x() - start_view.x()) < MIN_BOX_PIXELS
            or abs(pos.y() - start_view.y()) < MIN_BOX_PIXELS
        ):
            return
        p = view.mapToScene(pos.toPoint())
        box = ed.box_from_corners(start.x(), start.y(), p.x(), p.y(), self.height, self.width)
        if box[2] > 0 and box[3] > 0:
            self.drawn.emit({"bbox": box})

    def cancel(self) -> bool:
        """Drop the rectangle."""
        had = self.start is not None
        self.start = self.start_view = None
        self.preview.setPath(QPainterPath())
        return had


class PolygonTool(DrawTool):
    """Click to add points; Enter, a double-click or a click on the first point closes."""

    name = "polygon"

    def __init__(self, height: int, width: int, layer: QGraphicsItem) -> None:
        super().__init__(height, width, layer)
        self.points: list[tuple[float, float]] = []
        self.cursor: tuple[float, float] | None = None
        self.dots: list[HandleItem] = []

    def active(self) -> bool:
        """True once a point was placed."""
        return bool(self.points)

    def press(self, view: QGraphicsView, pos: QPointF) -> None:
        """Add a point, or close on the first one."""
        if len(self.points) >= 3:
            first = view.mapFromScene(QPointF(*self.points[0]))
            if (first.x() - pos.x()) ** 2 + (first.y() - pos.y()) ** 2 <= HIT_RADIUS**2:
                self.close()
                return
        p = view.mapToScene(pos.toPoint())
        point = ed.clamp_point(p.x(), p.y(), self.height, self.width)
        if not self.points or point != self.points[-1]:
            self.points.append(point)
            dot = HandleItem(QPointF(*point), round_=True, parent=self._layer)
            dot.set_active(len(self.points) == 1)  # the first point: click it to close
            self.dots.append(dot)
        self._redraw()

    def move(self, view: QGraphicsView, pos: QPointF) -> None:
        """Rubber-band the next edge."""
        if self.points:
            p = view.mapToScene(pos.toPoint())
            self.cursor = ed.clamp_point(p.x(), p.y(), self.height, self.width)
            self._redraw()

    def double_click(self, view: QGraphicsView, pos: QPointF) -> None:
        """Close the polygon."""
        self.close()

    def _redraw(self) -> None:
        pts = list(self.points) + ([self.cursor] if self.cursor is not None else [])
        path = QPainterPath()
        if pts:
            path.addPolygon(QPolygonF([QPointF(x, y) for x, y in pts]))
        self.preview.setPath(path)

    def close(self) -> bool:
        """Emit the polygon if it has at least three distinct points."""
        points = list(self.points)
        if len(points) < 3:
            return False
        try:
            polygon = ed.polygon_from_points(points, self.height, self.width)
        except ed.EditGeometryError:
            return False
        self.cancel()
        self.drawn.emit({"segmentation": polygon})
        return True

    def cancel(self) -> bool:
        """Drop the points placed so far."""
        had = bool(self.points)
        self.points, self.cursor = [], None
        for dot in self.dots:
            remove_from_scene(dot)
        self.dots = []
        self.preview.setPath(QPainterPath())
        return had

    def remove(self) -> None:
        """Take the preview and the placed points off the scene."""
        self.cancel()
        super().remove()
