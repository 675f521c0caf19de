"""The canvas's editing: the selected label's editor (drag a handle, vertex or body; nudge; add
or remove a vertex), the drawing tools (W / P), and the mouse that drives them. A click selects
the smallest label under it; a press and release closer than ``CLICK_SLOP`` is a click.

:class:`CanvasEditing` is a mixin of :class:`~.view.CanvasView` (it uses the view's session,
scene and hint); the editor and tools never write to the store: each drag, vertex click or
nudge becomes one edit for the session."""

from __future__ import annotations

from PySide6.QtCore import QPointF, Qt
from PySide6.QtGui import QMouseEvent

from labelfix.core.editing import nearest_edge

from .editing import Hit, LabelEditor
from .image_note import NO_LABEL
from .scene import Overlay
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


class CanvasEditing:
    """The canvas view's editing and drawing (a mixin of CanvasView)."""

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
