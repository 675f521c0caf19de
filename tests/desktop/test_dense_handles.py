"""A polygon traced from a mask (an accepted mask prediction, a converted crowd region) has a
vertex every pixel or two: at a zoom where its vertices are closer than a handle, drawing every
handle piles them into a beaded chain that hides the outline. Handles are thinned to about one
per handle width at the current zoom (every vertex stays grabbable), all shown when zoomed in."""

from __future__ import annotations

import math

import numpy as np
from PySide6.QtCore import QRectF, Qt
from PySide6.QtGui import QBrush, QColor, QImage
from PySide6.QtWidgets import QGraphicsRectItem, QGraphicsScene, QGraphicsView
from scipy import ndimage

from labelfix.desktop.canvas.editing import LabelEditor


def _circle(n: int, r: float, cx: float = 60, cy: float = 60) -> list[float]:
    out: list[float] = []
    for k in range(n):
        a = 2 * math.pi * k / n
        out += [round(cx + r * math.cos(a), 2), round(cy + r * math.sin(a), 2)]
    return out


def _handles_seen(qtbot: object, scale: float, n: int) -> tuple[int, LabelEditor, QGraphicsScene]:
    """Separate white handle dots drawn for an n-vertex circle polygon at this zoom."""
    scene = QGraphicsScene()
    scene.setSceneRect(QRectF(0, 0, 120, 120))
    layer = QGraphicsRectItem(QRectF(0, 0, 120, 120))
    layer.setPen(Qt.PenStyle.NoPen)
    scene.addItem(layer)
    ann = {"id": 1, "bbox": [20, 20, 80, 80], "segmentation": [_circle(n, 40)]}
    editor = LabelEditor(ann, 120, 120, layer)
    view = QGraphicsView(scene)
    qtbot.addWidget(view)
    view.resize(int(130 * scale) + 20, int(130 * scale) + 20)
    view.scale(scale, scale)
    view.setBackgroundBrush(QBrush(QColor("black")))  # white would merge with the handles
    view.show()
    qtbot.waitExposed(view)
    image = view.viewport().grab().toImage().convertToFormat(QImage.Format.Format_RGB32)
    buf = np.frombuffer(image.constBits(), np.uint8).reshape(image.height(), -1, 4)
    white = np.all(buf[:, : image.width(), :3] >= 250, axis=2)
    _labels, count = ndimage.label(white)
    return count, editor, scene  # the scene owns the handles: keep it alive


def test_dense_vertices_show_about_one_handle_per_handle_width(qtbot: object) -> None:
    count, editor, _scene = _handles_seen(qtbot, 1.0, 240)  # vertices ~1 px apart on screen
    assert len(editor.handles) == 240  # each vertex still has its handle (grabbable)
    assert 10 <= count <= 40  # before: the 240 dots merged into a few white blobs


def test_zoomed_in_every_vertex_shows(qtbot: object) -> None:
    count, _editor, _scene = _handles_seen(qtbot, 6.0, 40)  # ~38 px apart on screen
    assert count == 40


def test_a_corner_between_long_edges_shows_among_dense_vertices(qtbot: object) -> None:
    """Thinning by the median spacing would hide a far corner whose index is off the stride."""
    _count, editor, _scene = _handles_seen(qtbot, 1.0, 240)
    dense = [editor.handles[i] for i in range(1, 240) if i % 2]
    assert not all(h.shown(1.0) for h in dense)
    part = _circle(240, 40)[:-2] + [110.0, 110.0]  # the last vertex pulled far out
    ann = {"id": 2, "bbox": [20, 20, 90, 90], "segmentation": [part]}
    corner = LabelEditor(ann, 120, 120, editor.handles[0].parentItem()).handles[-1]
    assert corner.index % corner.stride(1.0) != 0 and corner.shown(1.0)
