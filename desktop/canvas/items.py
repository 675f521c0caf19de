"""Graphics items of the canvas: label and prediction outlines, mask overlays, tags."""

from __future__ import annotations

import warnings

import numpy as np
from pycocotools import mask as mask_utils
from PySide6.QtCore import QPointF, QRectF, Qt
from PySide6.QtGui import (
    QBrush,
    QColor,
    QFont,
    QFontMetricsF,
    QImage,
    QPainter,
    QPainterPath,
    QPen,
    QPixmap,
    QPolygonF,
)
from PySide6.QtWidgets import (
    QGraphicsItem,
    QGraphicsPathItem,
    QGraphicsPixmapItem,
    QStyleOptionGraphicsItem,
    QWidget,
)


def remove_from_scene(item: QGraphicsItem) -> None:
    """Take an item off its scene, if it is on one."""
    scene = item.scene()
    if scene is not None:
        scene.removeItem(item)


PREDICTION_COLOUR = QColor("#ff2bd6")  # one colour for every prediction, distinct from label hues
GOLDEN = 0.618033988749895


def relative_luminance(colour: QColor) -> float:
    """WCAG 2 relative luminance of a colour (0 black .. 1 white)."""

    def linear(c: float) -> float:
        return c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4

    r, g, b = (linear(v) for v in (colour.redF(), colour.greenF(), colour.blueF()))
    return 0.2126 * r + 0.7152 * g + 0.0722 * b


def contrast_ratio(a: QColor, b: QColor) -> float:
    """WCAG 2 contrast ratio of two colours (1 .. 21)."""
    la, lb = sorted((relative_luminance(a), relative_luminance(b)), reverse=True)
    return (la + 0.05) / (lb + 0.05)


INK_DARK, INK_LIGHT = QColor("#000000"), QColor("#ffffff")


def ink_for(background: QColor) -> QColor:
    """Black or white text, whichever contrasts more with the background: at least 4.58:1 on
    any opaque colour (WCAG AA asks 4.5:1 for normal text)."""
    if contrast_ratio(background, INK_DARK) >= contrast_ratio(background, INK_LIGHT):
        return QColor(INK_DARK)
    return QColor(INK_LIGHT)


def category_colour(category_id: int) -> QColor:
    """A stable, saturated colour per category (hues 0-270 degrees, away from the prediction's magenta)."""
    hue = ((category_id * GOLDEN) % 1.0) * 270.0
    return QColor.fromHsvF(hue / 360.0, 0.85, 1.0)


def outline_path(bbox: list[float], segmentation: object) -> QPainterPath:
    """The outline of a label or prediction: its polygon parts, else its box."""
    path = QPainterPath()
    if isinstance(segmentation, list) and segmentation and isinstance(segmentation[0], list):
        for part in segmentation:
            if len(part) >= 6:
                pts = np.asarray(part, dtype=np.float64).reshape(-1, 2)
                path.addPolygon(QPolygonF([QPointF(float(x), float(y)) for x, y in pts]))
                path.closeSubpath()
    if path.isEmpty():
        x, y, w, h = bbox
        path.addRect(QRectF(x, y, w, h))
    return path


def shape_item(
    path: QPainterPath, colour: QColor, *, width: float, dashed: bool, alpha: int = 255
) -> QGraphicsPathItem:
    """An outline item drawn with a cosmetic pen (same width at any zoom)."""
    item = QGraphicsPathItem(path)
    c = QColor(colour)
    c.setAlpha(alpha)
    pen = QPen(c, width)
    pen.setCosmetic(True)
    pen.setJoinStyle(Qt.PenJoinStyle.RoundJoin)
    if dashed:
        pen.setStyle(Qt.PenStyle.CustomDashLine)
        pen.setDashPattern([4.0, 3.0])
    item.setPen(pen)
    item.setBrush(Qt.BrushStyle.NoBrush)
    return item


