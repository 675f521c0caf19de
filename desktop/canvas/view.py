"""The canvas view: zoom (wheel, keys), pan (drag), fit, frame the suspect and zoom to it;
follows the session's selection and label changes and shows images as the loader delivers them.
Whenever what it shows changes (zoom, pan, size, overlay), it lays the tags out again and keeps
a missing image's message in view. The current suspect's fix is previewed as a ghost outline.

Editing: a click selects a label (the session remembers it); the selected label's editor turns
each drag, vertex click or nudge into one edit for the session; W / P draw new labels."""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager

from PySide6.QtCore import QEvent, QPointF, QRect, QRectF, Qt, QTimer, Signal
from PySide6.QtGui import (
    QFocusEvent,
    QImage,
    QKeyEvent,
    QMouseEvent,
    QPainter,
    QPaintEvent,
    QWheelEvent,
)
from PySide6.QtWidgets import QGraphicsView, QLabel, QWidget

from labelfix.core.editing import nearest_edge

from ..fix_choice import ghost_text
from ..images import NOTE_KEY, ImageLoader
from ..session import Session
from .editing import Hit, LabelEditor
from .framing import CONTEXT_FILL, OBJECT_FILL, OBJECT_MAX_SCALE, Frame, frame_box
from .handles import HANDLE_SIZE
from .image_note import ARROWS, NO_LABEL, CanvasHint, ImageNote
from .items import category_colour
from .scene import GHOST_DELETE, Ghost, Overlay, ReviewScene
from .tools import BoxTool, DrawTool, PolygonTool

CLICK_SLOP = 4.0  # a press and release closer than this (screen pixels) is a click
TOOLS: dict[str, type[DrawTool]] = {"box": BoxTool, "polygon": PolygonTool}
TOOL_TIPS = {
    "box": "Box tool: drag a rectangle; it becomes a {name} label (E changes the class, Esc stops)",
    "polygon": "Polygon tool: click points; Enter or the first point closes; it becomes a {name} "
    "label (E changes the class, Esc cancels)",
}
TOOL_BADGES = {"box": "New box: {name}  (E: class)", "polygon": "New polygon: {name}  (E: class)"}
CURSORS = {
    "fdiag": Qt.CursorShape.SizeFDiagCursor,
    "bdiag": Qt.CursorShape.SizeBDiagCursor,
    "hor": Qt.CursorShape.SizeHorCursor,
    "ver": Qt.CursorShape.SizeVerCursor,
    "move": Qt.CursorShape.SizeAllCursor,
    "cross": Qt.CursorShape.CrossCursor,
}

MIN_SCALE, MAX_SCALE = 0.02, 64.0
PREFETCH = 4  # images ahead of the selection decoded in the background
MIN_PREDICTION_SCORE = 0.25  # weaker predictions are not drawn (the suspect's own always is)


