"""The status bar's "N warnings" badge: what the import (and the last analysis) warned about
stays one click away, beside the counts instead of over them (a status bar message hides the
counts while it shows, and is gone after it)."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QLabel,
    QPlainTextEdit,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

TOOLTIP_LINES = 5  # warnings the tooltip lists; the list shows every one


def import_summary(warnings: list[str]) -> str:
    """One sentence for an import's warnings: the image folder one first (it makes every image
    missing), else the first; the rest counted."""
    folder = next((w for w in warnings if ": (images folder): " in w), None)
    if folder is not None:
        first = folder.split(": (images folder): ", 1)[1]
    else:
        first = warnings[0].split(": ", 1)[-1]  # the record and the reason
    more = f" (and {len(warnings) - 1} more; click the warnings badge)" if len(warnings) > 1 else ""
    return f"Imported with {len(warnings)} warning(s): {first}{more}"


class WarningsBadge(QToolButton):
    """A flat "⚠ N warnings" button in the status bar; a click lists them all in a dialog.
    Hidden while there is nothing to say."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setAutoRaise(True)
        self.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextOnly)
        self.sections: dict[str, list[str]] = {}
        self.dialog: QDialog | None = None
        self.clicked.connect(self.show_list)
        self.hide()

    def set_warnings(self, source: str, warnings: list[str]) -> None:
        """Say ``warnings`` under ``source`` ("Import", "Analysis"), replacing that source's."""
        if warnings:
            self.sections[source] = [str(w) for w in warnings]
        else:
            self.sections.pop(source, None)
        self._refresh()

    def clear(self) -> None:
        """Forget every warning (the project closed)."""
        self.sections.clear()
        if self.dialog is not None:
            self.dialog.close()
        self._refresh()

    def count(self) -> int:
        """How many warnings the badge holds."""
        return sum(len(w) for w in self.sections.values())

    def text_of_all(self) -> str:
        """Every warning, under its source's heading."""
        return "\n\n".join(
            f"{source} ({len(ws)}):\n" + "\n".join(f"  {w}" for w in ws)
            for source, ws in self.sections.items()
        )

    def _refresh(self) -> None:
        n = self.count()
        self.setVisible(n > 0)
        if not n:
            return
        self.setText(f"⚠ {n} warning{'s' if n != 1 else ''}")
        lines = [w for ws in self.sections.values() for w in ws]
        tip = "\n".join(lines[:TOOLTIP_LINES])
        if n > TOOLTIP_LINES:
            tip += f"\n… and {n - TOOLTIP_LINES} more"
        self.setToolTip(f"{tip}\n\nClick to list them all")

    def show_list(self) -> QDialog:
        """Show every warning in a window of its own (selectable, to copy)."""
        if self.dialog is None:
            self.dialog = QDialog(self.window())
            self.dialog.setWindowTitle("Warnings — LabelFix")
            self.dialog.resize(760, 420)
            column = QVBoxLayout(self.dialog)
            self.dialog_heading = QLabel()
            self.dialog_text = QPlainTextEdit(readOnly=True)
            self.dialog_text.setLineWrapMode(QPlainTextEdit.LineWrapMode.WidgetWidth)
            buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
            buttons.rejected.connect(self.dialog.close)
            column.addWidget(self.dialog_heading)
            column.addWidget(self.dialog_text, 1)
            column.addWidget(buttons)
        self.dialog_heading.setText(
            f"{self.count()} warning(s). `labelfix info PROJECT` lists the import's too."
        )
        self.dialog_text.setPlainText(self.text_of_all())
        self.dialog.show()
        self.dialog.raise_()
        return self.dialog
