"""The canvas view: follows the session's selection and label changes and shows images as the
loader delivers them. Whenever what it shows changes (zoom, pan, size, overlay), it lays the tags
out again and keeps a missing image's message in view. The current suspect's fix is previewed
as a ghost outline.

Zoom (wheel, keys), pan (drag), fit, framing the suspect and Z: view_zoom.py. Editing: a click
selects a label (the session remembers it); the selected label's editor turns each drag, vertex
click or nudge into one edit for the session; W / P draw new labels (view_editing.py)."""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager

from PySide6.QtCore import QEvent, QPointF, QRectF, Qt, QTimer, Signal
from PySide6.QtGui import QFocusEvent, QImage, QKeyEvent, QPainter, QPaintEvent
from PySide6.QtWidgets import QGraphicsView, QLabel, QWidget

from ..fix_choice import ghost_text
from ..images import NOTE_KEY, ImageLoader
from ..session import Session
from .editing import LabelEditor
from .handles import HANDLE_SIZE
from .image_note import ARROWS, NO_LABEL, CanvasHint, ImageNote
from .items import category_colour
from .scene import GHOST_DELETE, Ghost, Overlay, ReviewScene
from .tools import DrawTool
from .view_editing import CanvasEditing
from .view_zoom import CanvasZoom

PREFETCH = 4  # images ahead of the selection decoded in the background
MIN_PREDICTION_SCORE = 0.25  # weaker predictions are not drawn (the suspect's own always is)


class CanvasView(CanvasEditing, CanvasZoom, QGraphicsView):
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
        self.update_pixelated()
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
