"""The shown image's note (e.g. damaged JPEG data), as a quiet line at the canvas's bottom
left while that image is shown: it belongs to the image, so it neither goes to the status bar
(where it hid the counts) nor pops up."""

from __future__ import annotations

import re

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QLabel, QWidget

MARGIN = 8  # from the canvas's edges (px)
MAX_WIDTH = 520  # a wide canvas keeps the note to a short line or two (px)
MAX_LINES = 2  # a note that needs more lines drops its details in brackets
DETAIL = re.compile(r" \([^()]*\)")  # "(Corrupt JPEG data: 25 extraneous bytes ...)"


class ImageNote(QLabel):
    """A small translucent badge over the canvas; mouse events pass through to the canvas."""

    def __init__(self, parent: QWidget) -> None:
        super().__init__(parent)
        self.setObjectName("imageNote")
        self.setStyleSheet(
            "QLabel#imageNote { background: rgba(20, 20, 20, 190); color: #f0d080;"
            " border-radius: 4px; padding: 2px 6px; font-size: 9pt; }"
        )
        self.setWordWrap(True)
        self.setTextFormat(Qt.TextFormat.PlainText)
        self.setAttribute(Qt.WidgetAttribute.WA_TransparentForMouseEvents)
        self.note = ""  # the whole note; the badge may show it without its details
        self.hide()

    def show_note(self, note: str) -> None:
        """Show an image's note (``desktop.images.NOTE_KEY``: what is wrong with it, without
        its file name); an empty note hides the badge."""
        if not note:
            self.clear_note()
            return
        self.note = f"Image: {note}"
        self.setText(self.note)
        self.show()
        self.place()
        self.raise_()

    def clear_note(self) -> None:
        """No note (another image, or none shown)."""
        self.note = ""
        self.setText("")
        self.hide()

    def place(self) -> None:
        """Keep the badge at the bottom left of the parent, within its width, text unclipped."""
        parent = self.parentWidget()
        if parent is None or not self.note:
            return
        self.ensurePolished()  # the style sheet's font and padding
        width = max(min(parent.width() - 2 * MARGIN, MAX_WIDTH), 40)
        self.setText(self.note)
        line = self.fontMetrics().lineSpacing()
        if self.heightForWidth(width) > (MAX_LINES + 1) * line:  # a narrow canvas
            self.setText(DETAIL.sub("", self.note))
        sides = self.width() - self.contentsRect().width()  # padding and border, left and right
        one_line = self.fontMetrics().horizontalAdvance(self.text()) + sides + 2
        width = min(width, one_line)  # a short note: a short badge
        self.resize(width, self.heightForWidth(width))
        self.move(MARGIN, max(parent.height() - self.height() - MARGIN, 0))
