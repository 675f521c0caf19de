"""Quiet badges at the canvas's bottom left: the shown image's note (e.g. damaged JPEG data)
while that image is shown, and above it the canvas's hint (why an edit was not made, how a
tool works, which image is shown). Both belong to the canvas, so neither goes to the status
bar (where they hid the counts) nor pops up."""

from __future__ import annotations

import re

from PySide6.QtCore import Qt, QTimer
from PySide6.QtWidgets import QLabel, QWidget

MARGIN = 8  # from the canvas's edges (px)
MAX_WIDTH = 520  # a wide canvas keeps a badge to a short line or two (px)
MAX_LINES = 2  # a note that needs more lines drops its details in brackets
DETAIL = re.compile(r" \([^()]*\)")  # "(Corrupt JPEG data: 25 extraneous bytes ...)"
HINT_MS = 4000  # how long a passing hint stays
# the arrow keys on the canvas with no label selected (they said nothing) say this
ARROWS = (Qt.Key.Key_Left, Qt.Key.Key_Right, Qt.Key.Key_Up, Qt.Key.Key_Down)
NO_LABEL = "S selects the suspect's label to move it"


class CanvasBadge(QLabel):
    """A small translucent badge over the canvas; mouse events pass through to the canvas."""

    def __init__(self, parent: QWidget, name: str, colour: str) -> None:
        super().__init__(parent)
        self.setObjectName(name)
        self.setStyleSheet(
            f"QLabel#{name} {{ background: rgba(20, 20, 20, 190); color: {colour};"
            " border-radius: 4px; padding: 2px 6px; font-size: 9pt; }"
        )
        self.setWordWrap(True)
        self.setTextFormat(Qt.TextFormat.PlainText)
        self.setAttribute(Qt.WidgetAttribute.WA_TransparentForMouseEvents)
        self.note = ""  # the whole text; the badge may show it without its details
        self.hide()

    def show_text(self, text: str) -> None:
        """Show ``text`` ("" hides the badge)."""
        self.note = text
        self.setText(text)
        self.setVisible(bool(text))
        if text:
            self.raise_()
        self._placed()

    def _placed(self) -> None:
        parent = self.parentWidget()
        place = getattr(parent, "place_badges", None)  # the canvas stacks its badges
        if callable(place):
            place()
        else:
            self.place()

    def place(self, bottom: int | None = None) -> int:
        """Keep the badge at the parent's left, its bottom at ``bottom`` (default: the
        parent's bottom less the margin), within the parent's width, text unclipped; returns
        the y just above it (where a badge above it ends)."""
        parent = self.parentWidget()
        if bottom is None:
            bottom = (parent.height() if parent is not None else 0) - MARGIN
        if parent is None or not self.note:
            return bottom
        self.ensurePolished()  # the style sheet's font and padding
        width = max(min(parent.width() - 2 * MARGIN, MAX_WIDTH), 40)
        self.setText(self.note)
        line = self.fontMetrics().lineSpacing()
        if self.heightForWidth(width) > (MAX_LINES + 1) * line:  # a narrow canvas
            self.setText(DETAIL.sub("", self.note))
        self.setWordWrap(False)  # Qt's own one-line width (the text's advance plus padding
        one_line = self.sizeHint().width()  # was a few pixels short: a short hint wrapped)
        self.setWordWrap(True)
        width = min(width, one_line)  # a short note: a short badge
        self.resize(width, self.heightForWidth(width))
        self.move(MARGIN, max(bottom - self.height(), 0))
        return self.y() - MARGIN // 2


class ImageNote(CanvasBadge):
    """The shown image's note, in amber, while that image is shown."""

    def __init__(self, parent: QWidget) -> None:
        super().__init__(parent, "imageNote", "#f0d080")

    def show_note(self, note: str) -> None:
        """Show an image's note (``desktop.images.NOTE_KEY``: what is wrong with it, without
        its file name); an empty note hides the badge."""
        self.show_text(f"Image: {note}" if note else "")

    def clear_note(self) -> None:
        """No note (another image, or none shown)."""
        self.show_text("")


class CanvasHint(CanvasBadge):
    """The canvas's sentence: a passing one (a refusal, a tool's use, a toggle) for
    :data:`HINT_MS`, over a standing one (the canvas shows another image than the selected
    suspect's) that stays while its state lasts."""

    def __init__(self, parent: QWidget) -> None:
        super().__init__(parent, "canvasHint", "#f0f0f0")
        self.standing = ""
        self.timer = QTimer(self, singleShot=True, interval=HINT_MS)
        self.timer.timeout.connect(self._passed)

    def say(self, text: str) -> None:
        """Show a passing sentence; the standing one comes back after it."""
        self.timer.start()
        self.show_text(text)

    def set_standing(self, text: str) -> None:
        """The sentence shown while nothing passes ("" for none)."""
        self.standing = text
        if not self.timer.isActive():
            self.show_text(text)

    def _passed(self) -> None:
        self.show_text(self.standing)
