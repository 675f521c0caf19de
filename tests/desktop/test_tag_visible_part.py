"""Tags of labels that lie partly outside the view (zoomed in, or a label past the image's
edge) sit at the visible part of their outline: they all went to the view's top-left corner
(the clamped corner of their boxes) and piled up there, far from any outline they name."""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import QRectF, QSizeF
from PySide6.QtGui import QTransform

from labelfix.desktop.canvas.scene import Overlay, ReviewScene
from labelfix.desktop.canvas.tag_layout import visible_outline

VIEW = QRectF(0, 0, 400, 400)  # view pixels


def test_visible_outline_is_the_part_of_the_outline_inside_the_bounds() -> None:
    square = np.array([[-100.0, -100.0], [360.0, -100.0], [360.0, 900.0], [-100.0, 900.0]])
    assert visible_outline([square], (0, 0, 400, 400)) == (360.0, 0.0, 360.0, 400.0)
    inside = np.array([[10.0, 20.0], [50.0, 20.0], [50.0, 60.0]])
    assert visible_outline([inside], (0, 0, 400, 400)) == (10.0, 20.0, 50.0, 60.0)
    around = np.array([[-10.0, -10.0], [500.0, -10.0], [500.0, 500.0], [-10.0, 500.0]])
    assert visible_outline([around], (0, 0, 400, 400)) is None  # the view is inside it
    corner = np.array([[-50.0, -50.0], [100.0, -50.0], [-50.0, 100.0]])  # a diagonal edge
    x0, y0, x1, y1 = visible_outline([corner], (0, 0, 400, 400))
    assert (x0, y0, x1, y1) == (0.0, 0.0, 50.0, 50.0)


def _label(ann_id: int, right: float, cat: int) -> dict:
    """A polygon label from far left of the view to ``right`` (scene x), top to bottom."""
    poly = [-300.0, -50.0, right, -50.0, right, 900.0, -300.0, 900.0]
    return {
        "id": ann_id,
        "category_id": cat,
        "bbox": [-300.0, -50.0, right + 300.0, 950.0],
        "segmentation": [poly],
        "iscrowd": 0,
    }


def test_tags_of_labels_partly_out_of_view_sit_at_their_visible_edges(qapp: object) -> None:
    scene = ReviewScene()
    names = {1: "person", 2: "dining table"}
    labels = [_label(1, 250.0, 1), _label(2, 280.0, 2)]
    scene.set_overlay(Overlay(1, 600, 600, labels=labels, names=names))
    to_view = QTransform.fromTranslate(-100, -100) * QTransform.fromScale(2, 2)  # 100..300
    scene.layout_tags(to_view, VIEW)
    for tag, label in zip(scene.tags, labels, strict=True):
        edge = (label["segmentation"][0][2] - 100) * 2  # the right edge, in view pixels
        rect = QRectF(to_view.map(tag.item.pos()), QSizeF(*tag.item.size()))  # view pixels
        assert VIEW.contains(rect)
        assert rect.left() - 2 <= edge <= rect.right() + 2 or abs(rect.right() - edge) <= 2, (
            names[label["category_id"]],
            rect,
            edge,
        )
        assert rect.left() > 100  # not piled at the view's top-left corner
        assert tag.leader is None or not tag.leader.isVisible()
