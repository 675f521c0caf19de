"""The canvas view: zoom (wheel, keys), pan (drag), fit, zoom to the suspect; follows the
session's selection and label changes and shows images as the loader delivers them."""

from __future__ import annotations

import time

from PySide6.QtCore import QEvent, QPointF, QRectF, Qt, QTimer, Signal
from PySide6.QtGui import QImage, QMouseEvent, QPainter, QWheelEvent
from PySide6.QtWidgets import QGraphicsView, QWidget

from ..images import ImageLoader
from ..session import Session
from .scene import Overlay, ReviewScene

MIN_SCALE, MAX_SCALE = 0.02, 64.0
PREFETCH = 4  # images ahead of the selection decoded in the background
MIN_PREDICTION_SCORE = 0.25
FRAME_ZOOM = 2.5  # how much closer than "fit" a small suspect is framed  # weaker predictions are not drawn (the suspect's own always is)


class CanvasView(QGraphicsView):
    """Shows the selected suspect's image with labels and predictions."""

    imageShown = Signal(int)  # image id, once its pixels (or its placeholder) are on screen

    def __init__(self, parent: QWidget | None = None, loader: ImageLoader | None = None) -> None:
        self.review_scene = ReviewScene()
        super().__init__(self.review_scene, parent)
        self.loader = loader or ImageLoader(parent=self)
        self.session: Session | None = None
        self.image_id: int | None = None
        self.suspect_key: str | None = None
        self.shown_image_id: int | None = None
        self.labels_visible = True
        self.predictions_visible = True
        self.requested_at = 0.0
        self.last_switch_ms = 0.0
        self.prefetch_enabled = True
        self._image_size = (1, 1)
        self._panning: QPointF | None = None
        self.setRenderHints(
            QPainter.RenderHint.Antialiasing | QPainter.RenderHint.SmoothPixmapTransform
        )
        self.setTransformationAnchor(QGraphicsView.ViewportAnchor.AnchorUnderMouse)
        self.setResizeAnchor(QGraphicsView.ViewportAnchor.AnchorViewCenter)
        self.setDragMode(QGraphicsView.DragMode.ScrollHandDrag)
        self.setViewportUpdateMode(QGraphicsView.ViewportUpdateMode.SmartViewportUpdate)
        self.setFocusPolicy(Qt.FocusPolicy.ClickFocus)
        self.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)  # drag pans
        self.setVerticalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self._refresh_timer = QTimer(
            self, singleShot=True, interval=0
        )  # coalesces bursts of signals
        self._refresh_timer.timeout.connect(self.refresh)
        self.loader.loaded.connect(self._on_loaded)
        self.loader.failed.connect(self._on_failed)

    # ------------------------------------------------------------------ session
    def attach(self, session: Session | None) -> None:
        """Follow a session (None: show nothing)."""
        if self.session is not None:
            self.session.selectionChanged.disconnect(self._refresh_timer.start)
            self.session.labelsChanged.disconnect(self._on_labels_changed)
        self.session = session
        self.loader.clear()
        self.image_id = self.shown_image_id = self.suspect_key = None
        if session is not None:
            session.selectionChanged.connect(self._refresh_timer.start)
            session.labelsChanged.connect(self._on_labels_changed)
        self.refresh()

    def refresh(self) -> None:
        """Draw the current suspect: its overlay at once, its pixels when decoded."""
        suspect = self.session.current() if self.session is not None else None
        if suspect is None:
            self.review_scene.clear_image()
            self.review_scene.set_overlay(None)
            self.image_id = self.suspect_key = None
            return
        new_image = suspect["image_id"] != self.image_id
        new_suspect = suspect["key"] != self.suspect_key
        self.image_id, self.suspect_key = suspect["image_id"], suspect["key"]
        self.review_scene.set_overlay(self._overlay(suspect))
        if new_suspect:
            self.frame_suspect()
        if new_image:
            self.shown_image_id = None
            self.review_scene.clear_image()
            self.requested_at = time.perf_counter()
            image = self.session.store.image(self.image_id)
            self.loader.request(
                self.image_id, self.session.store.image_path(image) if image else None
            )
            if self.prefetch_enabled:
                self.loader.prefetch(self._upcoming())

    def _overlay(self, suspect: dict) -> Overlay:
        store = self.session.store
        image = store.image(suspect["image_id"]) or {"width": 1, "height": 1}
        self._image_size = (image["width"], image["height"])
        threshold = max(self.session.filter.min_confidence, MIN_PREDICTION_SCORE)
        preds = []
        if self.session.set_id is not None:
            preds = [
                p
                for p in store.predictions_for_image(self.session.set_id, suspect["image_id"])
                if p["score"] >= threshold or p["id"] == suspect["prediction_id"]
            ]
        other = None
        if suspect["kind"] == "duplicate_label":
            parts = suspect["key"].split(":")  # duplicate_label:<label>:<other label>
            other = int(parts[2]) if len(parts) > 2 and parts[2].isdigit() else None
        return Overlay(
            suspect["image_id"],
            image["width"],
            image["height"],
            store.annotations_for_image(suspect["image_id"]),
            preds,
            self.session.category_names,
            suspect["annotation_id"],
            suspect["prediction_id"],
            other,
        )

    def _upcoming(self) -> list[tuple[int, object]]:
        session = self.session
        row = session.current_row()
        start = 0 if row is None else row + 1
        seen = {self.image_id}
        out = []
        sx = session.index
        for pos in session.positions[start : start + 50]:
            image_id = int(sx.image_id[pos])
            if image_id in seen:
                continue
            seen.add(image_id)
            image = session.store.image(image_id)
            out.append((image_id, session.store.image_path(image) if image else None))
            if len(out) >= PREFETCH:
                break
        return out

    def _on_labels_changed(self, image_ids: object) -> None:
        if image_ids is None or self.image_id in image_ids:
            self._refresh_timer.start()

    def _on_loaded(self, image_id: int, image: QImage) -> None:
        if image_id != self.image_id:
            return
        self.review_scene.set_image(image)
        self._shown(image_id)

    def _on_failed(self, image_id: int, message: str) -> None:
        if image_id != self.image_id:
            return
        self.review_scene.set_placeholder(*self._image_size, message)
        self._shown(image_id)

    def _shown(self, image_id: int) -> None:
        self.shown_image_id = image_id
        self.last_switch_ms = (time.perf_counter() - self.requested_at) * 1000
        self.imageShown.emit(image_id)

    # ------------------------------------------------------------------ zoom and pan
    def zoom(self, factor: float) -> None:
        """Scale the view by ``factor``, within sane limits."""
        current = self.transform().m11()
        factor = max(MIN_SCALE / current, min(MAX_SCALE / current, factor))
        self.scale(factor, factor)

    def zoom_in(self) -> None:
        """Zoom in one step."""
        self.zoom(1.25)

    def zoom_out(self) -> None:
        """Zoom out one step."""
        self.zoom(0.8)

    def fit(self) -> None:
        """Fit the whole image in the view."""
        rect = self.review_scene.sceneRect()
        if rect.width() > 1:
            self.fitInView(rect, Qt.AspectRatioMode.KeepAspectRatio)

    def frame_suspect(self) -> None:
        """Show the suspect with plenty of context: the whole image, unless the suspect is so small
        that it would be lost in it (then at most FRAME_ZOOM times closer than the fit)."""
        self.fit()
        rect = self.review_scene.focus_rect
        if rect.isEmpty():
            return
        margin = max(rect.width(), rect.height()) * 1.5
        context = rect.adjusted(-margin, -margin, margin, margin).intersected(
            self.review_scene.sceneRect()
        )
        view = self.viewport().rect()
        fit = self.transform().m11()
        scale = min(
            view.width() / max(context.width(), 1.0),
            view.height() / max(context.height(), 1.0),
            fit * FRAME_ZOOM,
        )
        if scale > fit * 1.2:
            self.resetTransform()
            self.scale(scale, scale)
            self.centerOn(rect.center())

    def zoom_to_suspect(self) -> None:
        """Fit the suspect's label and prediction (with a margin) in the view."""
        rect = self.review_scene.focus_rect
        if rect.isEmpty():
            self.fit()
            return
        margin = max(rect.width(), rect.height(), 40.0) * 0.6
        self.fitInView(
            rect.adjusted(-margin, -margin, margin, margin), Qt.AspectRatioMode.KeepAspectRatio
        )

    def toggle_labels(self) -> None:
        """Show or hide the labels."""
        self.labels_visible = not self.labels_visible
        self.review_scene.set_labels_visible(self.labels_visible)

    def toggle_predictions(self) -> None:
        """Show or hide the predictions."""
        self.predictions_visible = not self.predictions_visible
        self.review_scene.set_predictions_visible(self.predictions_visible)

    def wheelEvent(self, event: QWheelEvent) -> None:  # noqa: N802 - Qt API
        steps = event.angleDelta().y() / 120.0
        if steps:
            self.zoom(1.25**steps)
        event.accept()

    def resizeEvent(self, event: QEvent) -> None:  # noqa: N802 - Qt API
        super().resizeEvent(event)
        if self.suspect_key is not None:
            self.frame_suspect()

    def _fit_scale(self) -> float:
        rect = self.review_scene.sceneRect()
        if rect.width() <= 1 or rect.height() <= 1:
            return 1.0
        view = self.viewport().rect()
        return min(view.width() / rect.width(), view.height() / rect.height())

    def mousePressEvent(self, event: QMouseEvent) -> None:  # noqa: N802 - Qt API
        if event.button() == Qt.MouseButton.MiddleButton:  # middle-drag pans like left-drag
            self._panning = event.position()
            self.viewport().setCursor(Qt.CursorShape.ClosedHandCursor)
            event.accept()
            return
        super().mousePressEvent(event)

    def mouseMoveEvent(self, event: QMouseEvent) -> None:  # noqa: N802 - Qt API
        if self._panning is not None:
            delta = event.position() - self._panning
            self._panning = event.position()
            self.horizontalScrollBar().setValue(self.horizontalScrollBar().value() - int(delta.x()))
            self.verticalScrollBar().setValue(self.verticalScrollBar().value() - int(delta.y()))
            event.accept()
            return
        super().mouseMoveEvent(event)

    def mouseReleaseEvent(self, event: QMouseEvent) -> None:  # noqa: N802 - Qt API
        if self._panning is not None and event.button() == Qt.MouseButton.MiddleButton:
            self._panning = None
            self.viewport().unsetCursor()
            event.accept()
            return
        super().mouseReleaseEvent(event)

    def visible_scene_rect(self) -> QRectF:
        """The part of the scene the viewport shows."""
        return self.mapToScene(self.viewport().rect()).boundingRect()
