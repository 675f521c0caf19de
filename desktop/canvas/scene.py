"""The canvas scene: one image, its labels (solid, colour per class) and predictions (dashed,
one colour), drawn in three strengths: the suspect's label and prediction strongly, other
labels normally, other predictions faint (or normally, with tags, when asked for). A ghost
outline shows what accepting the suspect would leave behind. Tags sit in their own layer; the
view lays them out (``layout_tags``) whenever what it shows changes."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
from PySide6.QtCore import QLineF, QPointF, QRectF, Qt
from PySide6.QtGui import QBrush, QColor, QImage, QPainterPath, QPen, QPixmap, QTransform
from PySide6.QtWidgets import (
    QGraphicsItem,
    QGraphicsLineItem,
    QGraphicsPathItem,
    QGraphicsPixmapItem,
    QGraphicsRectItem,
    QGraphicsScene,
)

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
from .tag_layout import TagRequest, place_tags, visible_outline

PLACEHOLDER = QColor("#6b6b6b")
GHOST_DELETE = QColor("#ff3b30")  # a ghost of a label that accepting deletes
MAX_LABEL_TAGS = 25  # more labels than this: only the suspect's carry a tag
MAX_PREDICTION_TAGS = 12  # ... predictions shown normally
# outline strengths: (pen width, alpha)
STRONG_LABEL, NORMAL_LABEL = (3.5, 255), (1.6, 230)
STRONG_PREDICTION, NORMAL_PREDICTION, FAINT_PREDICTION = (3.0, 255), (1.2, 200), (1.0, 85)


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


@dataclass
class Ghost:
    """The outline an accept would leave: a label's new geometry and class, or one it deletes."""

    bbox: list[float]
    segmentation: object
    colour: QColor
    text: str
    deletes: bool = False


