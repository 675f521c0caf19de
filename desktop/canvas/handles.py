"""Handle items of the selected label: squares for box corners and edges, dots for polygon
vertices; both keep their size at any zoom. Hit testing is done by the editor, in view pixels."""

from __future__ import annotations

from PySide6.QtCore import QPointF, QRectF, Qt
from PySide6.QtGui import QBrush, QColor, QPainter, QPainterPath, QPen
from PySide6.QtWidgets import (
    QGraphicsItem,
    QGraphicsPathItem,
    QStyleOptionGraphicsItem,
    QWidget,
)

HANDLE_SIZE = 9.0  # pixels on screen
HIT_RADIUS = 8.0  # a press this close (screen pixels) to a handle grabs it
EDGE_RADIUS = 6.0  # ... to a polygon edge counts as on the edge
SELECTION_COLOUR = QColor("#ffd400")  # the selected label's outline
VERTEX_ACTIVE = QColor("#ff3b30")  # the selected vertex
DRAW_COLOUR = QColor("#00e5ff")  # shapes being drawn


class HandleItem(QGraphicsItem):
    """One handle: a square (box) or a dot (vertex), white with a dark rim; red when active."""

    def __init__(self, pos: QPointF, *, round_: bool = False, parent: QGraphicsItem | None = None):
        super().__init__(parent)
        self.round = round_
        self.active = False
        s = HANDLE_SIZE if not round_ else HANDLE_SIZE - 1
        self._rect = QRectF(-s / 2, -s / 2, s, s)
        self.setFlag(QGraphicsItem.GraphicsItemFlag.ItemIgnoresTransformations)
        self.setAcceptedMouseButtons(Qt.MouseButton.NoButton)  # the view hit-tests handles
        self.setZValue(30)
        self.setPos(pos)

    def set_active(self, active: bool) -> None:
        """Draw as the selected vertex (or not)."""
        if active != self.active:
            self.active = active
            self.update()

    def boundingRect(self) -> QRectF:  # noqa: N802 - Qt API
        return self._rect.adjusted(-1, -1, 1, 1)

    def paint(
        self, painter: QPainter, option: QStyleOptionGraphicsItem, widget: QWidget | None = None
    ) -> None:
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        painter.setPen(QPen(QColor("#202124"), 1.4))
        painter.setBrush(QBrush(VERTEX_ACTIVE if self.active else QColor("#ffffff")))
        if self.round:
            painter.drawEllipse(self._rect)
        else:
            painter.drawRect(self._rect)


def outline_item(
    path: QPainterPath, colour: QColor, *, width: float = 2.0, fill_alpha: int = 45
) -> QGraphicsPathItem:
    """The live outline of an edited or drawn shape: cosmetic pen, a light fill."""
    item = QGraphicsPathItem(path)
    pen = QPen(colour, width)
    pen.setCosmetic(True)
    pen.setJoinStyle(Qt.PenJoinStyle.RoundJoin)
    item.setPen(pen)
    fill = QColor(colour)
    fill.setAlpha(fill_alpha)
    item.setBrush(fill)
    item.setAcceptedMouseButtons(Qt.MouseButton.NoButton)
    item.setZValue(20)
    return item
