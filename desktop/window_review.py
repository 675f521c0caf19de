"""The window's Review handlers: decide the selected suspect(s) (one or in bulk), reopen, the
triage grid or the canvas, the label's class (mixed into :class:`.main_window.MainWindow`)."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication, QDialog, QProgressDialog

from .dialogs import ClassPicker, ShortcutSheet, ask_flag_note

GRID_HIDES = ("inspector", "summary")  # docks the triage grid takes the room of
BULK_PROGRESS = 300  # bulk decisions on more suspects than this show a progress dialog


class ReviewHandlers:
    """Accept, reject, flag, reopen; the grid; the label's class (a mixin of the main window)."""

    def accept(self) -> None:
        """Accept the selected suspect(s): apply the fix."""
        if self._suspect_in_view():
            self._decide("accepted")

    def accept_adjust(self) -> None:
        """Accept the current suspect and keep its resulting label selected on the canvas."""
        if not self._suspect_in_view():
            return
        if self.session.decide("accepted", adjust=True) and self.session.selected_label:
            self.canvas.setFocus(Qt.FocusReason.ShortcutFocusReason)  # arrows nudge it now

    def cycle_fix(self) -> None:
        """Choose the next form of the current suspect's fix (the ghost follows)."""
        if self.session.fix_choice.cycle() is None:
            self.canvas.say("This fix has only one form.")

    def reject(self) -> None:
        """Reject the selected suspect(s): not a label error."""
        if self._suspect_in_view():
            self._decide("rejected")

    def flag(self) -> None:
        """Flag the selected suspect(s) for later, with an optional note."""
        if not self._suspect_in_view():
            return
        rows = self.selected_rows()
        seen = self.session.statuses(rows if len(rows) > 1 else None)  # others may decide
        note, ok = ask_flag_note(self, self.canvas.suspect_on_screen())  # meanwhile
        if ok:
            self._decide("flagged", note.strip() or None, seen=seen)

    def _suspect_in_view(self) -> bool:
        """Whether a decision key may decide now. The canvas can show another image than the
        current suspect's (the label adjusted after Shift+A, an undone edit elsewhere): then
        the key first shows the suspect it would decide (as Space does), nothing is decided."""
        s = self.session
        if s is None or s.view_image_id is None or self.grid_shown():
            return True
        if len(self.selected_rows()) > 1 or not s.step(1):
            return True
        self.canvas.say(
            "Not decided yet: the canvas showed another image. This is the suspect the key "
            "decides; press it again."
        )
        return False

    def selected_rows(self) -> list[int]:
        """The rows selected in the view the reviewer works in: the grid when it is shown,
        else the table."""
        if self.grid_shown():
            return self.grid.selected_rows()
        return self.table.selected_rows() if self.table is not None else []

    def reopen(self) -> None:
        """Reopen the selected decided suspect(s): clear the decision, revert an accepted fix."""
        rows = self.selected_rows()
        self.session.reopen(rows if len(rows) > 1 else None)

    def grid_shown(self) -> bool:
        """Whether the triage grid is shown (else the canvas)."""
        return self.views.currentWidget() is self.grid

    def toggle_grid(self) -> None:
        """Show the triage grid instead of the canvas, or back."""
        self.show_grid(not self.grid_shown())

    def show_grid(self, on: bool) -> None:
        """Show the triage grid (True) or the canvas (False), with the keyboard focus; the
        grid takes the room of the inspector and summary (they come back with the canvas)."""
        if on == self.grid_shown():
            return
        view = self.grid if on else self.canvas
        self.views.setCurrentWidget(view)
        for name in GRID_HIDES:
            dock = self.docks[name]
            if on:
                self._hidden_by_grid[name] = dock.isVisible()
                dock.hide()
            elif self._hidden_by_grid.pop(name, False) and self.session is not None:
                dock.show()
        view.setFocus(Qt.FocusReason.ShortcutFocusReason)

    def open_from_grid(self) -> None:
        """Show the grid's current suspect in the canvas."""
        self.show_grid(False)

    def _decide(
        self, decision: str, note: str | None = None, seen: dict[str, str] | None = None
    ) -> None:
        rows = self.selected_rows()
        if len(rows) <= 1:
            self.session.decide(decision, note, seen=seen)
            return
        progress = None
        if len(rows) > BULK_PROGRESS:
            progress = QProgressDialog(
                f"Recording {decision} on {len(rows)} suspects…", "", 0, 0, self
            )
            progress.setCancelButton(None)
            progress.setWindowModality(Qt.WindowModality.WindowModal)
            progress.show()
            QApplication.processEvents()
        try:
            self.session.decide(decision, note, rows, seen=seen)
        finally:
            if progress is not None:
                progress.close()

    def select_all_listed(self) -> None:
        """Select every suspect the filter lists (for a bulk decision)."""
        if self.grid_shown():
            self.grid.select_all()
        elif self.table is not None:
            self.table.selectAll()

    def change_class(self) -> None:
        """Pick another class for the selected label, else the current suspect's label, else
        the class new labels take (type to search)."""
        s = self.session
        suspect = s.current()
        ann = s.selected_annotation()
        if ann is None and suspect and suspect["annotation_id"] and s.view_image_id is None:
            ann = s.store.annotation(suspect["annotation_id"])
        current = ann["category_id"] if ann is not None else s.labels.current_draw_category()
        picker = ClassPicker(s.category_names, current, self)
        if picker.exec() != QDialog.DialogCode.Accepted or picker.chosen() is None:
            return
        if ann is None:
            s.labels.draw_category = picker.chosen()
            name = s.category_names.get(picker.chosen(), "?")
            self.canvas.say(f"New labels will be {name}.")
            self.canvas.update_tool_hint()
        else:
            s.labels.set_category(picker.chosen())
            self.canvas.update_tool_hint()

    def quick_class(self, n: int) -> None:
        """Give the label the n-th most frequent class."""
        classes = self.session.labels.quick_classes()
        if 1 <= n <= len(classes):
            self.session.labels.set_category(classes[n - 1][0])
            self.canvas.update_tool_hint()

    def toggle_history(self) -> None:
        """Show or hide the History (the undo stack, one line per command)."""
        self.history_dock.setVisible(self.session is not None and not self.history_dock.isVisible())

    def show_shortcuts(self) -> None:
        """Show every key."""
        ShortcutSheet(self).exec()
