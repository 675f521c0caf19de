"""The canvas's zoom and pan: wheel and keys zoom within ``MIN_SCALE``..``MAX_SCALE``, a drag
pans, the whole image fits, a suspect is framed with context and Z zooms to its object (the
arithmetic is in framing.py).

From ``PIXELATED_FROM`` screen pixels per image pixel on, the image is drawn nearest-neighbour:
each image pixel a crisp block, so a box's edge can be judged to the pixel (smooth scaling only
smears a small object's few pixels into a blur there). Below it, smooth scaling reads better.
Outlines, tags, leader lines and handles keep their screen size at any zoom (cosmetic pens,
items that ignore the view's transform). Qt scales only the exposed part of the image: drawing
it takes a few ms at any zoom (0.5 ms at 1x, 0.8 at 6x, 2.5 at 64x on a coco_real81 image).

:class:`CanvasZoom` is a mixin of :class:`~.view.CanvasView` (it uses the view's scene and
lays the tags out through it)."""

from __future__ import annotations

from PySide6.QtCore import QPointF, QRect, QRectF, Qt
from PySide6.QtGui import QWheelEvent

from .framing import CONTEXT_FILL, OBJECT_FILL, OBJECT_MAX_SCALE, Frame, frame_box

# At 64x a 1000 px wide canvas shows 16 image pixels: closer shows nothing more to judge.
MIN_SCALE, MAX_SCALE = 0.02, 64.0
PIXELATED_FROM = 3.0  # screen pixels per image pixel from which pixels are drawn as blocks


class CanvasZoom:
    """The canvas view's zoom, fit and framing (a mixin of CanvasView)."""

    def zoom(self, factor: float) -> None:
        """Scale the view by ``factor``, within sane limits."""
        current = self.transform().m11()
        factor = max(MIN_SCALE / current, min(MAX_SCALE / current, factor))
        self.scale(factor, factor)
        self.zoomed_to_object = False
        self._view_changed()

    def zoom_in(self) -> None:
        """Zoom in one step."""
        self.zoom(1.25)

    def zoom_out(self) -> None:
        """Zoom out one step."""
        self.zoom(0.8)

    def fit(self) -> None:
        """Fit the whole image in the view."""
        rect = self.review_scene.sceneRect()
        with self.one_layout():
            if rect.width() > 1:
                self.fitInView(rect, Qt.AspectRatioMode.KeepAspectRatio)
            self.zoomed_to_object = False

    def _show_frame(self, frame: Frame) -> None:
        with self.one_layout():  # each step scrolls; the tags are laid out for the last view
            self.resetTransform()
            self.scale(frame.scale, frame.scale)
            self.centerOn(QPointF(frame.cx, frame.cy))

    def _frame(self, fill: float, **kw: float) -> Frame | None:
        """The view that shows the suspect filling ``fill`` of it (None: nothing to frame)."""
        rect = self.review_scene.focus_rect
        scene = self.review_scene.sceneRect()
        view = self.viewport().rect()
        if rect.isEmpty() or scene.width() <= 1 or view.width() < 2 or view.height() < 2:
            return None
        box = (rect.x(), rect.y(), rect.width(), rect.height())
        return frame_box(
            box, (scene.width(), scene.height()), (view.width(), view.height()), fill=fill, **kw
        )

    def frame_suspect(self) -> None:
        """Show the suspect with a fixed share of context (it fills ~40% of the view, the view
        stays on the image; see framing.py); the whole image when there is no suspect here."""
        frame = self._frame(CONTEXT_FILL)
        self.zoomed_to_object = False
        if frame is None:
            self.fit()
        else:
            self._show_frame(frame)

    def zoom_to_suspect(self) -> None:
        """Z: zoom to the suspect's object itself; pressed again, back to its context."""
        if self.zoomed_to_object:
            self.frame_suspect()
            return
        frame = self._frame(OBJECT_FILL, max_scale=OBJECT_MAX_SCALE)
        if frame is None:
            self.fit()
            return
        self._show_frame(frame)
        self.zoomed_to_object = True

    def update_pixelated(self) -> None:
        """Draw the image's pixels as blocks from ``PIXELATED_FROM`` on, smoothly below."""
        self.review_scene.set_pixelated(self.transform().m11() >= PIXELATED_FROM)

    def wheelEvent(self, event: QWheelEvent) -> None:  # noqa: N802 - Qt API
        steps = event.angleDelta().y() / 120.0
        if steps:
            self.zoom(1.25**steps)
        event.accept()

    def suspect_on_screen(self) -> QRect | None:
        """The suspect's boxes in global screen pixels (None: none shown)."""
        rect = self.review_scene.focus_rect
        if rect.isEmpty() or not self.isVisible():
            return None
        box = self.mapFromScene(rect).boundingRect()
        return QRect(self.viewport().mapToGlobal(box.topLeft()), box.size())

    def visible_scene_rect(self) -> QRectF:
        """The part of the scene the viewport shows."""
        return self.mapToScene(self.viewport().rect()).boundingRect()