def mask_item(
    segmentation: dict, height: int, width: int, colour: QColor, alpha: int = 110
) -> QGraphicsPixmapItem | None:
    """A translucent overlay of an RLE mask (compressed or not), or None when undecodable."""
    try:
        rle = segmentation
        if isinstance(rle.get("counts"), list):
            rle = mask_utils.frPyObjects(rle, *rle["size"])
        elif isinstance(rle.get("counts"), str):
            rle = {"size": rle["size"], "counts": rle["counts"].encode()}
        with warnings.catch_warnings():  # pycocotools' numpy-2 copy= deprecation chatter
            warnings.simplefilter("ignore", DeprecationWarning)
            mask = mask_utils.decode(rle)
    except Exception:  # noqa: BLE001 - a broken mask is drawn as its box only
        return None
    h, w = mask.shape[:2]
    rgba = np.zeros((h, w, 4), dtype=np.uint8)
    on = mask.astype(bool)
    rgba[on] = (colour.red(), colour.green(), colour.blue(), alpha)
    image = QImage(rgba.data, w, h, 4 * w, QImage.Format.Format_RGBA8888).copy()
    return QGraphicsPixmapItem(QPixmap.fromImage(image))


class _TextBox(QGraphicsItem):
    """Text on a rounded background that keeps its size at any zoom (tags and messages)."""

    def __init__(self, text: str, point_size: float, bold: bool, z: float) -> None:
        super().__init__()
        self.text = text
        self.font = QFont()
        self.font.setPointSizeF(point_size)
        self.font.setBold(bold)
        self.metrics = QFontMetricsF(self.font)
        self._rect = QRectF()
        self.setFlag(QGraphicsItem.GraphicsItemFlag.ItemIgnoresTransformations)
        self.setZValue(z)

    def boundingRect(self) -> QRectF:  # noqa: N802 - Qt API
        return self._rect

    def _paint_box(
        self,
        painter: QPainter,
        fill: QColor,
        text: QColor,
        radius: float,
        rect: QRectF,
        align: Qt.AlignmentFlag,
    ) -> None:
        painter.setPen(Qt.PenStyle.NoPen)
        painter.setBrush(QBrush(fill))
        painter.drawRoundedRect(self._rect, radius, radius)
        painter.setPen(text)
        painter.setFont(self.font)
        painter.drawText(rect, align, self.text)


class TagItem(_TextBox):
    """A small text tag with a solid background that keeps its size at any zoom; its origin is
    its top-left corner (the canvas's tag layout places it)."""

    def __init__(
        self, text: str, colour: QColor, *, below: bool = False, bold: bool = False
    ) -> None:
        super().__init__(text, 9.0, bold, 10)
        self.colour = QColor(colour)
        self.ink = ink_for(self.colour)
        self.below = below  # prefers a spot under its box (prediction tags)
        w = self.metrics.horizontalAdvance(text) + 8
        h = self.metrics.height() + 2
        self._rect = QRectF(0, 0, w, h)

    def size(self) -> tuple[float, float]:
        """Width and height on screen, in pixels."""
        return self._rect.width(), self._rect.height()

    def paint(
        self, painter: QPainter, option: QStyleOptionGraphicsItem, widget: QWidget | None = None
    ) -> None:
        self._paint_box(
            painter,
            self.colour,
            self.ink,
            2,
            self._rect.adjusted(4, 0, -4, 0),
            Qt.AlignmentFlag.AlignVCenter,
        )


class MessageItem(_TextBox):
    """A centred message (e.g. "image not found") that keeps its size at any zoom."""

    def __init__(self, text: str) -> None:
        super().__init__(text, 12.0, False, 20)
        w = self.metrics.horizontalAdvance(text) + 24
        h = self.metrics.height() + 16
        self._rect = QRectF(-w / 2, -h / 2, w, h)

    def paint(
        self, painter: QPainter, option: QStyleOptionGraphicsItem, widget: QWidget | None = None
    ) -> None:
        self._paint_box(
            painter,
            QColor(30, 30, 30, 200),
            QColor("#f0f0f0"),
            4,
            self._rect,
            Qt.AlignmentFlag.AlignCenter,
        )