@dataclass
class Tag:
    """A tag on the canvas: its item, the scene box it names, and how early it is placed."""

    item: TagItem
    anchor: QRectF
    priority: int
    suspect_own: bool = False
    leader: QGraphicsLineItem | None = None
    outline: QPainterPath | None = None  # the shape it names (its anchor is the box)
    _points: list[np.ndarray] | None = None

    def outline_points(self) -> list[np.ndarray]:
        """The outline's polygons as (x, y) rows in scene pixels (made once, when needed)."""
        if self._points is None:
            polygons = self.outline.toSubpathPolygons() if self.outline is not None else []
            self._points = [np.array([(p.x(), p.y()) for p in poly]) for poly in polygons]
        return self._points

    def view_anchor(self, to_view: QTransform, bounds: tuple) -> tuple:
        """The box the tag names in view pixels; for a shape that runs out of the view, the
        box of its outline's visible part (its tag sits there, not at the view's corner)."""
        a = to_view.mapRect(self.anchor)
        box = (a.left(), a.top(), a.right(), a.bottom())
        inside = bounds[0] <= box[0] and bounds[1] <= box[1]
        if self.outline is None or (inside and box[2] <= bounds[2] and box[3] <= bounds[3]):
            return box
        t = to_view
        parts = [
            np.column_stack(
                (
                    t.m11() * p[:, 0] + t.m21() * p[:, 1] + t.dx(),
                    t.m12() * p[:, 0] + t.m22() * p[:, 1] + t.dy(),
                )
            )
            for p in self.outline_points()
            if len(p)
        ]
        return visible_outline(parts, bounds) or box


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
        self.predictions_layer = self._layer(2)  # every prediction but the suspect's
        self.suspect_layer = self._layer(3)  # the suspect's prediction: H never hides it
        self.ghost_layer = self._layer(0.5)  # under the outlines: they stay readable on it
        tags = self._layer(4.5)
        self.label_tags = self._layer(0, tags)
        self.prediction_tags = self._layer(1, tags)
        self.suspect_tags = self._layer(2, tags)
        self.ghost_tags = self._layer(3, tags)
        self.edit_layer = self._layer(5)  # the selected label's handles, shapes being drawn
        self.overlay: Overlay | None = None
        self.predictions_full = False  # other predictions drawn normally (with tags), not faint
        self.focus_rect = QRectF()
        self.suspect_rects: list[QRectF] = []  # the suspect's boxes (tags keep off them)
        self.tags: list[Tag] = []
        self.label_items: dict[int, list[QGraphicsItem]] = {}  # the items drawing each label
        self.label_paths: dict[int, QPainterPath] = {}
        self.generation = 0  # bumped whenever the tags change (the view lays them out again)

    def _layer(self, z: float, parent: QGraphicsItem | None = None) -> QGraphicsRectItem:
        layer = QGraphicsRectItem()
        layer.setPen(Qt.PenStyle.NoPen)
        layer.setZValue(z)
        if parent is None:
            self.addItem(layer)
        else:
            layer.setParentItem(parent)
        return layer

    # ------------------------------------------------------------------ image
    def set_image(self, image: QImage) -> None:
        """Show decoded pixels (drops any placeholder)."""
        self._clear_placeholder()
        self.image_item.setPixmap(QPixmap.fromImage(image))
        self.image_item.setVisible(True)

    def set_pixelated(self, on: bool) -> None:
        """Draw the image nearest-neighbour (crisp pixel blocks when zoomed in) or smoothly."""
        mode = (
            Qt.TransformationMode.FastTransformation
            if on
            else Qt.TransformationMode.SmoothTransformation
        )
        if self.image_item.transformationMode() != mode:
            self.image_item.setTransformationMode(mode)

    def set_placeholder(self, width: int, height: int, message: str) -> None:
        """A grey rectangle of the image's size with a message, instead of the pixels (the
        view keeps the message where it looks, see ``place_message``)."""
        self._clear_placeholder()
        self.image_item.setVisible(False)
        self.placeholder = QGraphicsRectItem(0, 0, max(width, 1), max(height, 1))
        self.placeholder.setBrush(PLACEHOLDER)
        self.placeholder.setPen(Qt.PenStyle.NoPen)
        self.addItem(self.placeholder)
        self.message = MessageItem(message)
        self.message.setPos(width / 2, height / 2)
        self.addItem(self.message)

    def place_message(self, visible: QRectF) -> None:
        """Keep the placeholder's message at the centre of what the view shows."""
        if self.message is not None and visible.isValid():
            self.message.setPos(visible.center())

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
        """Redraw the labels and predictions (the ghost is dropped; set it again)."""
        layers = (self.labels_layer, self.predictions_layer, self.suspect_layer)
        tag_layers = (self.label_tags, self.prediction_tags, self.suspect_tags)
        for layer in (*layers, *tag_layers):
            _clear(layer)
        self.set_ghost(None)
        self.overlay = overlay
        self.focus_rect = QRectF()
        self.suspect_rects = []
        self.tags = []
        self.label_items, self.label_paths = {}, {}
        self.generation += 1
        if overlay is None:
            self.setSceneRect(QRectF(0, 0, 1, 1))
            return
        self.setSceneRect(QRectF(0, 0, overlay.width, overlay.height))
        for ann in overlay.labels:
            self._add_label(overlay, ann)
        for pred in overlay.predictions:
            self._add_prediction(overlay, pred)

    def _add_tag(
        self,
        text: str,
        colour: QColor,
        anchor: QRectF,
        layer: QGraphicsItem,
        *,
        priority: int,
        below: bool = False,
        bold: bool = False,
        suspect_own: bool = False,
        outline: QPainterPath | None = None,
    ) -> TagItem:
        tag = TagItem(text, colour, below=below, bold=bold)
        tag.setPos(anchor.topLeft())  # until the view lays the tags out
        tag.setParentItem(layer)
        self.tags.append(Tag(tag, QRectF(anchor), priority, suspect_own, outline=outline))
        return tag

    def _add_label(self, ov: Overlay, ann: dict) -> None:
        suspect = ann["id"] == ov.annotation_id
        involved = suspect or ann["id"] == ov.other_annotation_id
        colour = category_colour(ann["category_id"])
        seg = ann.get("segmentation")
        parent: QGraphicsItem = self.labels_layer
        drawn: list[QGraphicsItem] = []
        if isinstance(seg, dict):
            overlay_item = mask_item(seg, ov.height, ov.width, colour)
            if overlay_item is not None:
                overlay_item.setParentItem(parent)
        path = outline_path(ann["bbox"], seg)
        self.label_paths[ann["id"]] = path
        width, alpha = STRONG_LABEL if involved else NORMAL_LABEL
        item = shape_item(path, colour, width=width, dashed=False, alpha=alpha)
        item.setZValue(2 if involved else 1)
        item.setParentItem(parent)
        name = ov.names.get(ann["category_id"], str(ann["category_id"]))
        item.setToolTip(f"label #{ann['id']}: {name}")
        drawn.append(item)
        self.label_items[ann["id"]] = drawn
        box = QRectF(*ann["bbox"])
        if involved or len(ov.labels) <= MAX_LABEL_TAGS:
            text = name + (" (crowd)" if ann.get("iscrowd") else "")
            tag = self._add_tag(
                text,
                colour,
                box,
                self.label_tags,
                priority=0 if suspect else (2 if involved else 10),
                bold=involved,
                suspect_own=involved,
                outline=path,
            )
            drawn.append(tag)
        if involved:
            self.focus_rect = self.focus_rect.united(box)
            self.suspect_rects.append(box)

    def _add_prediction(self, ov: Overlay, pred: dict) -> None:
        own = pred["id"] == ov.prediction_id
        seg = pred.get("segmentation")
        if own:
            (width, alpha), layer, tags = STRONG_PREDICTION, self.suspect_layer, self.suspect_tags
        elif self.predictions_full:
            (width, alpha), layer, tags = (
                NORMAL_PREDICTION,
                self.predictions_layer,
                self.prediction_tags,
            )
        else:
            (width, alpha), layer, tags = FAINT_PREDICTION, self.predictions_layer, None
        path = outline_path(pred["bbox"], seg if isinstance(seg, list) else None)
        item = shape_item(
            path,
            PREDICTION_COLOUR,
            width=width,
            dashed=True,
            alpha=alpha,
        )
        item.setZValue(3 if own else 0)
        item.setParentItem(layer)
        name = ov.names.get(pred["category_id"], str(pred["category_id"]))
        text = f"{name} {pred['score']:.2f}"
        item.setToolTip(f"prediction {pred['id']}: {text}")
        box = QRectF(*pred["bbox"])
        if tags is not None and (own or len(ov.predictions) <= MAX_PREDICTION_TAGS):
            self._add_tag(
                text,
                PREDICTION_COLOUR,
                box,
                tags,
                priority=1 if own else 20,
                below=True,
                bold=own,
                suspect_own=own,
                outline=path,
            )
        if own:
            self.focus_rect = self.focus_rect.united(box)
            self.suspect_rects.append(box)

    # ------------------------------------------------------------------ ghost
    def set_ghost(self, ghost: Ghost | None) -> None:
        """Show (or drop) the outline accepting the suspect would leave behind."""
        _clear(self.ghost_layer)
        _clear(self.ghost_tags)
        self.tags = [t for t in self.tags if t.item.parentItem() is not None]
        self.generation += 1
        if ghost is None:
            return
        path = outline_path(ghost.bbox, ghost.segmentation)
        fill = QColor(ghost.colour)
        fill.setAlpha(40)
        under = QGraphicsPathItem(path)
        under.setPen(_cosmetic(QColor(0, 0, 0, 150), 3.4))
        brush = QBrush(
            fill, Qt.BrushStyle.BDiagPattern if ghost.deletes else Qt.BrushStyle.SolidPattern
        )
        under.setBrush(brush)
        over = QGraphicsPathItem(path)
        over.setPen(
            _cosmetic(QColor("#ffffff") if not ghost.deletes else GHOST_DELETE, 1.6, dots=True)
        )
        for item in (under, over):
            item.setAcceptedMouseButtons(Qt.MouseButton.NoButton)
            item.setParentItem(self.ghost_layer)
        over.setToolTip(ghost.text)
        self._add_tag(
            ghost.text,
            ghost.colour,
            QRectF(*ghost.bbox),
            self.ghost_tags,
            priority=3,
            below=True,
            suspect_own=True,
            outline=path,
        )

    def ghost_path(self) -> QPainterPath | None:
        """The ghost's outline (None when there is none)."""
        items = [i for i in self.ghost_layer.childItems() if isinstance(i, QGraphicsPathItem)]
        return items[0].path() if items else None

    # ------------------------------------------------------------------ tags
    def layout_tags(
        self,
        to_view: QTransform,
        viewport: QRectF,
        avoid: Sequence[QRectF] = (),
        blocked: Sequence[QRectF] = (),
    ) -> None:
        """Place every shown tag in view pixels (see tag_layout) for the view ``to_view`` maps
        the scene into, off the ``avoid`` rectangles (view pixels: the edited label's handles);
        tags that moved away from their box get a leader line."""
        bounds = (viewport.left(), viewport.top(), viewport.right(), viewport.bottom())
        requests = []
        for i, tag in enumerate(self.tags):
            if not tag.item.isVisible():
                continue
            w, h = tag.item.size()
            anchor = tag.view_anchor(to_view, bounds)
            requests.append(TagRequest(i, w, h, anchor, tag.priority, tag.item.below))
        suspect = []
        for rect in self.suspect_rects:
            r = to_view.mapRect(rect)
            suspect.append((r.left(), r.top(), r.right(), r.bottom()))
        to_scene, _ok = to_view.inverted()
        keep_off = [(r.left(), r.top(), r.right(), r.bottom()) for r in avoid]
        badges = [(r.left(), r.top(), r.right(), r.bottom()) for r in blocked]
        for place in place_tags(requests, bounds, suspect, keep_off, badges):
            tag = self.tags[place.key]
            tag.item.setPos(to_scene.map(QPointF(place.rect[0], place.rect[1])))
            if place.leader is None:
                if tag.leader is not None:
                    tag.leader.setVisible(False)
                continue
            if tag.leader is None:
                tag.leader = QGraphicsLineItem()
                colour = QColor(tag.item.colour)
                colour.setAlpha(230)
                tag.leader.setPen(_cosmetic(colour, 1.3))
                tag.leader.setZValue(-1)
                tag.leader.setParentItem(tag.item.parentItem())
            x0, y0, x1, y1 = place.leader
            tag.leader.setLine(QLineF(to_scene.map(QPointF(x0, y0)), to_scene.map(QPointF(x1, y1))))
            tag.leader.setVisible(True)

    def tag_rects(self, to_view: QTransform) -> dict[str, list[QRectF]]:
        """Every shown tag's text and rectangle in view pixels (for tests and tools)."""
        out: dict[str, list[QRectF]] = {}
        for tag in self.tags:
            if tag.item.isVisible():
                w, h = tag.item.size()
                top_left = to_view.map(tag.item.pos())
                out.setdefault(tag.item.text, []).append(QRectF(top_left.x(), top_left.y(), w, h))
        return out

    # ------------------------------------------------------------------ picking and toggles
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
        self.label_tags.setVisible(visible)
        self.generation += 1

    def set_predictions_visible(self, visible: bool) -> None:
        """Show or hide every prediction but the suspect's own."""
        self.predictions_layer.setVisible(visible)
        self.prediction_tags.setVisible(visible)
        self.generation += 1


def _clear(layer: QGraphicsItem) -> None:
    """Take every child item of a layer off the scene."""
    for child in layer.childItems():
        child.setParentItem(None)
        remove_from_scene(child)


def _cosmetic(colour: QColor, width: float, *, dots: bool = False) -> QPen:
    """A pen of the same width at any zoom."""
    pen = QPen(colour, width)
    pen.setCosmetic(True)
    pen.setJoinStyle(Qt.PenJoinStyle.RoundJoin)
    if dots:
        pen.setStyle(Qt.PenStyle.CustomDashLine)
        pen.setDashPattern([2.0, 2.5])
    return pen
