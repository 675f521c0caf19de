"""The inspector's "Found by": one prediction set a line with its score, fitted to the width it
gets. A narrow inspector elides the set's name, never the numbers (the tooltip has the whole
lines); one too narrow for that puts the numbers under the name (two or three lines a set).
Word wrap broke names mid-word and spread one set over three lines, numbers split."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtGui import QFontMetrics, QResizeEvent
from PySide6.QtWidgets import QLabel, QSizePolicy, QWidget

MIN_NAME = 10  # characters of a name (with "…") kept beside its numbers ("cent…" told nothing)
INDENT = "  "  # numbers under their set's name
SEP = " · "  # between a set's numbers


def fit_line(
    name: str,
    numbers: str,
    width: int,
    fm: QFontMetrics,
    elide: Qt.TextElideMode = Qt.TextElideMode.ElideRight,
) -> list[str]:
    """A set's line "name: numbers" in ``width`` pixels: whole, else with the name elided,
    else the (elided) name on one line and the numbers indented on the next (without the
    word "score" when they need the room), else each number on a line of its own."""
    if not numbers:  # a sentence, not a set (e.g. found from the image's edges)
        return _wrap(name, width, fm, elide)
    whole = f"{name}: {numbers}"
    if fm.horizontalAdvance(whole) <= width:
        return [whole]
    tail = f": {numbers}"
    room = width - fm.horizontalAdvance(tail)
    if room >= fm.horizontalAdvance(name[: MIN_NAME - 1] + "…"):
        return [fm.elidedText(name, Qt.TextElideMode.ElideRight, room) + tail]
    head = fm.elidedText(name, Qt.TextElideMode.ElideRight, width)
    under = INDENT + numbers  # too narrow for both: the numbers under the name
    if fm.horizontalAdvance(under) > width:
        under = INDENT + numbers.removeprefix("score ")  # the Score row's word
    if fm.horizontalAdvance(under) <= width:
        return [head, under]
    parts = [INDENT + part for part in numbers.split(SEP)]  # narrower still: one a line
    return [head, *(fm.elidedText(p, Qt.TextElideMode.ElideRight, width) for p in parts)]


def _wrap(text: str, width: int, fm: QFontMetrics, elide: Qt.TextElideMode) -> list[str]:
    """Greedy word wrap (a word longer than the width is elided)."""
    lines: list[str] = []
    for word in text.split():
        if lines and fm.horizontalAdvance(f"{lines[-1]} {word}") <= width:
            lines[-1] = f"{lines[-1]} {word}"
        else:
            lines.append(fm.elidedText(word, elide, width))
    return lines or [""]


class FoundBy(QLabel):
    """The prediction sets that found a suspect, fitted again whenever its width changes; with
    ``elide`` ElideLeft, also a file name that must not hold the inspector wide (its end tells
    it, as in the suspects table)."""

    def __init__(
        self,
        parent: QWidget | None = None,
        elide: Qt.TextElideMode = Qt.TextElideMode.ElideRight,
    ) -> None:
        super().__init__(parent)
        self.elide = elide  # a word (a name without spaces) wider than the inspector
        self.setTextFormat(Qt.TextFormat.PlainText)
        self.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        # the width is the layout's to give (the lines fit it), not the text's to ask
        self.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
        self.setMinimumWidth(40)
        self.entries: list[tuple[str, str]] = []  # (set name, "score 0.78 · conf. 0.33")

    def set_entries(self, entries: list[tuple[str, str]]) -> None:
        """Show these sets (name, numbers); a sentence instead has no numbers."""
        self.entries = entries
        self.setToolTip("\n".join(f"{n}: {x}" if x else n for n, x in entries))
        self._fit()

    def resizeEvent(self, event: QResizeEvent) -> None:  # noqa: N802 (Qt's name)
        super().resizeEvent(event)
        self._fit()

    def _fit(self) -> None:
        width, fm = max(self.contentsRect().width(), 1), self.fontMetrics()
        lines = [line for n, x in self.entries for line in fit_line(n, x, width, fm, self.elide)]
        text = "\n".join(lines) or "—"
        if text != self.text():
            self.setText(text)
