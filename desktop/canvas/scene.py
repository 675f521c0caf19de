"""The canvas scene: one image, its labels (solid, colour per class) and predictions (dashed,
one colour), with the suspect's label and prediction highlighted."""

from __future__ import annotations

from dataclasses import dataclass, field

from PySide6.QtCore import QPointF, QRectF, Qt
from PySide6.QtGui import QColor, QImage, QPainterPath, QPixmap
from PySide6.QtWidgets import QGraphicsItem, QGraphicsPixmapItem, QGraphicsRectItem, QGraphicsScene

from .items import (
    PREDICTION_COLOUR,
    MessageItem,
    TagItem,
    category_colour,
    mask_item,
    outline_path,
    remove_from_scene,
    shape_item,
)

PLACEHOLDER = QColor("#6b6b6b")


@dataclass
class Overlay:
    """What to draw on an image: labels, predictions and the suspect's ids."""

    image_id: int
    width: int
    height: int
    labels: list[dict] = field(default_factory=list)
    predictions: list[dict] = field(default_factory=list)
    names: dict[int, str] = field(default_factory=dict)
    annotation_id: int | None = None
    prediction_id: int | None = None
    other_annotation_id: int | None = None


class ReviewScene(QGraphicsScene):
    """Draws one image and its overlay; toggles labels and predictions."""

    def __init__(self) -> None:
        super().__init__()
        self.setBackgroundBrush(QColor("#202124"))
        self.image_item = QGraphicsPixmapItem()
        self.image_item.setTransformationMode(Qt.TransformationMode.SmoothTransformation)
        self.addItem(self.image_item)
        self.placeholder: QGraphicsRectItem | None = None
        self.message: MessageItem | None = None
        self.labels_layer = self._layer(1)
        self.predictions_layer = self._layer(2)
        self.edit_layer = self._layer(5)  # the selected label's handles, shapes being drawn
        self.overlay: Overlay | None = None
        self.focus_rect = QRectF()
        self.label_items: dict[int, list[QGraphicsItem]] = {}  # the items drawing each label
        self.label_paths: dict[int, QPainterPath] = {}

    def _layer(self, z: float) -> QGraphicsRectItem:
        layer = QGraphicsRectItem()
        layer.setPen(Qt.PenStyle.NoPen)
        layer.setZValue(z)
        self.addItem(layer)
        return layer

    # ------------------------------------------------------------------ image
    def set_image(self, image: QImage) -> None:
        """Show decoded pixels (drops any placeholder)."""
        self._clear_placeholder()
        self.image_item.setPixmap(QPixmap.fromImage(image))
        self.image_item.setVisible(True)

    def set_placeholder(self, width: int, height: int, message: str) -> None:
        """A grey rectangle of the image's size with a message, instead of the pixels."""
        self._clear_placeholder()
        self.image_item.setVisible(False)
        self.placeholder = QGraphicsRectItem(0, 0, max(width, 1), max(height, 1))
        self.placeholder.setBrush(PLACEHOLDER)
        self.placeholder.setPen(Qt.PenStyle.NoPen)
        self.addItem(self.placeholder)
        self.message = MessageItem(message)
        self.message.setPos(width / 2, height / 2)
        self.addItem(self.message)

    def clear_image(self) -> None:
        """Forget the pixels (while the next image decodes)."""
        self._clear_placeholder()
        self.image_item.setPixmap(QPixmap())

    def _clear_placeholder(self) -> None:
        for item in (self.placeholder, self.message):
            if item is not None:
                remove_from_scene(item)
        self.placeholder = self.message = None

    # ------------------------------------------------------------------ overlay
    def set_overlay(self, overlay: Overlay | None) -> None:
        """Redraw the labels and predictions."""
        for layer in (self.labels_layer, self.predictions_layer):
            for child in layer.childItems():
                child.setParentItem(None)
                remove_from_scene(child)
        self.overlay = overlay
        self.focus_rect = QRectF()
        self.label_items, self.label_paths = {}, {}
        if overlay is None:
            self.setSceneRect(QRectF(0, 0, 1, 1))
            return
        self.setSceneRect(QRectF(0, 0, overlay.width, overlay.height))
        for ann in overlay.labels:
            self._add_label(overlay, ann)
        for pred in overlay.predictions:
            self._add_prediction(overlay, pred)

    def _add_label(self, ov: Overlay, ann: dict) -> None:
        involved = ann["id"] in (ov.annotation_id, ov.other_annotation_id)
        colour = category_colour(ann["category_id"])
        seg = ann.get("segmentation")
        parent: QGraphicsItem = self.labels_layer
        drawn: list[QGraphicsItem] = []
        if isinstance(seg, dict):
            overlay_item = mask_item(seg, ov.height, ov.width, colour)
            if overlay_item is not None:
                overlay_item.setParentItem(parent)
        dim = ov.annotation_id is not None or ov.prediction_id is not None
        path = outline_path(ann["bbox"], seg)
        self.label_paths[ann["id"]] = path
        item = shape_item(
            path,
            colour,
            width=3.5 if involved else 1.6,
            dashed=False,
            alpha=255 if involved or not dim else 170,
        )
        item.setZValue(2 if involved else 1)
        item.setParentItem(parent)
        drawn.append(item)
        self.label_items[ann["id"]] = drawn
        x, y = ann["bbox"][0], ann["bbox"][1]
        name = ov.names.get(ann["category_id"], str(ann["category_id"]))
        if involved or len(ov.labels) <= 25:
            tag = TagItem(name + (" (crowd)" if ann.get("iscrowd") else ""), colour, bold=involved)
            tag.setPos(x, y)
            tag.setZValue(12 if involved else 10)
            tag.setParentItem(parent)
            drawn.append(tag)
        if involved:
            self.focus_rect = self.focus_rect.united(QRectF(*ann["bbox"]))

    def _add_prediction(self, ov: Overlay, pred: dict) -> None:
        involved = pred["id"] == ov.prediction_id
        seg = pred.get("segmentation")
        item = shape_item(
            outline_path(pred["bbox"], seg if isinstance(seg, list) else None),
            PREDICTION_COLOUR,
            width=3.0 if involved else 1.2,
            dashed=True,
            alpha=255 if involved else 150,
        )
        item.setZValue(3 if involved else 0)
        item.setParentItem(self.predictions_layer)
        if involved or len(ov.predictions) <= 8:
            x, y, _w, h = pred["bbox"]
            name = ov.names.get(pred["category_id"], str(pred["category_id"]))
            tag = TagItem(
                f"{name} {pred['score']:.2f}", PREDICTION_COLOUR, below=True, bold=involved
            )
            tag.setPos(x, y + h)
            tag.setZValue(13 if involved else 9)
            tag.setParentItem(self.predictions_layer)
        if involved:
            self.focus_rect = self.focus_rect.united(QRectF(*pred["bbox"]))

    def label_at(self, point: QPointF) -> int | None:
        """The label under a scene point: the smallest one whose outline holds it."""
        best: tuple[float, int] | None = None
        for ann_id, path in self.label_paths.items():
            if path.contains(point):
                rect = path.boundingRect()
                size = rect.width() * rect.height()
                if best is None or size < best[0]:
                    best = (size, ann_id)
        return None if best is None else best[1]

    def set_label_drawn(self, annotation_id: int, visible: bool) -> None:
        """Show or hide a label's own outline (hidden while its editor draws it)."""
        for item in self.label_items.get(annotation_id, []):
            if not isinstance(item, TagItem):
                item.setVisible(visible)

    def set_labels_visible(self, visible: bool) -> None:
        """Show or hide every label."""
        self.labels_layer.setVisible(visible)

    def set_predictions_visible(self, visible: bool) -> None:
        """Show or hide every prediction."""
        self.predictions_layer.setVisible(visible)