class CanvasView(QGraphicsView):
    """Shows the selected suspect's image with labels and predictions."""

    imageShown = Signal(int)  # image id, once its pixels (or its placeholder) are on screen
    message = Signal(str)  # a sentence the canvas says in its hint (why an edit was not made)
    toolChanged = Signal(str)  # "box", "polygon", or "" (select and edit)

    def __init__(self, parent: QWidget | None = None, loader: ImageLoader | None = None) -> None:
        self.review_scene = ReviewScene()
        super().__init__(self.review_scene, parent)
        self.loader = loader or ImageLoader(parent=self)
        self.session: Session | None = None
        self.image_id: int | None = None
        self.suspect_key: str | None = None
        self.shown_image_id: int | None = None
        self.labels_visible = True
        self.predictions_visible = True  # H: every prediction but the suspect's own
        self.zoomed_to_object = False  # Z was pressed: Z again goes back to the framing
        self._laid_out: tuple | None = None  # the view the tags were last laid out for
        self._batch = 0  # inside one_layout(): the tags are laid out once, at its end
        self.requested_at = 0.0
        self.last_switch_ms = 0.0
        self.prefetch_enabled = True
        self._image_size = (1, 1)
        self._panning: QPointF | None = None
        self.editor: LabelEditor | None = None
        self.tool: DrawTool | None = None
        self.tool_name = ""
        self._click: QPointF | None = None  # left press that may turn out to be a click
        self._tool_press = False
        self._readonly_press = False  # a press on a read-only mask's body (a drag pans)
        self._retired: list[object] = []  # editors/tools dropped while they may be emitting
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
        # one refresh for a burst of session signals (selection, label selection, labels)
        self._refresh_timer = QTimer(self, singleShot=True, interval=0)
        self._refresh_timer.timeout.connect(self.refresh)
        self.loader.loaded.connect(self._on_loaded)
        self.loader.failed.connect(self._on_failed)
        # the class a drawn label takes, while drawing (a child of the view, not of the
        # viewport: scrolling moves the viewport's children)
        self.tool_badge = QLabel(self)
        self.tool_badge.setObjectName("toolBadge")
        self.tool_badge.setStyleSheet(
            "QLabel#toolBadge { background: rgba(20, 20, 20, 200); color: #f0f0f0;"
            " border-radius: 4px; padding: 3px 8px; }"
        )
        self.tool_badge.move(8, 8)
        self.tool_badge.hide()
        self.image_note = ImageNote(self)  # the shown image's note (damaged data), bottom left
        self.hint = CanvasHint(self)  # the canvas's sentences, above the note

    def say(self, text: str) -> None:
        """Say a passing sentence on the canvas (never the status bar: it hid the counts)."""
        self.hint.say(text)
        self.message.emit(text)

    def place_badges(self) -> None:
        """The image's note at the bottom left, the hint above it (tags move off them)."""
        self.hint.place(self.image_note.place())
        self._badges_changed()

    def _badges_changed(self) -> None:
        if self._laid_out is not None and self._laid_out != self._view_key():
            self._view_changed()

    # ------------------------------------------------------------------ session
    def attach(self, session: Session | None) -> None:
        """Follow a session (None: show nothing)."""
        if self.session is not None:
            self.session.selectionChanged.disconnect(self._refresh_timer.start)
            self.session.labelSelectionChanged.disconnect(self._refresh_timer.start)
            self.session.labelsChanged.disconnect(self._on_labels_changed)
            self.session.fix_choice.changed.disconnect(self.update_ghost)
        self.session = session
        self.loader.clear()
        self.image_id = self.shown_image_id = self.suspect_key = None
        self._drop_editing()
        if session is not None:
            session.selectionChanged.connect(self._refresh_timer.start)
            session.labelSelectionChanged.connect(self._refresh_timer.start)
            session.labelsChanged.connect(self._on_labels_changed)
            session.fix_choice.changed.connect(self.update_ghost)
        self.refresh()

    def refresh(self) -> None:
        """Draw the shown image (the current suspect's, or an adjusted label's): its overlay at
        once, its pixels when decoded, and the selected label's handles."""
        if self.editor is not None and self.editor.dragging():
            self._refresh_timer.start(50)  # never rebuild under a drag; after it
            return
        with self.one_layout():
            self._refresh()

    def _refresh(self) -> None:
        session = self.session
        suspect = session.current() if session is not None else None
        image_id = session.shown_image_id() if session is not None else None
        if image_id is None:
            self._drop_editing()
            self.review_scene.clear_image()
            self.review_scene.set_overlay(None)
            self.image_note.clear_note()
            self.hint.set_standing("")
            self.image_id = self.suspect_key = None
            self.update_tool_hint()
            return
        key = suspect["key"] if suspect is not None else None
        new_image = image_id != self.image_id
        new_suspect = key != self.suspect_key
        self.image_id, self.suspect_key = image_id, key
        if new_image:
            self._drop_editing(keep_tool=True)
        self.review_scene.set_overlay(self._overlay(image_id, suspect))
        self.update_ghost()
        self._rebuild_editing()
        self.update_tool_hint()
        if new_image or (new_suspect and session.view_image_id is None):
            self.frame_suspect()
        if new_image:
            self.hint.set_standing(self._other_image_sentence())
            self.shown_image_id = None
            self.review_scene.clear_image()
            self.image_note.clear_note()
            self.requested_at = time.perf_counter()
            image = self.session.store.image(self.image_id)
            self.loader.request(
                self.image_id, self.session.store.image_path(image) if image else None
            )
            if self.prefetch_enabled:
                self.loader.prefetch(self._upcoming())

    def _other_image_sentence(self) -> str:
        """Which image the canvas shows when it is not the selected suspect's (said while it
        lasts: the status bar said it for 6 s), else ""."""
        session = self.session
        if session is None or session.view_image_id is None:
            return ""
        image = session.store.image(session.view_image_id) or {}
        name = image.get("file_name", session.view_image_id)
        return f"Showing {name} for the edited label; Space returns to the selected suspect"

    def update_ghost(self) -> None:
        """Show the outline accepting the current suspect would leave (none for another image,
        or when there is nothing to accept)."""
        scene = self.review_scene
        preview = None
        overlay = scene.overlay
        if self.session is not None and overlay is not None and self.session.view_image_id is None:
            preview = self.session.fix_choice.preview()
        label = None if preview is None else (preview.after or preview.before)
        if label is None or overlay is None or label["image_id"] != overlay.image_id:
            scene.set_ghost(None)
        else:
            names = self.session.category_names
            deletes = preview.after is None
            colour = GHOST_DELETE if deletes else category_colour(label["category_id"])
            text = ghost_text(preview, names)
            scene.set_ghost(Ghost(label["bbox"], label.get("segmentation"), colour, text, deletes))
        self._view_changed()

    def _overlay(self, image_id: int, suspect: dict | None) -> Overlay:
        store = self.session.store
        image = store.image(image_id) or {"width": 1, "height": 1}
        self._image_size = (image["width"], image["height"])
        if suspect is not None and suspect["image_id"] != image_id:
            suspect = None  # the suspect is on another image: nothing to highlight here
        threshold = max(self.session.filter.min_confidence, MIN_PREDICTION_SCORE)
        own = suspect["prediction_id"] if suspect is not None else None
        preds = []
        if self.session.set_id is not None:
            preds = [
                p
                for p in store.predictions_for_image(self.session.set_id, image_id)
                if p["score"] >= threshold or p["id"] == own
            ]
        other = None if suspect is None else suspect.get("other_annotation_id")  # duplicates
        return Overlay(
            image_id,
            image["width"],
            image["height"],
            self.session.image_labels(image_id),
            preds,
            self.session.category_names,
            suspect["annotation_id"] if suspect is not None else None,
            own,
            other,
        )

    # ------------------------------------------------------------------ editing
    def _rebuild_editing(self) -> None:
        """Put the selected label's editor (and the drawing tool) on the fresh overlay."""
        self._retired = []  # a refresh runs from the event loop: nothing is emitting now
        previous = self.editor
        kept = (previous.annotation_id, previous.selected_vertex) if previous else (None, None)
        self._retire_editor()
        overlay = self.review_scene.overlay
        label = self.session.selected_label if self.session is not None else None
        ann = None
        if overlay is not None and label is not None:
            ann = next((a for a in overlay.labels if a["id"] == label), None)
        if ann is not None:
            self.editor = LabelEditor(
                ann, overlay.height, overlay.width, self.review_scene.edit_layer
            )
            self.editor.editFinished.connect(self._on_edit_finished)
            self.review_scene.set_label_drawn(label, False)
            if kept[0] == label and kept[1] is not None:
                self.editor.select_vertex(*kept[1])  # the vertex just dragged stays selected
        if self.tool_name and self.tool is None and overlay is not None:
            self._make_tool(overlay)

    def _make_tool(self, overlay: Overlay) -> None:
        self.tool = TOOLS[self.tool_name](
            overlay.height, overlay.width, self.review_scene.edit_layer
        )
        self.tool.drawn.connect(self._on_drawn)

    def _retire_editor(self) -> None:
        if self.editor is not None:
            self.editor.remove()
            self._retired.append(self.editor)  # a QObject must not die inside its own emit
            self.editor = None

    def _retire_tool(self) -> None:
        if self.tool is not None:
            self.tool.remove()
            self._retired.append(self.tool)
            self.tool = None

    def _drop_editing(self, *, keep_tool: bool = False) -> None:
        self._retire_editor()
        self._retire_tool()
        if not keep_tool and self.tool_name:
            self.tool_name = ""
            self.viewport().unsetCursor()
            self.toolChanged.emit("")

    def _on_edit_finished(self, annotation_id: int, _old: dict, new: dict, what: str) -> None:
        if self.session is None:
            return
        if what == "nudge":  # drawn already; the burst is written as one edit when it ends
            self.session.labels.nudge(annotation_id, new)
        else:
            self.session.labels.set_geometry(annotation_id, what=what, **new)

    def _on_drawn(self, geometry: dict) -> None:
        image_id = self.image_id
        self.set_tool("")  # back to select and edit: the new label shows its handles
        if self.session is not None and image_id is not None:
            self.session.labels.add(image_id, what=f"draw {self._shape_word(geometry)}", **geometry)

    @staticmethod
    def _shape_word(geometry: dict) -> str:
        return "polygon" if "segmentation" in geometry else "box"

    def set_tool(self, name: str) -> None:
        """Draw new labels with the "box" or "polygon" tool, or go back to editing ("")."""
        if name == self.tool_name and (self.tool is not None or not name):
            return
        self._retire_tool()
        self.tool_name = name
        overlay = self.review_scene.overlay
        if name and overlay is not None:
            self._make_tool(overlay)
            self.viewport().setCursor(Qt.CursorShape.CrossCursor)
            self.say(TOOL_TIPS[name].format(name=self.draw_class_name()))
        else:
            self.viewport().unsetCursor()
        self.update_tool_hint()
        self.toolChanged.emit(name)

    def draw_class_name(self) -> str:
        """The class a label drawn now takes."""
        if self.session is None:
            return "?"
        category = self.session.labels.current_draw_category()
        return self.session.category_names.get(category, "?") if category is not None else "?"

    def update_tool_hint(self) -> None:
        """Show, while a drawing tool is on, which class the new label will get."""
        if not self.tool_name or self.tool is None:
            self.tool_badge.hide()
        else:
            text = TOOL_BADGES[self.tool_name].format(name=self.draw_class_name())
            self.tool_badge.setText(text)
            self.tool_badge.adjustSize()
            self.tool_badge.show()
            self.tool_badge.raise_()
        self._badges_changed()

    def nudge(self, dx: float, dy: float) -> bool:
        """Move the selected label by (dx, dy) image pixels (a burst is one undo step)."""
        if self.editor is None:
            self.say(NO_LABEL)
            return False
        if self.editor.readonly:
            self.say("Crowd masks are read-only; convert the mask to a polygon first.")
            return False
        return self.editor.nudge(dx, dy)

    def remove_vertex(self) -> bool:
        """Remove the selected vertex of the selected polygon (never below 3 points)."""
        if self.editor is None:
            self.say("Select a polygon and one of its vertices first.")
            return False
        why = self.editor.remove_vertex()
        if why:
            self.say(why)
        return why is None

    def close_shape(self) -> bool:
        """Close the polygon being drawn (Enter)."""
        return self.tool is not None and self.tool.close()

    def escape(self) -> None:
        """Esc: cancel the shape being drawn, else leave the tool, else deselect the label."""
        if self.tool is not None and self.tool.cancel():
            return
        if self.tool_name:
            self.set_tool("")
        elif self.editor is not None and self.editor.dragging():
            self.editor.cancel()
        elif self.session is not None:
            self.session.select_label(None)

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
        # a quiet note on the image while it is shown (not libjpeg's stderr, not the status bar)
        self.image_note.show_note(image.text(NOTE_KEY))
        self._shown(image_id)

    def _on_failed(self, image_id: int, message: str) -> None:
        if image_id != self.image_id:
            return
        self.review_scene.set_placeholder(*self._image_size, message)
        self.image_note.clear_note()  # the placeholder says what is wrong
        self._view_changed()
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

    @contextmanager
    def one_layout(self) -> Iterator[None]:
        """Lay the tags out once, when the outermost of these blocks ends, however often the
        view, overlay or badges change inside it (a suspect shown: ~14 ms a layout)."""
        self._batch += 1
        try:
            yield
        finally:
            self._batch -= 1
            if not self._batch:
                self._view_changed()

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

    def toggle_labels(self) -> None:
        """Show or hide the labels."""
        self.labels_visible = not self.labels_visible
        self.review_scene.set_labels_visible(self.labels_visible)
        self._view_changed()

    def toggle_predictions(self) -> None:
        """Show or hide the predictions (the suspect's own always stays)."""
        self.predictions_visible = not self.predictions_visible
        self.review_scene.set_predictions_visible(self.predictions_visible)
        self._view_changed()

    def toggle_other_predictions(self) -> None:
        """Draw the other predictions normally, with tags, or faint (the default)."""
        scene = self.review_scene
        scene.predictions_full = not scene.predictions_full
        if scene.overlay is not None:
            self.refresh_overlay()
        self.say(
            "Other predictions: shown with their tags"
            if scene.predictions_full
            else "Other predictions: faint, without tags"
        )

    def refresh_overlay(self) -> None:
        """Redraw the overlay of the shown image (same view)."""
        if self.session is None or self.image_id is None:
            return
        suspect = self.session.current()
        self.review_scene.set_overlay(self._overlay(self.image_id, suspect))
        self.review_scene.set_labels_visible(self.labels_visible)
        self.review_scene.set_predictions_visible(self.predictions_visible)
        self.update_ghost()
        self._rebuild_editing()

    def _view_changed(self) -> None:
        """Lay the tags out for what the view shows now; keep a message in view."""
        if self._batch:
            return  # one_layout() lays them out at its end
        self._laid_out = self._view_key()
        rect = QRectF(self.viewport().rect())
        self.review_scene.layout_tags(
            self.viewportTransform(), rect, self._handle_rects(), self._badge_rects()
        )
        self.review_scene.place_message(self.visible_scene_rect())

    def _handle_rects(self) -> list[QRectF]:
        """The edited label's handles in view pixels (tags keep off them)."""
        if self.editor is None:
            return []
        t = self.viewportTransform()
        half = HANDLE_SIZE / 2 + 1
        points = [t.map(h.scenePos()) for h in self.editor.handles]
        return [QRectF(p.x() - half, p.y() - half, 2 * half, 2 * half) for p in points]

    def _badge_rects(self) -> list[QRectF]:
        """The lasting badges (the image's note, the standing hint, the tool's) in viewport
        pixels: tags keep off them. A passing hint (4 s) moves no tag: they would jump away
        and back."""
        offset = self.viewport().pos()
        badges = [self.image_note, self.tool_badge]
        if not self.hint.timer.isActive():
            badges.append(self.hint)
        return [QRectF(b.geometry().translated(-offset)) for b in badges if b.isVisible()]

    def _view_key(self) -> tuple:
        t = self.viewportTransform()
        size = self.viewport().size()
        editing = id(self.editor) if self.editor is not None else 0  # its handles: tags move
        badges = tuple(r.getRect() for r in self._badge_rects())  # a badge shown, moved
        return (t.m11(), t.m22(), t.dx(), t.dy(), size.width(), size.height(),
                self.review_scene.generation, editing, badges)  # fmt: skip

    def scrollContentsBy(self, dx: int, dy: int) -> None:  # noqa: N802 - Qt API
        super().scrollContentsBy(dx, dy)
        self._view_changed()

    def focusOutEvent(self, event: QFocusEvent) -> None:  # noqa: N802 - Qt API
        """Arrow keys nudge only here: leaving ends a nudge burst (it is written now)."""
        if self.session is not None:
            self.session.labels.end_burst()
        super().focusOutEvent(event)

    def paintEvent(self, event: QPaintEvent) -> None:  # noqa: N802 - Qt API
        if self._laid_out != self._view_key():  # moved by a path that did not say so
            self._view_changed()
        super().paintEvent(event)
        message = self.empty_message()
        if message:  # say why the canvas is empty, never only a dark area
            painter = QPainter(self.viewport())
            painter.setPen(Qt.GlobalColor.lightGray)
            area = self.viewport().rect().adjusted(24, 24, -24, -24)
            painter.drawText(area, Qt.AlignmentFlag.AlignCenter | Qt.TextFlag.TextWordWrap, message)
            painter.end()

    def empty_message(self) -> str | None:
        """Why nothing is shown (no image): no analysis yet, the filter lists nothing, or
        nothing is selected."""
        session = self.session
        if session is None or self.image_id is not None:
            return None
        if not session.analysed():
            return (
                "This project has no analysis yet: Analyse ▸ Analyse with thresholds… matches "
                "the predictions to the labels and lists the suspects."
            )
        if session.row_count() == 0:
            total = len(session.index)
            return (
                f"The filter lists none of this analysis's {total} suspects: widen it (status, "
                "kinds, classes, score or confidence cut, file name) to review them."
                if total
                else "This analysis found no suspects."
            )
        return "No suspect selected: click one in the table, or press Space for the next."

    def wheelEvent(self, event: QWheelEvent) -> None:  # noqa: N802 - Qt API
        steps = event.angleDelta().y() / 120.0
        if steps:
            self.zoom(1.25**steps)
        event.accept()

    def resizeEvent(self, event: QEvent) -> None:  # noqa: N802 - Qt API
        super().resizeEvent(event)
        self.place_badges()
        if self.suspect_key is not None:
            self.frame_suspect()
        else:
            self._view_changed()

    def keyPressEvent(self, event: QKeyEvent) -> None:  # noqa: N802 - Qt API
        """Arrows with no label selected scroll as ever and say how to select one."""
        if event.key() in ARROWS and self.editor is None:
            self.say(NO_LABEL)
        super().keyPressEvent(event)

    def suspect_on_screen(self) -> QRect | None:
        """The suspect's boxes in global screen pixels (None: none shown)."""
        rect = self.review_scene.focus_rect
        if rect.isEmpty() or not self.isVisible():
            return None
        box = self.mapFromScene(rect).boundingRect()
        return QRect(self.viewport().mapToGlobal(box.topLeft()), box.size())

    def mousePressEvent(self, event: QMouseEvent) -> None:  # noqa: N802 - Qt API
        if event.button() == Qt.MouseButton.MiddleButton:  # middle-drag pans like left-drag
            self._panning = event.position()
            self.viewport().setCursor(Qt.CursorShape.ClosedHandCursor)
            event.accept()
            return
        if event.button() == Qt.MouseButton.LeftButton and self._edit_press(event):
            event.accept()
            return
        super().mousePressEvent(event)

    def _edit_press(self, event: QMouseEvent) -> bool:
        """A left press: draw, grab a handle / vertex / body, or add / remove a vertex."""
        pos = event.position()
        self._click = QPointF(pos)
        if self.tool is not None:
            self._tool_press = True  # its release belongs to the tool, even if it closes
            self.tool.press(self, pos)
            return True
        if self.editor is None:
            return False
        hit = self.editor.hit(self, pos)
        mods = event.modifiers()
        alt = bool(mods & Qt.KeyboardModifier.AltModifier)
        if alt and mods & Qt.KeyboardModifier.ShiftModifier:
            if hit is not None and hit.kind == "vertex":
                why = self.editor.remove_vertex(hit.part, hit.index)
                if why:
                    self.say(why)
                self._click = None  # an edit, not a click: its release selects nothing
                return True
            return False
        if alt and hit is not None and hit.kind in ("edge", "body"):
            edge = hit if hit.kind == "edge" else self._edge_hit(pos)
            added = edge is not None and self.editor.add_vertex(edge)
            if added:
                self._click = None  # an edit, not a click: its release selects nothing
            return added
        if hit is None:
            return False
        if self.editor.readonly:  # said if it turns out a drag (a click may select a label)
            self._readonly_press = True
            return False
        return self.editor.begin(hit, self.mapToScene(pos.toPoint()))

    def _edge_hit(self, pos: QPointF) -> Hit | None:
        """The nearest edge of the selected polygon, however far (Alt+click adds a vertex)."""
        if self.editor is None or self.editor.polygon is None:
            return None
        p = self.mapToScene(pos.toPoint())
        edge = nearest_edge(self.editor.polygon, p.x(), p.y())
        return None if edge is None else Hit("edge", part=edge[0], index=edge[1], point=edge[3])

    def mouseMoveEvent(self, event: QMouseEvent) -> None:  # noqa: N802 - Qt API
        if self._panning is not None:
            delta = event.position() - self._panning
            self._panning = event.position()
            self.horizontalScrollBar().setValue(self.horizontalScrollBar().value() - int(delta.x()))
            self.verticalScrollBar().setValue(self.verticalScrollBar().value() - int(delta.y()))
            event.accept()
            return
        if self.tool is not None:
            self.tool.move(self, event.position())
            event.accept()
            return
        if self.editor is not None and self.editor.dragging():
            self.editor.drag_to(self.mapToScene(event.position().toPoint()))
            event.accept()
            return
        super().mouseMoveEvent(event)
        if event.buttons() == Qt.MouseButton.NoButton and self.editor is not None:
            shape = CURSORS.get(self.editor.cursor_for(self.editor.hit(self, event.position())))
            if shape is None:
                self.viewport().unsetCursor()
            else:
                self.viewport().setCursor(shape)

    def mouseReleaseEvent(self, event: QMouseEvent) -> None:  # noqa: N802 - Qt API
        if self._panning is not None and event.button() == Qt.MouseButton.MiddleButton:
            self._panning = None
            self.viewport().unsetCursor()
            event.accept()
            return
        if event.button() != Qt.MouseButton.LeftButton:
            super().mouseReleaseEvent(event)
            return
        pos, click = event.position(), self._click
        self._click = None
        is_click = click is not None and (pos - click).manhattanLength() < CLICK_SLOP
        if self._readonly_press and not is_click:  # the mask was dragged: it cannot move
            self.say("Crowd masks are read-only; convert the mask to a polygon first.")
        self._readonly_press = False
        tool_press, self._tool_press = self._tool_press, False
        if self.tool is not None or tool_press:
            if self.tool is not None:
                self.tool.release(self, pos)
            event.accept()
            return
        if self.editor is not None and self.editor.dragging():
            changed = self.editor.finish()
            if not changed and is_click:
                self._click_select(pos, keep_if_none=True)
            event.accept()
            return
        super().mouseReleaseEvent(event)
        if is_click:
            self._click_select(pos, keep_if_none=False)

    def _click_select(self, pos: QPointF, *, keep_if_none: bool) -> None:
        """Select the (smallest) label under a click; nothing there deselects."""
        if self.session is None or self.image_id is None:
            return
        label = None
        if self.labels_visible:
            label = self.review_scene.label_at(self.mapToScene(pos.toPoint()))
        if label is None and keep_if_none:
            return
        self.session.select_label(label)
        if label is not None:
            self.setFocus(Qt.FocusReason.MouseFocusReason)

    def mouseDoubleClickEvent(self, event: QMouseEvent) -> None:  # noqa: N802 - Qt API
        if event.button() == Qt.MouseButton.LeftButton:
            if self.tool is not None:
                self.tool.double_click(self, event.position())
                event.accept()
                return
            if self.editor is not None:
                hit = self.editor.hit(self, event.position())
                if hit is not None and hit.kind == "edge":
                    self.editor.add_vertex(hit)
                    event.accept()
                    return
        super().mouseDoubleClickEvent(event)

    def visible_scene_rect(self) -> QRectF:
        """The part of the scene the viewport shows."""
        return self.mapToScene(self.viewport().rect()).boundingRect()
